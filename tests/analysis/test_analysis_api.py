"""The analysis package's public API and its layer rule (no torch, Qt or napari)."""

from __future__ import annotations

import subprocess
import sys

import napari_latent.analysis as analysis


def test_public_names_resolve():
    for name in analysis.__all__:
        assert getattr(analysis, name) is not None, name


def test_import_stays_in_its_layer():
    code = (
        "import sys, napari_latent.analysis as a\n"
        "[getattr(a, n) for n in a.__all__]\n"
        "heavy = ('torch', 'qtpy', 'napari', 'vispy', 'openTSNE', 'umap', 'pacmap')\n"
        "bad = sorted(m for m in heavy if m in sys.modules)\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
