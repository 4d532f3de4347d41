"""Run the napari-latent benchmark suite from a source checkout (same as ``napari-latent bench``).

    python benchmarks/run.py [--quick] [--only store,decode,...] [--out DIR]

GUI groups (scatter, slider) need a display; on a headless machine::

    xvfb-run -a -s "-screen 0 1920x1080x24" python benchmarks/run.py

The benchmarks themselves live in ``napari_latent.bench`` so an installed package can run them.
"""

from __future__ import annotations

import sys

from napari_latent.bench.runner import main

if __name__ == "__main__":
    sys.exit(main())
