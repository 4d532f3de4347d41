"""The Explorer: one exploration session's state, its events, and the scripting API.

Everything a view shows lives here: the cohort, the model, embeddings and projections per
latent space, the selection, the groups, the focused subject and the current latent
vector. Each change emits a psygnal event; views re-render from the Explorer, so a script
and a click do the same thing. No Qt is imported here.

    ex = Explorer.open(store, "demo")
    ex.select("age > 60 and sex == 'F'")
    ex.focus("D000012")
    out = ex.decode()                    # the focused subject's latent, decoded
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from psygnal import Signal, SignalGroup

from .cohort import Cohort, open_cohort

if TYPE_CHECKING:
    import napari

    from .analysis.directions import Direction
    from .analysis.groups import Group
    from .analysis.probes import ProbeResult
    from .analysis.projection import ProjectionResult
    from .model import MultimodalModel

    #: What ``select`` and ``add_group`` accept.
    Selector = str | Mapping[str, Any] | Sequence[int] | np.ndarray | Group | None

__all__ = ["Explorer", "ExplorerEvents", "SESSION_VERSION"]

SESSION_VERSION = 1


class ExplorerEvents(SignalGroup):
    """Events of an :class:`Explorer`; each carries the new value."""

    cohort = Signal(object)  # Cohort
    model = Signal(object)  # MultimodalModel | None
    embeddings = Signal(object)  # dict[str, np.ndarray]
    projection = Signal(str, object)  # space, ProjectionResult (also intermediate t-SNE layouts)
    selection = Signal(object, str)  # sorted int64 indices, source ("api", "scatter:fused", "chart:sex", ...)
    groups = Signal(object)  # list[Group]
    focus = Signal(object)  # int | None
    latent = Signal(object)  # np.ndarray (D,) | None


class Explorer:
    """A session over one cohort and (optionally) one model. See the module docstring.

    Notes
    -----
    Threads: an Explorer is not thread-safe. Its events fire synchronously in the thread
    that changes it, so with views attached only the Qt (main) thread may change it. Heavy
    work (embedding, projections, training) runs in workers that *return* results; the Qt
    thread then applies them (``set_model``, ``set_embeddings``, ``set_projection``). The
    Qt plumbing enforces this: a view's Explorer slot raises
    ``napari_latent.widgets._qt.binding.WrongThreadError`` when called from another thread.
    Without views (scripts), any single thread may drive it.
    """

    def __init__(self, cohort: Cohort, model: MultimodalModel | None = None):
        self.events = ExplorerEvents()
        self._cohort = cohort
        self._model = model
        self._embeddings: dict[str, np.ndarray] = {}
        self._projections: dict[str, ProjectionResult] = {}
        self._mask = np.zeros(len(cohort), dtype=bool)
        self._selection = np.zeros(0, dtype=np.int64)
        self._groups: list[Group] = []
        self._focus: int | None = None
        self._latent: np.ndarray | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def open(
        cls,
        store: str | os.PathLike | Cohort,
        model: str | os.PathLike | MultimodalModel | None = None,
        *,
        embed: bool = True,
        progress: Callable[[int, int], Any] | None = None,
    ) -> Explorer:
        """Open a store (path or Cohort) with a model (checkpoint path, ``"demo"`` or a model).

        With ``embed`` and a model, the cohort is embedded (or read from the cache).
        """
        from .model.checkpoint import resolve_model

        cohort = store if isinstance(store, Cohort) else open_cohort(store)
        ex = cls(cohort, resolve_model(model, cohort))
        if embed and ex.model is not None:
            ex.embed(progress=progress)
        return ex

    @property
    def cohort(self) -> Cohort:
        return self._cohort

    @property
    def model(self) -> MultimodalModel | None:
        return self._model

    @model.setter
    def model(self, model: MultimodalModel | str | os.PathLike | None) -> None:
        self.set_model(model)

    def set_model(
        self, model: MultimodalModel | str | os.PathLike | None, embeddings: Mapping[str, np.ndarray] | None = None
    ) -> None:
        """Use ``model`` and, optionally, its embedding of the cohort; emits ``model`` once.

        Parameters
        ----------
        model
            A model, a checkpoint folder, ``"demo"`` or None (see
            :func:`napari_latent.model.resolve_model`).
        embeddings
            Latents ``{space: (N, D)}`` computed with ``model`` (e.g. by
            :func:`napari_latent.analysis.load_and_embed` in a worker). Without them the
            Explorer has no embeddings until :meth:`embed`.

        Notes
        -----
        Only the ``model`` event is emitted, after the model and the embeddings are both in
        place: views re-read the embeddings on it, so they redraw once.
        """
        from .model.checkpoint import resolve_model

        resolved = resolve_model(model, self._cohort)
        checked = self._checked_embeddings(embeddings) if embeddings is not None else {}
        self._model = resolved
        self._embeddings, self._projections = checked, {}
        self._latent = None
        self.events.model.emit(self._model)

    @property
    def table(self) -> pd.DataFrame:
        """The subjects table (one row a subject)."""
        return self._cohort.subjects

    def _require_model(self) -> MultimodalModel:
        if self._model is None:
            raise RuntimeError("no model loaded: pass one to Explorer.open(store, model) or set explorer.model")
        return self._model

    # ------------------------------------------------------------------ embeddings and maps
    def embed(
        self,
        *,
        progress: Callable[[int, int], Any] | None = None,
        should_stop: Callable[[], bool] | None = None,
        cache: bool = True,
    ) -> dict[str, np.ndarray]:
        """Embed every subject (posterior means per modality and fused), cached by model hash."""
        from .analysis.embedding import embed_cohort

        self.set_embeddings(
            embed_cohort(self._cohort, self._require_model(), progress=progress, should_stop=should_stop, cache=cache)
        )
        return self._embeddings

    def set_embeddings(self, embeddings: Mapping[str, np.ndarray]) -> None:
        """Use precomputed latents ``{space: (N, D)}`` (e.g. from a worker thread)."""
        self._embeddings = self._checked_embeddings(embeddings)
        self._projections = {}
        self.events.embeddings.emit(self._embeddings)

    def _checked_embeddings(self, embeddings: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        for space, z in embeddings.items():
            if len(z) != len(self._cohort):
                raise ValueError(f"{space} embedding has {len(z)} rows, the cohort {len(self._cohort)} subjects")
        return {k: np.asarray(v, dtype=np.float32) for k, v in embeddings.items()}

    @property
    def embeddings(self) -> dict[str, np.ndarray]:
        """Latents per space: ``"fused"``, ``"mri"``, ``"ecg"`` -> (N, D)."""
        return self._embeddings

    def latents(self, space: str = "fused") -> np.ndarray:
        """The (N, D) latents of one space; embeds first when needed."""
        if not self._embeddings:
            self.embed()
        if space not in self._embeddings:
            raise KeyError(f"no latent space {space!r}; spaces: {sorted(self._embeddings)}")
        return self._embeddings[space]

    def project(
        self,
        space: str = "fused",
        method: str = "pca",
        *,
        callback: Callable[[int, np.ndarray], Any] | None = None,
        should_stop: Callable[[], bool] | None = None,
        **params: Any,
    ) -> ProjectionResult:
        """2-D map of a latent space (``pca``, ``tsne``, ``pacmap``, ``umap``); installed and emitted when done.

        Emits ``events.projection`` on the calling thread: views computing in a worker call
        :func:`napari_latent.analysis.project` there and :meth:`set_projection` on the Qt thread.
        """
        from .analysis.projection import project

        def stream(iteration: int, coords: np.ndarray) -> None:
            if callback is not None:
                callback(iteration, coords)

        result = project(self.latents(space), method, callback=stream, should_stop=should_stop, **params)
        self.set_projection(space, result)
        return result

    def set_projection(self, space: str, result: ProjectionResult) -> None:
        """Install a finished projection (e.g. computed in a worker)."""
        self._projections[space] = result
        self.events.projection.emit(space, result)

    @property
    def projections(self) -> dict[str, ProjectionResult]:
        return self._projections

    # ------------------------------------------------------------------ selection
    @property
    def selection(self) -> np.ndarray:
        """Selected subject indices (sorted, int64)."""
        return self._selection

    @property
    def selection_mask(self) -> np.ndarray:
        """Boolean (N,) mask of the selection."""
        return self._mask

    def select(self, what: Selector = None, *, mode: str = "replace", source: str = "api") -> np.ndarray:
        """Select subjects by query string, column filter, indices, boolean mask or group.

        ``mode`` is ``"replace"``, ``"add"``, ``"subtract"`` or ``"intersect"``. Emits
        ``events.selection(indices, source)`` when the selection changes.
        """
        mask = self._mask_of(what)
        if mode == "add":
            mask = self._mask | mask
        elif mode == "subtract":
            mask = self._mask & ~mask
        elif mode == "intersect":
            mask = self._mask & mask
        elif mode != "replace":
            raise ValueError(f"mode must be 'replace', 'add', 'subtract' or 'intersect', not {mode!r}")
        if np.array_equal(mask, self._mask):
            return self._selection
        self._mask = mask
        self._selection = np.flatnonzero(mask)
        self.events.selection.emit(self._selection, source)
        return self._selection

    def _mask_of(self, what: Selector) -> np.ndarray:
        from .analysis.groups import Group, group_from_filter, group_from_query

        n = len(self._cohort)
        if what is None:
            return np.zeros(n, dtype=bool)
        if isinstance(what, str):
            what = group_from_query(self.table, what)
        elif isinstance(what, Mapping):
            what = group_from_filter(self.table, what)
        if isinstance(what, Group):
            what = what.indices
        arr = np.asarray(what)
        if arr.dtype == bool:
            if arr.shape != (n,):
                raise ValueError(f"a boolean mask needs shape ({n},), got {arr.shape}")
            return arr.copy()
        idx = arr.astype(np.int64, copy=False).ravel()
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise IndexError(f"subject index out of range 0..{n - 1}")
        mask = np.zeros(n, dtype=bool)
        mask[idx] = True
        return mask

    # ------------------------------------------------------------------ groups
    @property
    def groups(self) -> list[Group]:
        """User-defined groups, in creation order (a copy: use add_group / remove_group)."""
        return list(self._groups)

    def group(self, name: str) -> Group:
        """The group called ``name``."""
        for g in self._groups:
            if g.name == name:
                return g
        raise KeyError(f"no group {name!r}; groups: {[g.name for g in self._groups]}")

    def add_group(self, name: str | None = None, what: Selector = ..., *, colour: str | None = None) -> Group:
        """Make a group from a selector (default: the current selection) and add it."""
        from .analysis.groups import GROUP_COLOURS, Group, group_from_filter, group_from_indices, group_from_query

        if isinstance(what, Group):
            name = name or what.name
        name = name or self._next_group_name()
        if any(g.name == name for g in self._groups):
            raise ValueError(f"a group called {name!r} exists already")
        colour = colour or GROUP_COLOURS[len(self._groups) % len(GROUP_COLOURS)]
        if what is ...:
            group = group_from_indices(self._selection, name=name, colour=colour)
        elif isinstance(what, str):
            group = group_from_query(self.table, what, name=name, colour=colour)
        elif isinstance(what, Mapping):
            group = group_from_filter(self.table, what, name=name, colour=colour)
        elif isinstance(what, Group):
            group = what
        else:
            group = group_from_indices(np.flatnonzero(self._mask_of(what)), name=name, colour=colour)
        self._groups.append(group)
        self.events.groups.emit(self.groups)
        return group

    def update_group(self, name: str, *, new_name: str | None = None, colour: str | None = None) -> Group:
        """Rename and/or recolour a group in place (its position in the list is kept)."""
        import dataclasses

        group = self.group(name)
        if new_name is not None:
            if not new_name.strip():
                raise ValueError("a group needs a name")
            if new_name != name and any(g.name == new_name for g in self._groups):
                raise ValueError(f"a group called {new_name!r} exists already")
        changed = dataclasses.replace(group, name=new_name or group.name, colour=colour or group.colour)
        self._groups[self._groups.index(group)] = changed
        self.events.groups.emit(self.groups)
        return changed

    def remove_group(self, name: str) -> None:
        self._groups.remove(self.group(name))
        self.events.groups.emit(self.groups)

    def _next_group_name(self) -> str:
        names = {g.name for g in self._groups}
        return next(f"group {i}" for i in range(1, len(names) + 2) if f"group {i}" not in names)

    def summarize(
        self, group: str | Group, columns: Sequence[str] | None = None, *, rest: str | Group | None = None
    ) -> pd.DataFrame:
        """Phenotypes of a group against the rest of the cohort (or group ``rest``), with effect sizes and tests."""
        from .analysis.groups import summarize

        other = None if rest is None else self._as_group(rest)
        return summarize(self._as_group(group), self.table, columns, rest=other)

    def _as_group(self, group: str | Group) -> Group:
        return self.group(group) if isinstance(group, str) else group

    # ------------------------------------------------------------------ focus and the current latent
    @property
    def focused(self) -> int | None:
        """Row index of the focused subject, or None."""
        return self._focus

    def focus(self, subject: int | str | None) -> int | None:
        """Focus a subject (row index or id); the current latent becomes its fused latent."""
        index = None if subject is None else (int(subject) if isinstance(subject, int | np.integer) else self._cohort.index_of(subject))
        if index is not None and not 0 <= index < len(self._cohort):
            raise IndexError(f"subject index {index} out of range 0..{len(self._cohort) - 1}")
        self._focus = index
        self.events.focus.emit(index)
        if index is not None and self._embeddings and self._model is not None:
            self.latent = self._embeddings["fused"][index]
        return index

    @property
    def latent(self) -> np.ndarray | None:
        """The current latent vector (D,) that the decoded views show; settable."""
        return self._latent

    @latent.setter
    def latent(self, z: np.ndarray | Sequence[float] | None) -> None:
        if z is not None:
            z = np.array(z, dtype=np.float32).ravel()
            dim = self._require_model().latent_dim
            if z.shape != (dim,):
                raise ValueError(f"latent has shape {z.shape}, the model's latent space ({dim},)")
        self._latent = z
        self.events.latent.emit(z)

    def set_latent_dimension(self, dim: int, value: float) -> None:
        """Change one dimension of the current latent (what a slider dot does)."""
        if self._latent is None:
            raise RuntimeError("no current latent: focus a subject or set explorer.latent first")
        z = self._latent.copy()
        z[dim] = value
        self.latent = z

    def reset_latent(self, to: str | int | Group | None = None) -> np.ndarray:
        """Reset the latent to the focused subject (default), a subject, or a group's mean."""
        if to is None:
            if self._focus is None:
                raise RuntimeError("no focused subject to reset to")
            to = self._focus
        if isinstance(to, int | np.integer):
            z = self.latents()[int(to)]
        elif isinstance(to, str) and any(g.name == to for g in self._groups):
            z = self.group_mean(to)
        elif isinstance(to, str):
            z = self.latents()[self._cohort.index_of(to)]
        else:
            z = self.group_mean(to)
        self.latent = z
        return self._latent

    def group_mean(self, group: str | Group, space: str = "fused") -> np.ndarray:
        """Mean latent of a group."""
        from .analysis.groups import group_mean

        return group_mean(self.latents(space), self._as_group(group))

    # ------------------------------------------------------------------ decoding
    def decode(self, z: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Decode ``z`` (default: the current latent) to ``{"ecg": (12, 600) mV, "mri": (50, 96, 96)}``."""
        z = self._latent if z is None else z
        if z is None:
            raise RuntimeError("nothing to decode: pass z, focus a subject or set explorer.latent")
        return self._require_model().decode_numpy(np.asarray(z, dtype=np.float32))

    def reconstruct(self, subject: int | str) -> dict[str, np.ndarray]:
        """A subject encoded from both modalities and decoded to both."""
        i = subject if isinstance(subject, int | np.integer) else self._cohort.index_of(subject)
        return self.decode(self.latents()[int(i)])

    def translate(self, *, ecg: np.ndarray | None = None, mri: np.ndarray | None = None) -> np.ndarray:
        """Cross-modal decoding: an ECG median beat (12, 600) to a cine, or a cine to a median beat."""
        if (ecg is None) == (mri is None):
            raise ValueError("give exactly one of ecg= or mri=")
        model = self._require_model()
        return model.translate_numpy("ecg", "mri", ecg) if ecg is not None else model.translate_numpy("mri", "ecg", mri)

    # ------------------------------------------------------------------ analysis
    def probe(self, column: str, space: str = "fused", **kwargs: Any) -> ProbeResult:
        """How well a latent space predicts a column (R² or AUROC), k-fold."""
        from .analysis.probes import probe

        return probe(self.latents(space), self.table[column], **kwargs)

    def direction(self, column: str, space: str = "fused", **kwargs: Any) -> Direction:
        """A unit latent direction along which the column's predicted value rises."""
        from .analysis.directions import phenotype_direction

        return phenotype_direction(self.latents(space), self.table[column], **kwargs)

    def interpolate(self, group_a: str | Group, group_b: str | Group, steps: int = 7, *, decode: bool = True):
        """Latents from group A's mean to group B's; decoded too when ``decode``.

        Returns ``(latents (steps, D), decoded dict or None)``.
        """
        from .analysis.groups import interpolate

        z = interpolate(self.group_mean(group_a), self.group_mean(group_b), steps)
        return z, (self._require_model().decode_numpy(z) if decode else None)

    def neighbours(self, subject: int | str, k: int = 10, space: str = "fused") -> np.ndarray:
        """Row indices of the ``k`` nearest subjects in a latent space (the subject excluded)."""
        from .analysis.neighbours import nearest

        i = subject if isinstance(subject, int | np.integer) else self._cohort.index_of(subject)
        idx, _ = nearest(self.latents(space), self.latents(space)[int(i)], k=k + 1)
        idx = np.asarray(idx).ravel()
        return idx[idx != int(i)][:k]

    # ------------------------------------------------------------------ sessions
    def session(self) -> dict[str, Any]:
        """The session as JSON-able data: groups, selection, focus, current latent."""
        return {
            "napari_latent_session": SESSION_VERSION,
            "cohort": {"path": str(self._cohort.path) if self._cohort.path else None, "fingerprint": self._cohort.fingerprint()},
            "model": None if self._model is None else {"fingerprint": self._model.fingerprint()},
            "selection": self._selection.tolist(),
            "groups": [g.to_dict() for g in self._groups],
            "focus": self._focus,
            "latent": None if self._latent is None else self._latent.tolist(),
        }

    def save_session(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the session to a JSON file (atomically; an existing file needs ``overwrite``)."""
        from ._atomic import replace_file

        text = json.dumps(self.session(), indent=1)
        return replace_file(Path(path), lambda tmp: tmp.write_text(text), overwrite=overwrite)

    def load_session(self, path: str | os.PathLike) -> None:
        """Restore groups, selection, focus and latent from :meth:`save_session`'s file."""
        from .analysis.groups import Group

        path = Path(path)
        try:
            data = json.loads(path.read_text())
            version = data["napari_latent_session"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a napari-latent session file ({exc})") from exc
        if version > SESSION_VERSION:
            raise ValueError(f"{path}: session version {version} is newer than this napari-latent reads")
        fp = data.get("cohort", {}).get("fingerprint")
        if fp and fp != self._cohort.fingerprint():
            raise ValueError(f"{path}: the session belongs to another cohort (fingerprint {fp})")
        self._groups = [Group.from_dict(g) for g in data.get("groups", [])]
        self.events.groups.emit(self.groups)
        self.select(np.asarray(data.get("selection", []), dtype=np.int64), source="session")
        if data.get("focus") is not None:
            self._focus = int(data["focus"])
            self.events.focus.emit(self._focus)
        if data.get("latent") is not None and self._model is not None:
            self.latent = data["latent"]

    # ------------------------------------------------------------------ GUI
    def show(self, viewer: napari.viewer.Viewer | None = None) -> napari.viewer.Viewer:
        """Dock this session's views in ``viewer`` (a new viewer by default).

        The same as :func:`napari_latent.show` (the view layer, which the Explorer does not import).
        """
        import napari_latent

        return napari_latent.show(self, viewer)

    def __repr__(self) -> str:
        model = "no model" if self._model is None else repr(self._model)
        return f"Explorer({self._cohort!r}, {model}, selected={len(self._selection)}, groups={len(self._groups)})"
