"""EmbeddingScatter: one latent space's 2-D map, every subject a point, brushable.

A thin view over an :class:`~napari_latent.explorer.Explorer`: it holds view settings
only (space, colour-by column, tool, marker size and opacity) and re-renders from the
Explorer's events; lasso, box, click and Esc call ``Explorer.select``/``focus``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from qtpy.QtCore import Signal
from qtpy.QtWidgets import QWidget
from vispy import scene

from .artist import default_point_size
from ..._qt.binding import ExplorerBinding
from .compute import ProjectionRunner, available_methods
from .controls import NO_COLUMN, ScatterControls
from .legend import column_title, map_title, subject_summary, subtitle
from .overlays import Legend
from .plot import ScatterPlot
from .selectors import CanvasController, points_in_box, points_in_polygon

if TYPE_CHECKING:
    from ....analysis.projection import ProjectionResult
    from ....explorer import Explorer

__all__ = ["EmbeddingScatter"]

CLICK_RADIUS_PX = 8.0
_DEFAULT_COLUMNS = ("sex", "age")


class EmbeddingScatter(QWidget):
    """A vispy scatter of one latent space's projection (every point drawn, up to 100,000+).

    Colour by any table column; unselected points are greyed, not hidden; lasso, box and
    click select through the Explorer (Shift adds, Alt/Ctrl subtracts, Esc clears); hover
    names the subject. ``Compute`` runs PCA or (streaming) t-SNE in a worker.

    Signals: ``layout_streamed(iteration)`` when an intermediate t-SNE layout is drawn,
    ``projection_finished(result)`` once installed in the Explorer, ``projection_cancelled()``,
    ``hovered(index or None)``, ``clusters_found(clusters)`` once clusters are labelled.
    """

    layout_streamed = Signal(int)
    clusters_found = Signal(object)
    projection_finished = Signal(object)
    projection_cancelled = Signal()
    hovered = Signal(object)

    def __init__(self, explorer: Explorer, space: str = "fused", parent: QWidget | None = None):
        super().__init__(parent)
        self._explorer = explorer
        self._space = space
        table = explorer.table
        self._colour_by: str | None = next((c for c in _DEFAULT_COLUMNS if c in table.columns), None)
        self._streaming: tuple[int, int] | None = None  # (iteration, total) while t-SNE streams
        self._hover_index: int | None = None
        self._user_size = False

        self._plot = plot = ScatterPlot()
        self._mouse = CanvasController(
            plot.canvas, plot.camera, to_data=plot.canvas_to_data,
            on_lasso=self.lasso, on_box=self.box, on_click=self.click,
            on_hover=self._hover_at, on_outline=plot.artist.set_outline, on_key=self._key,
        )  # fmt: skip
        plot.canvas.events.mouse_double_click.connect(lambda _e: self.reset_view())

        self._runner = ProjectionRunner(self)
        self._runner.streamed.connect(self._on_streamed)
        self._runner.progressed.connect(lambda done, total: self._controls.set_progress(done, total))
        self._runner.finished.connect(self._on_computed)
        self._runner.cancelled.connect(self._on_cancelled)
        self._runner.failed.connect(lambda _message: self._restore())

        self._controls = c = ScatterControls(self, available_methods())
        c.layout(self, plot.canvas.native)
        plot.canvas.native.setMinimumSize(240, 200)
        c.colour_by.currentTextChanged.connect(lambda t: self.set_colour_by(None if t == NO_COLUMN else t))
        c.space.currentTextChanged.connect(self.set_space)
        c.tools.buttonClicked.connect(lambda b: self.set_tool(b.text().lower()))
        c.reset.clicked.connect(self.reset_view)
        c.clear.clicked.connect(self.clear_selection)
        c.size.valueChanged.connect(lambda v: self.set_point_size(v, user=True))
        c.opacity.valueChanged.connect(self.set_opacity)
        c.method.currentIndexChanged.connect(lambda _i: c.method_changed())
        c.compute.clicked.connect(lambda: self.compute(c.method.currentData()))
        c.cancel.clicked.connect(self.cancel)
        c.density.toggled.connect(self.set_density)
        c.find_on_map.triggered.connect(lambda: self.find_clusters("map"))
        c.find_in_latents.triggered.connect(lambda: self.find_clusters("latent"))
        c.clusters_to_groups.triggered.connect(lambda: self.clusters_to_groups())
        c.hide_clusters.triggered.connect(self.clear_clusters)
        self._clusters: list = []
        self._cluster_worker = None
        c.method_changed()

        ev = explorer.events
        self._binding = ExplorerBinding(
            [(ev.selection, self._on_selection), (ev.focus, self._on_focus),
             (ev.projection, self._on_projection), (ev.embeddings, self._on_embeddings),
             (ev.model, self._on_model), (ev.cohort, self._on_cohort)],
            owner=self,
        )  # fmt: skip
        self._connect_explorer()
        self.set_tool("pan")

    # ------------------------------------------------------------------ public state
    @property
    def explorer(self) -> Explorer:
        return self._explorer

    @property
    def space(self) -> str:
        """The latent space shown (``"fused"``, ``"mri"``, ``"ecg"``)."""
        return self._space

    @property
    def source(self) -> str:
        """The ``source`` this view passes to ``Explorer.select``."""
        return f"scatter:{self._space}"

    @property
    def colour_by(self) -> str | None:
        return self._colour_by

    @property
    def coords(self) -> np.ndarray:
        """(N, 2) coordinates shown (a streamed t-SNE layout while one is running)."""
        return self._plot.artist.coords

    @property
    def face_colours(self) -> np.ndarray:
        """(N, 4) RGBA each subject is drawn with (greyed when unselected)."""
        return self._plot.artist.face_colours

    @property
    def draw_order(self) -> np.ndarray:
        """Subject indices in drawing order: unselected first, selected on top."""
        return self._plot.artist.draw_order

    @property
    def legend(self) -> Legend:
        """The legend (``kind``, ``entries``, ``limits``)."""
        return self._plot.legend

    @property
    def tool(self) -> str:
        return self._mouse.tool

    @property
    def canvas(self) -> scene.SceneCanvas:
        return self._plot.canvas

    @property
    def point_size(self) -> float:
        return self._plot.artist.size

    @property
    def opacity(self) -> float:
        return self._plot.artist.opacity

    @property
    def hover_text(self) -> str:
        """What the hover label says now (empty when nothing is hovered)."""
        return subject_summary(self._explorer.table, self._hover_index, self._colour_by)

    @property
    def computing(self) -> bool:
        """True while a projection runs in a worker."""
        return self._runner.running

    # ------------------------------------------------------------------ view settings
    def set_space(self, space: str) -> None:
        """Show another latent space (its projection; PCA is computed if it has none)."""
        if space == self._space or not space:
            return
        self._runner.cancel()
        self._space = space
        self._controls.set_spaces(sorted(self._explorer.embeddings), space)
        self._show_current()

    def set_colour_by(self, column: str | None) -> None:
        """Colour points by a table column (None: one colour); updates the legend."""
        if column is not None and column not in self._explorer.table.columns:
            raise KeyError(f"no column {column!r} in the subjects table")
        self._colour_by = column
        self._controls.show_colour_by(column)
        self._apply_colours()

    def set_tool(self, tool: str) -> None:
        """Left-button tool: ``"pan"``, ``"lasso"`` or ``"box"``."""
        self._mouse.tool = tool
        self._controls.show_tool(tool)

    def set_point_size(self, size: float, *, user: bool = True) -> None:
        """Marker diameter in screen pixels."""
        self._user_size = self._user_size or user
        self._plot.artist.set_style(size=size)
        self._controls.sync(self._controls.size, size)

    def set_opacity(self, opacity: float) -> None:
        """Marker opacity, 0..1."""
        self._plot.artist.set_style(opacity=opacity)
        self._controls.sync(self._controls.opacity, opacity)

    def set_density(self, on: bool) -> None:
        """Density mode: the points' smoothed density with contours under fainter points."""
        self._plot.artist.set_density(on)
        self._controls.density.blockSignals(True)
        self._controls.density.setChecked(bool(on))
        self._controls.density.blockSignals(False)
        self.canvas.update()

    @property
    def density(self) -> bool:
        return self._plot.artist.density

    # ------------------------------------------------------------------ clusters
    @property
    def clusters(self) -> list:
        """The labelled clusters shown (:class:`napari_latent.analysis.clusters.Cluster`), largest first."""
        return list(self._clusters)

    @property
    def cluster_labels(self) -> list[str]:
        """The texts of the cluster labels drawn on the map."""
        return list(self._plot.cluster_labels.texts)

    def find_clusters(self, on: str = "map", **kwargs: Any):
        """Find clusters (HDBSCAN) on this map (``"map"``) or in this space's latents (``"latent"``), in a worker.

        Each is labelled on the map with the phenotypes that set it apart; ``clusters_found``
        fires when they are shown. ``kwargs`` go to ``analysis.clusters.find_clusters``.
        """
        from ....analysis.clusters import describe_clusters, find_clusters
        from ..._qt.notify import notify_error
        from ..._qt.worker import start_worker

        coords = np.array(self.coords)
        points = coords if on == "map" else self._explorer.embeddings.get(self._space)
        if points is None or len(coords) != len(self._explorer.table) or len(coords) == 0:
            notify_error(f"Nothing to cluster: no {self._space} {'map' if on == 'map' else 'embedding'} yet")
            return None
        table = self._explorer.table
        units = {c: getattr(i, "unit", "") for c, i in self._explorer.cohort.columns.items()}

        def job():
            labels = find_clusters(points, **kwargs)
            return describe_clusters(table, labels, units=units, coords=coords)

        self._cluster_worker = start_worker(
            job, returned=self._show_clusters, error_prefix="Finding clusters failed", desc="Finding clusters"
        )
        return self._cluster_worker

    def _show_clusters(self, clusters: list) -> None:
        self._clusters = list(clusters)
        self._plot.cluster_labels.set_clusters(self._clusters)
        self.canvas.update()
        self.clusters_found.emit(self.clusters)

    def clear_clusters(self) -> None:
        """Hide the cluster labels."""
        self._show_clusters([])

    def select_cluster(self, cluster_id: int, mode: str = "replace") -> np.ndarray:
        """Select the subjects of cluster ``cluster_id``."""
        cluster = next(c for c in self._clusters if c.id == cluster_id)
        return self._explorer.select(cluster.indices, mode=mode, source=self.source)

    def clusters_to_groups(self) -> list:
        """A group of each cluster (named by its strongest trait); returns them."""
        return [self._explorer.add_group(_unique_name(self._explorer, c.name), c.indices) for c in self._clusters]

    def reset_view(self) -> None:
        """Fit every point in the canvas (clear of the title and legend)."""
        self._plot.fit()

    def screenshot(self) -> np.ndarray:
        """The canvas rendered now, as an (H, W, 4) uint8 RGBA array."""
        return self._plot.screenshot()

    def canvas_to_data(self, px: np.ndarray) -> np.ndarray:
        """Canvas pixel positions (M, 2) -> data coordinates (M, 2)."""
        return self._plot.canvas_to_data(px)

    def data_to_canvas(self, xy: np.ndarray) -> np.ndarray:
        """Data coordinates (M, 2) -> canvas pixel positions (M, 2)."""
        return self._plot.data_to_canvas(xy)

    # ------------------------------------------------------------------ selection (data coordinates)
    def lasso(self, polygon: np.ndarray, mode: str = "replace") -> np.ndarray:
        """Select the subjects inside ``polygon`` ((M, 2) data coordinates); returns them."""
        return self._select(points_in_polygon(self.coords, polygon), mode)

    def box(self, x0: float, y0: float, x1: float, y1: float, mode: str = "replace") -> np.ndarray:
        """Select the subjects inside the box with corners (x0, y0), (x1, y1); returns them."""
        return self._select(points_in_box(self.coords, x0, y0, x1, y1), mode)

    def click(self, x: float, y: float, mode: str = "replace") -> int | None:
        """Focus and select the subject nearest (x, y) within a few pixels; returns it or None.

        ``mode="subtract"`` removes it from the selection without focusing it.
        """
        cluster = self._plot.cluster_labels.hit(tuple(self.data_to_canvas([[x, y]])[0]), self.data_to_canvas)
        if cluster is not None:  # a click on a cluster's label selects the cluster
            self.select_cluster(cluster.id, mode)
            return None
        index = self.nearest(x, y, CLICK_RADIUS_PX)
        if index is None:
            return None
        self._explorer.select([index], mode=mode, source=self.source)
        if mode != "subtract":
            self._explorer.focus(index)
        return index

    def nearest(self, x: float, y: float, radius_px: float = CLICK_RADIUS_PX) -> int | None:
        """The subject nearest (x, y) within ``radius_px`` screen pixels, or None."""
        return self._plot.nearest(x, y, radius_px)

    def hover(self, x: float, y: float) -> int | None:
        """Hover at data position (x, y): ring and label the nearest subject; returns it."""
        self._hover_at(tuple(self.data_to_canvas([[x, y]])[0]))
        return self._hover_index

    def clear_selection(self) -> None:
        """Select nothing (Esc)."""
        self._explorer.select(None, source=self.source)

    def _select(self, inside: np.ndarray, mode: str) -> np.ndarray:
        hit = np.flatnonzero(inside)
        self._explorer.select(hit, mode=mode, source=self.source)
        return hit

    # ------------------------------------------------------------------ projections
    def compute(self, method: str = "pca", **params: Any):
        """Compute this space's projection; PCA at once, others in a worker (returned).

        t-SNE layouts stream into the view while it optimises; ``cancel()`` stops it and
        restores the Explorer's current map. ``params`` go to ``analysis.project``.
        """
        from ..._qt.notify import notify_error as show_error

        latents = self._explorer.embeddings.get(self._space)
        if latents is None:
            show_error(f"No {self._space} embedding yet: load a model and embed the cohort first")
            return None
        if method == "pca":
            from ....analysis.projection import project

            try:
                result = project(latents, "pca", **params)
            except ValueError as exc:
                show_error(f"PCA of the {self._space} latents failed: {exc}")
                return None
            self._explorer.set_projection(self._space, result)
            return None
        self._controls.show_method(method)
        if method == "tsne":
            params.setdefault("perplexity", min(self._controls.perplexity.value(), (len(latents) - 1) / 3.0))
        self._controls.set_running(True)
        return self._runner.start(latents, method, label=f"({self._space})", **params)

    def cancel(self) -> None:
        """Stop a running projection; the Explorer's map is shown again."""
        self._runner.cancel()

    def _on_streamed(self, iteration: int, coords: np.ndarray) -> None:
        if len(coords) != len(self._explorer.table):
            return
        self._streaming = (iteration, self._runner.total)
        self._set_coords(coords, fit=True)
        self._update_titles()
        self.layout_streamed.emit(iteration)

    def _on_computed(self, result: ProjectionResult) -> None:
        self._end_run()
        self._explorer.set_projection(self._space, result)
        self._show_result(result)  # the runner still counts as running until its worker finishes
        self.projection_finished.emit(result)

    def _on_cancelled(self) -> None:
        self._restore()
        self.projection_cancelled.emit()

    def _restore(self) -> None:
        """After a cancelled or failed run: show the Explorer's map again."""
        self._end_run()
        self._show_current()

    def _end_run(self) -> None:
        self._streaming = None
        self._controls.set_running(False)

    # ------------------------------------------------------------------ Explorer events
    def _on_cohort(self, _cohort: object = None) -> None:
        table = self._explorer.table
        columns = [c for c in table.columns if c != "subject_id"]
        if self._colour_by not in table.columns:
            self._colour_by = None
        self._controls.set_columns(columns, self._colour_by)
        self._controls.set_spaces(sorted(self._explorer.embeddings), self._space)
        self._show_current()
        self._apply_colours()

    def _on_embeddings(self, embeddings: dict) -> None:
        self._runner.cancel()
        self._controls.set_spaces(sorted(embeddings), self._space)
        self._show_current()

    def _on_model(self, _model: object) -> None:
        # a new model comes with its embeddings (Explorer.set_model) or none: redraw once from both
        self._on_embeddings(self._explorer.embeddings)

    def _on_projection(self, space: str, result: ProjectionResult) -> None:
        if space == self._space and not self._runner.running:
            self._show_result(result)

    def _on_selection(self, _indices: np.ndarray, _source: str) -> None:
        mask = self._explorer.selection_mask
        if len(mask) == len(self.coords):
            self._plot.artist.set_selection(mask)
            self._plot.update_counts(mask)
            self._update_titles()

    def _on_focus(self, index: int | None) -> None:
        self._plot.artist.set_focus(index)

    # ------------------------------------------------------------------ rendering
    def _show_current(self) -> None:
        """Show the Explorer's projection of this space, computing PCA when there is none."""
        result = self._explorer.projections.get(self._space)
        if result is None and self._space in self._explorer.embeddings:
            self.compute("pca")  # emits projection -> _on_projection -> _show_result
            return
        if result is None:
            self._set_coords(np.zeros((0, 2), np.float32), fit=False)
            self._plot.text.set_message(f"No {self._space} embedding — load a model and embed the cohort")
            self._update_titles()
            return
        self._show_result(result)

    def _show_result(self, result: ProjectionResult) -> None:
        if len(result.coords) != len(self._explorer.table):
            n = len(self._explorer.table)
            self._plot.text.set_message(f"The {result.method} map has {len(result.coords):,} points, the cohort {n:,}")
            return
        self._streaming = None
        self._plot.text.set_message("")
        self._controls.show_method(result.method)
        self._set_coords(result.coords, fit=True)
        self._update_titles()

    def _set_coords(self, coords: np.ndarray, *, fit: bool) -> None:
        self._hover_index = None
        if self._clusters:  # labels belong to the map they were found on
            self.clear_clusters()
        if self._plot.set_coords(coords, fit=False) and len(coords):
            if not self._user_size:
                self.set_point_size(default_point_size(len(coords)), user=False)
            self._apply_colours()
            self._on_selection(self._explorer.selection, "")
            self._plot.artist.set_focus(self._explorer.focused)
        if fit:
            self.reset_view()

    def _apply_colours(self) -> None:
        mask = self._explorer.selection_mask
        title = column_title(self._explorer.cohort.columns, self._colour_by)
        self._plot.set_colouring(self._explorer.table, self._colour_by, title, mask)

    def _update_titles(self) -> None:
        result = self._explorer.projections.get(self._space)
        title = map_title(self._space, result, self._streaming)
        self._plot.text.set_title(title, subtitle(len(self.coords), len(self._explorer.selection)))

    # ------------------------------------------------------------------ hover and keys
    def _hover_at(self, canvas_px: tuple[float, float]) -> None:
        if len(self.coords) == 0:
            return
        x, y = self.canvas_to_data([canvas_px])[0]
        index = self.nearest(float(x), float(y), CLICK_RADIUS_PX)
        changed = index != self._hover_index
        self._hover_index = index
        self._plot.show_hover(index, canvas_px, self.hover_text)
        if changed:
            self.hovered.emit(index)

    def _key(self, key: str) -> None:
        """Esc clears the selection; P, L, B pick a tool; R resets the view."""
        tools = {"p": "pan", "l": "lasso", "b": "box"}
        if key == "escape":
            self.clear_selection()
        elif key in tools:
            self.set_tool(tools[key])
        elif key == "r":
            self.reset_view()

    def _connect_explorer(self) -> None:
        """Listen to the Explorer and redraw from its current state."""
        if self._binding.connect():
            self._on_cohort()

    def showEvent(self, event) -> None:
        """A closed view that is shown again listens to the Explorer again."""
        self._connect_explorer()
        super().showEvent(event)

    def closeEvent(self, event) -> None:
        """Stop listening to the Explorer and stop a running projection."""
        self._runner.cancel()
        self._binding.disconnect()
        super().closeEvent(event)


def _unique_name(explorer: Explorer, name: str) -> str:
    taken = {g.name for g in explorer.groups}
    out, k = name, 2
    while out in taken:
        out, k = f"{name} ({k})", k + 1
    return out
