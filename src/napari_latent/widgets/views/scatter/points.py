"""A points visual whose selection is one float attribute: recolouring uploads N floats.

Positions and colours are uploaded when they change (a new map, a new colour-by column);
a new selection only uploads the ``a_selected`` attribute (4 bytes a point). Two nodes
share the buffers: the lower one draws the unselected points grey, the upper one the
selected points in their colours, so the selection is on top while the draw order inside
each pass stays the subject order (stable: no re-sorting, no rebuilding of the visual).
With no selection the lower node draws every point in its colour and the upper is hidden.
"""

from __future__ import annotations

import numpy as np
from vispy import gloo, scene
from vispy.visuals import Visual

__all__ = ["SelectionPoints"]

_VERT = """
uniform float u_size;
uniform float u_antialias;
uniform float u_px_scale;
uniform float u_pass;  // -1: every point, own colour; 0: unselected, grey; 1: selected, own colour
uniform vec4 u_grey;
attribute vec2 a_position;
attribute vec4 a_color;
attribute float a_selected;
varying vec4 v_color;
varying float v_size;
varying float v_total;

void main() {
    v_size = u_size * u_px_scale;
    v_total = v_size + 2.0 * u_antialias + 1.0;
    v_color = (u_pass == 0.0) ? u_grey : a_color;
    bool skip = u_pass >= 0.0 && abs(a_selected - u_pass) > 0.5;
    if (skip || a_position.x != a_position.x || a_position.y != a_position.y) {
        gl_Position = vec4(2.0, 2.0, 2.0, 1.0);  // outside the clip volume: culled
        gl_PointSize = 0.0;
    } else {
        gl_Position = $transform(vec4(a_position, 0.0, 1.0));
        gl_PointSize = v_total;
    }
}
"""

_FRAG = """
uniform float u_antialias;
varying vec4 v_color;
varying float v_size;
varying float v_total;

void main() {
    float r = length(gl_PointCoord - vec2(0.5)) * v_total - 0.5 * v_size;
    if (r > u_antialias) discard;
    float alpha = r > -u_antialias ? clamp(0.5 - 0.5 * r / max(u_antialias, 1e-3), 0.0, 1.0) : 1.0;
    gl_FragColor = vec4(v_color.rgb, v_color.a * alpha);
}
"""


class _PassVisual(Visual):
    """One pass over shared buffers (see :class:`SelectionPoints`)."""

    def __init__(self, buffers: dict[str, gloo.VertexBuffer], antialias: float):
        Visual.__init__(self, vcode=_VERT, fcode=_FRAG)
        self._draw_mode = "points"
        self.set_gl_state("translucent", depth_test=False)
        for name, vbo in buffers.items():
            self.shared_program[name] = vbo
        self.shared_program["u_antialias"] = float(antialias)
        self.shared_program["u_size"] = 6.0
        self.shared_program["u_pass"] = -1.0
        self.shared_program["u_grey"] = (0.5, 0.5, 0.5, 0.5)

    def _prepare_transforms(self, view) -> None:
        view.view_program.vert["transform"] = view.get_transform()

    def _prepare_draw(self, view) -> bool:
        view.view_program["u_px_scale"] = view.transforms.pixel_scale
        return True

    def _compute_bounds(self, axis: int, view):
        return None


_PassNode = scene.visuals.create_visual_node(_PassVisual)


class SelectionPoints:
    """Every point of a scatter in two passes over shared GPU buffers.

    Parameters
    ----------
    parent : the scene node to draw in.
    antialias : antialiasing width of the discs in pixels.
    """

    def __init__(self, parent, antialias: float = 0.7):
        self._buffers = {
            "a_position": gloo.VertexBuffer(np.zeros((1, 2), np.float32)),
            "a_color": gloo.VertexBuffer(np.zeros((1, 4), np.float32)),
            "a_selected": gloo.VertexBuffer(np.zeros(1, np.float32)),
        }
        self.lower = _PassNode(self._buffers, antialias, parent=parent)
        self.upper = _PassNode(self._buffers, antialias, parent=parent)
        self.upper.visible = False
        self._n = 0
        self._has_selection = False
        self.uploads: dict[str, int] = {"a_position": 0, "a_color": 0, "a_selected": 0}

    @property
    def nodes(self) -> tuple:
        return self.lower, self.upper

    def set_order(self, order: int) -> None:
        """Draw order among the sibling visuals (the upper pass goes right above the lower)."""
        self.lower.order, self.upper.order = order, order

    def _upload(self, name: str, data: np.ndarray) -> None:
        self._buffers[name].set_data(np.ascontiguousarray(data))
        self.uploads[name] += 1

    def set_positions(self, pos: np.ndarray) -> None:
        """(N, 2) float32 positions (NaN: not drawn)."""
        resized = len(pos) != self._n
        self._n = len(pos)
        if self._n:
            self._upload("a_position", np.asarray(pos, np.float32))
            if resized:  # every attribute must have N rows
                self._has_selection = False
                self._upload("a_selected", np.zeros(self._n, np.float32))
                if self._buffers["a_color"].size != self._n:
                    self._upload("a_color", np.ones((self._n, 4), np.float32))
        self._update_visibility()

    def set_colours(self, rgba: np.ndarray) -> None:
        """(N, 4) float32 colours of the points (opacity applied)."""
        if len(rgba) and len(rgba) == self._n:
            self._upload("a_color", np.asarray(rgba, np.float32))

    def set_selection(self, mask: np.ndarray | None) -> None:
        """Boolean (N,) selection (None: no selection, every point in its colour)."""
        self._has_selection = mask is not None
        if mask is not None and len(mask) == self._n and self._n:
            self._upload("a_selected", mask.astype(np.float32))
        for node, p in zip(self.nodes, (0.0, 1.0) if self._has_selection else (-1.0, 1.0)):
            node.shared_program["u_pass"] = p
        self._update_visibility()

    def set_style(self, size: float, grey: np.ndarray) -> None:
        """Disc diameter (px) and the RGBA of unselected points."""
        for node in self.nodes:
            node.shared_program["u_size"] = float(size)
            node.shared_program["u_grey"] = tuple(float(c) for c in grey)
            node.update()

    def _update_visibility(self) -> None:
        self.lower.visible = self._n > 0
        self.upper.visible = self._n > 0 and self._has_selection
        self.lower.update()
        self.upper.update()
