"""Screenshot of the full demo layout with a selection, for docs/images/demo_layout.png.

Run under a display (or ``xvfb-run -a -s "-screen 0 1920x1200x24"``):
    python scripts/screenshot_demo.py [OUT.png]
"""

from __future__ import annotations

import sys

import napari
from qtpy.QtCore import QTimer

from napari_latent.cohort.synthetic import demo_cohort
from napari_latent.explorer import Explorer


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else "docs/images/demo_layout.png"
    ex = Explorer.open(demo_cohort(), "demo")
    viewer = ex.show()
    viewer.window.resize(1800, 1100)
    ex.select("prior_mi", source="script")
    ex.focus(int(ex.selection[0]))

    def save() -> None:
        viewer.screenshot(out, canvas_only=False)
        viewer.close()

    QTimer.singleShot(5000, save)
    napari.run()


if __name__ == "__main__":  # the demo cohort is generated in spawned worker processes
    main()
