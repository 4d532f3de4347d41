"""The Explorer scripting API: state, events, selection, groups, decoding, sessions (headless)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from napari_latent.explorer import Explorer


@pytest.fixture
def cohort(demo_store):
    return demo_store


@pytest.fixture
def ex(explorer):
    return explorer


def test_open_embeds_every_space_and_caches_by_model_hash(cohort, tiny_model, tmp_path):
    from napari_latent.cohort import write_cohort

    # a private copy: other tests cache their models' embeddings in the shared store
    cohort = write_cohort(cohort, tmp_path / "copy.zarr")
    ex = Explorer.open(cohort.path, tiny_model)
    assert set(ex.embeddings) == {"fused", "mri", "ecg"}
    assert ex.embeddings["fused"].shape == (24, 8)
    cached = list((cohort.path / "embeddings").glob("*.npz"))
    assert [p.stem for p in cached] == [tiny_model.fingerprint()]
    again = Explorer.open(cohort.path, tiny_model)
    np.testing.assert_array_equal(again.embeddings["mri"], ex.embeddings["mri"])


def test_query_filter_and_indices_select_the_same_and_emit_the_same(ex):
    seen = []
    ex.events.selection.connect(lambda idx, source: seen.append((idx.copy(), source)))
    expected = np.flatnonzero(((ex.table.age > 60) & (ex.table.sex == "F")).to_numpy())
    assert len(expected) > 0
    ex.select("age > 60 and sex == 'F'")
    by_query = seen[-1][0]
    ex.select(None)
    ex.select({"age": (60.000001, None), "sex": ["F"]})
    by_filter = seen[-1][0]
    ex.select(None)
    ex.select(list(expected[::-1]), source="scatter:fused")
    by_index = seen[-1]
    np.testing.assert_array_equal(by_query, expected)
    np.testing.assert_array_equal(by_filter, expected)
    np.testing.assert_array_equal(by_index[0], expected)
    assert by_index[1] == "scatter:fused"
    n_events = len(seen)
    ex.select(expected)  # unchanged: no event
    assert len(seen) == n_events
    assert ex.selection_mask.sum() == len(expected)


def test_selection_modes(ex):
    ex.select([1, 2, 3])
    ex.select([3, 4], mode="add")
    assert ex.selection.tolist() == [1, 2, 3, 4]
    ex.select([1], mode="subtract")
    assert ex.selection.tolist() == [2, 3, 4]
    ex.select([3, 4, 5], mode="intersect")
    assert ex.selection.tolist() == [3, 4]
    with pytest.raises(ValueError, match="mode must be"):
        ex.select([1], mode="xor")
    with pytest.raises(IndexError):
        ex.select([99])


def test_bad_query_names_available_columns(ex):
    with pytest.raises(ValueError, match="lvedv"):
        ex.select("no_such_column > 3")


def test_focus_sets_latent_and_decode_gives_cine_and_beat(ex):
    latents = []
    ex.events.latent.connect(latents.append)
    ex.focus("D000005")
    assert ex.focused == 5
    np.testing.assert_array_equal(ex.latent, ex.embeddings["fused"][5])
    out = ex.decode()
    assert out["mri"].shape == (50, 96, 96) and out["ecg"].shape == (12, 600)
    ex.set_latent_dimension(2, 3.0)
    assert ex.latent[2] == 3.0 and len(latents) == 2
    ex.reset_latent()
    np.testing.assert_array_equal(ex.latent, ex.embeddings["fused"][5])
    with pytest.raises(ValueError, match=r"latent space \(8,\)"):
        ex.latent = np.zeros(3)


def test_translate_both_ways(ex, cohort):
    s = cohort.subject(0)
    assert ex.translate(ecg=s.ecg_median).shape == (50, 96, 96)
    assert ex.translate(mri=s.mri).shape == (12, 600)
    with pytest.raises(ValueError, match="exactly one"):
        ex.translate()


def test_groups_mean_interpolation_and_summary(ex):
    events = []
    ex.events.groups.connect(events.append)
    ex.select("sex == 'F'")
    women = ex.add_group("women")
    men = ex.add_group("men", "sex == 'M'")
    assert [g.name for g in ex.groups] == ["women", "men"] and len(events) == 2
    assert women.colour != men.colour
    z, decoded = ex.interpolate("women", "men", steps=5)
    np.testing.assert_allclose(z[0], ex.group_mean("women"), rtol=1e-5)
    np.testing.assert_allclose(z[-1], ex.group_mean("men"), rtol=1e-5)
    assert decoded["mri"].shape == (5, 50, 96, 96)
    summary = ex.summarize("women")
    assert "sex" in set(summary["column"])
    with pytest.raises(ValueError, match="exists already"):
        ex.add_group("women")
    ex.remove_group("men")
    assert [g.name for g in ex.groups] == ["women"]


def test_probe_direction_neighbours(ex):
    result = ex.probe("heart_rate", space="ecg", folds=3)
    assert result.n == 24
    d = ex.direction("heart_rate", space="ecg", folds=3)
    assert np.isclose(np.linalg.norm(d.vector), 1.0)
    nn = ex.neighbours(0, k=5)
    assert len(nn) == 5 and 0 not in nn


def test_session_round_trip(ex, cohort, tiny_model, tmp_path):
    ex.select([2, 4, 6])
    ex.add_group("older", "age > 65")
    ex.focus(3)
    ex.set_latent_dimension(0, 1.5)
    path = ex.save_session(tmp_path / "s.json")
    with pytest.raises(FileExistsError):
        ex.save_session(path)
    fresh = Explorer.open(cohort, tiny_model)
    fresh.load_session(path)
    assert fresh.selection.tolist() == [2, 4, 6]
    assert [g.name for g in fresh.groups] == ["older"]
    np.testing.assert_array_equal(fresh.group("older").indices, ex.group("older").indices)
    assert fresh.focused == 3 and fresh.latent[0] == 1.5
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"napari_latent_session": 1, "cohort": {"fingerprint": "x"}}))
    with pytest.raises(ValueError, match="another cohort"):
        fresh.load_session(bad)


def test_pca_projection_emits_event(ex):
    seen = []
    ex.events.projection.connect(lambda space, res: seen.append(space))
    res = ex.project("mri", "pca")
    assert res.coords.shape == (24, 2) and seen == ["mri"]
    assert ex.projections["mri"] is res


def test_core_imports_no_qt():
    import subprocess
    import sys

    code = (
        "import sys, napari_latent.explorer, napari_latent.analysis, napari_latent.cohort; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('qtpy', 'PyQt6', 'PyQt5', 'PySide6', 'napari', 'vispy')]; "
        "print(bad); sys.exit(bool(bad))"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_set_model_installs_model_and_embeddings_with_one_event(cohort, tiny_model):
    from napari_latent.analysis import load_and_embed

    ex = Explorer(cohort)
    events: list[str] = []
    ex.events.model.connect(lambda _m: events.append(f"model:{len(ex.embeddings)}"))
    ex.events.embeddings.connect(lambda _e: events.append("embeddings"))
    model, embeddings = load_and_embed(cohort, tiny_model)
    ex.set_model(model, embeddings)
    assert events == ["model:3"]  # one event, and the embeddings are already in when it fires
    assert ex.model is tiny_model
    np.testing.assert_array_equal(ex.embeddings["fused"], embeddings["fused"])
    with pytest.raises(ValueError, match="rows"):
        ex.set_model(tiny_model, {"fused": embeddings["fused"][:3]})
    assert ex.model is tiny_model and len(ex.embeddings["fused"]) == len(cohort)  # unchanged on error
    ex.set_model(None)
    assert ex.model is None and ex.embeddings == {} and events[-1] == "model:0"
