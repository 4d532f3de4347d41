"""The benchmark suite: `napari-latent bench` writes JSON + Markdown with the machine and every row.

No test asserts a time; they check that the suite runs, records what it ran on, keeps going
when a group fails, skips GUI groups without a display and never overwrites a report.
"""

from __future__ import annotations

import json
import math
import sys

import pytest

from napari_latent.bench import BenchReport, BenchRow, run_bench
from napari_latent.cli import main as cli_main

MACHINE_KEYS = {
    "date",
    "cpu_model",
    "cpu_cores",
    "ram_gib",
    "gpu",
    "load_avg_start",
    "load_avg_end",
    "torch_version",
    "napari_version",
    "vispy_version",
}


def _reports(folder):
    return sorted(folder.glob("bench-*.json")), sorted(folder.glob("bench-*.md"))


def test_quick_run_writes_json_and_markdown(tmp_path, capsys):
    out = tmp_path / "reports"
    assert cli_main(["bench", "--quick", "--only", "decode,store", "--out", str(out)]) == 0
    (json_path,), (md_path,) = _reports(out)
    assert json_path.stem == md_path.stem
    report = json.loads(json_path.read_text())
    assert report["quick"] is True
    assert report["groups"] == ["store", "decode"]  # run order is the suite's, not the command line's
    assert MACHINE_KEYS <= set(report["machine"])
    assert report["machine"]["cpu_cores"] >= 1
    assert "opengl_renderer" not in report["machine"]  # no GUI group ran
    rows = report["rows"]
    assert {r["group"] for r in rows} == {"store", "decode"}
    assert all(r["status"] == "ok" and r["value"] > 0 for r in rows)
    assert set(rows[0]) == {"group", "name", "value", "unit", "baseline", "baseline_value", "ratio", "notes", "status"}
    opened = [r for r in rows if r["name"].startswith("open a 100,000-subject store")]
    assert len(opened) == 1 and opened[0]["unit"] == "s"
    decode = [r for r in rows if r["group"] == "decode"]
    assert {r["unit"] for r in decode} == {"ms"}
    assert any("1 thread, median" in r["name"] for r in decode)
    for r in decode:  # rows beside a baseline carry value / baseline as the ratio
        if r["baseline_value"] is not None:
            assert r["ratio"] == pytest.approx(r["value"] / r["baseline_value"])
    md = md_path.read_text()
    assert "| group | name | value | unit | baseline | baseline value | ratio | notes |" in md
    assert report["machine"]["cpu_model"] in md
    for r in rows:
        assert r["name"] in md
    assert str(json_path) in capsys.readouterr().out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a display is assumed off Linux")
def test_gui_groups_without_a_display_are_skipped(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    report = run_bench("slider,scatter", quick=True, log=lambda _m: None)
    assert [r.group for r in report.rows] == ["scatter", "slider"]
    assert all(r.status == "skipped" and r.value is None and "no display" in r.notes for r in report.rows)
    assert report.failed == []
    assert "| skipped |" in report.to_markdown()


def test_a_failing_group_is_an_error_row_and_the_run_goes_on(tmp_path, monkeypatch, capsys):
    from napari_latent.bench import decode

    def broken(ctx):
        ctx.add("a first measurement", 1.5, "ms")
        raise RuntimeError("the demo model is corrupt")

    monkeypatch.setattr(decode, "run", broken)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert cli_main(["bench", "--quick", "--only", "slider,decode", "--out", str(tmp_path)]) == 1
    assert "1 group(s) failed: decode" in capsys.readouterr().err
    (json_path,), _ = _reports(tmp_path)
    rows = json.loads(json_path.read_text())["rows"]
    assert [(r["group"], r["status"]) for r in rows] == [("decode", "ok"), ("decode", "error"), ("slider", "skipped")]
    assert "RuntimeError: the demo model is corrupt" in rows[1]["notes"]


def test_unknown_group_is_refused_before_any_work(tmp_path, capsys):
    assert cli_main(["bench", "--only", "decode,warp-drive", "--out", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    assert "warp-drive" in err and "decode, encode" in err
    assert not (tmp_path / "r").exists()


def test_reports_are_never_overwritten(tmp_path):
    machine = {"date": "2026-01-02T03:04:05+00:00", "cpu_model": "test CPU"}
    rows = [
        BenchRow("g", "faster than the baseline", 2.0, "ms", baseline="old way", baseline_value=8.0),
        BenchRow("g", "no baseline", 3.0, "s"),
        BenchRow("g", "undefined", math.nan, "", baseline="zero", baseline_value=0.0),
    ]
    first = BenchReport(machine, rows).write(tmp_path)
    text = first[0].read_text()
    second = BenchReport(machine, rows[:1]).write(tmp_path)
    assert [p.name for p in first] == ["bench-2026-01-02.json", "bench-2026-01-02.md"]
    assert [p.name for p in second] == ["bench-2026-01-02-2.json", "bench-2026-01-02-2.md"]
    assert first[0].read_text() == text
    data = json.loads(text)["rows"]
    assert data[0]["ratio"] == 0.25
    assert data[1]["ratio"] is None
    assert data[2]["value"] is None and data[2]["ratio"] is None  # NaN is not JSON: null


def test_row_status_must_be_known():
    with pytest.raises(ValueError, match="unknown row status"):
        BenchRow("g", "x", None, status="crashed")


@pytest.mark.parametrize(
    ("name", "entry", "tflops"),
    [
        ("NVIDIA H100 80GB HBM3", "H100 SXM", 989),
        ("NVIDIA H100 PCIe", "H100 PCIe", 756),
        ("NVIDIA H200", "H200", 989),
        ("NVIDIA A100-SXM4-80GB", "A100", 312),
        ("NVIDIA L40S", "L40S", 362),
        ("NVIDIA GeForce RTX 4090", "RTX 4090", 165),
    ],
)
def test_peak_bf16_table(name, entry, tflops):
    from napari_latent.bench.training import peak_bf16_tflops

    assert peak_bf16_tflops(name) == (entry, tflops)


def test_unknown_gpu_has_no_peak():
    from napari_latent.bench.training import peak_bf16_tflops

    assert peak_bf16_tflops("Tesla T4") is None
    assert peak_bf16_tflops("NVIDIA H100 NVL") is None  # not in the table: no guess


def test_flops_per_subject_does_not_depend_on_the_batch_and_a_step_trains():
    import torch

    from napari_latent.bench.training import build, flops_per_subject, synthetic_batches, train_throughput

    model = build("tiny", torch.device("cpu"))
    two, four = (synthetic_batches(b, torch.device("cpu"), count=1) for b in (2, 4))
    per_subject = flops_per_subject(model, two[0])
    assert per_subject > 1e6
    assert flops_per_subject(model, four[0]) == pytest.approx(per_subject, rel=0.02)
    before = [p.detach().clone() for p in model.parameters()]
    result = train_throughput(model, two, steps=1, warmup=0)
    assert result["subjects_per_s"] > 0 and result["batch"] == 2
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
