"""docs/scripting.md runs end to end, headless, on the demo cohort with the shipped model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "scripting.md"


def test_scripting_guide_runs(capsys):
    from napari_latent.model import demo_model_path

    if not (demo_model_path() / "weights.safetensors").is_file():
        pytest.fail("the demo model is not shipped: run scripts/train_demo_model.py")
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 6
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    out = capsys.readouterr().out
    assert "heart rate R² =" in out
    assert namespace["decoded"]["mri"].shape == (50, 96, 96)
    assert namespace["hr"].score > 0.5
