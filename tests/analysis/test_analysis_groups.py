"""Groups: builders agree, JSON round trip, summaries, group latents and differences."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from napari_latent.analysis import (
    Group,
    difference_direction,
    filter_mask,
    group_from_filter,
    group_from_indices,
    group_from_query,
    group_mean,
    interpolate,
    summarize,
)
from napari_latent.analysis.synthetic import synthetic_latents, synthetic_table


@pytest.fixture(scope="module")
def table():
    return synthetic_table(600, seed=2)


def test_query_filter_and_indices_agree(table):
    by_query = group_from_query(table, "age >= 60 and sex == 'F'")
    by_filter = group_from_filter(table, {"age": (60, None), "sex": ["F"]})
    expected = np.flatnonzero((table["age"] >= 60).to_numpy() & (table["sex"] == "F").to_numpy())
    by_indices = group_from_indices(expected[::-1].tolist(), name="brushed")
    assert len(expected) > 50
    np.testing.assert_array_equal(by_query.indices, expected)
    np.testing.assert_array_equal(by_filter.indices, expected)
    np.testing.assert_array_equal(by_indices.indices, expected)  # sorted
    assert by_query.definition == {"kind": "query", "query": "age >= 60 and sex == 'F'"}
    filters = {"age": {"min": 60.0, "max": None}, "sex": {"in": ["F"]}}
    assert by_filter.definition == {"kind": "filter", "filters": filters}
    assert by_indices.definition == {"kind": "indices"}
    mask = np.zeros(len(table), bool)
    mask[expected] = True
    np.testing.assert_array_equal(group_from_indices(mask).indices, expected)
    np.testing.assert_array_equal(by_query.mask(len(table)), mask)


def test_filter_on_bools_ranges_and_missing_values():
    t = pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0], "flag": [True, False, True, None], "s": ["a", None, "b", "a"]})
    np.testing.assert_array_equal(filter_mask(t, {"x": (2, 4)}), [False, True, False, True])
    np.testing.assert_array_equal(filter_mask(t, {"x": {"min": None, "max": 1.5}}), [True, False, False, False])
    np.testing.assert_array_equal(filter_mask(t, {"flag": True}), [True, False, True, False])
    np.testing.assert_array_equal(filter_mask(t, {"s": ["b", None]}), [False, True, True, False])
    with pytest.raises(ValueError, match="available columns: x, flag, s"):
        filter_mask(t, {"nope": [1]})
    with pytest.raises(ValueError, match="numeric"):
        filter_mask(t, {"s": ("a", "b")})


def test_invalid_query_names_available_columns(table):
    with pytest.raises(ValueError) as info:
        group_from_query(table, "agee > 60")
    msg = str(info.value)
    assert "agee" in msg and "Available columns" in msg and "age" in msg and "lv_mass" in msg
    with pytest.raises(ValueError, match="invalid query"):
        group_from_query(table, "age >>> 3")
    with pytest.raises(ValueError, match="True/False"):
        group_from_query(table, "age + 1")


def test_group_json_round_trip_and_rebuild(table):
    g = group_from_filter(table, {"age": (None, 50), "hypertension": [True]}, name="young HTN", colour="#1f77b4")
    again = Group.from_json(json.dumps(json.loads(g.to_json())))
    assert again == g and again.colour == "#1F77B4"
    rebuilt = again.rebuild(table.iloc[:300])
    assert set(rebuilt.indices) <= set(g.indices) and rebuilt.name == "young HTN"
    q = group_from_query(table, "bmi > 30")
    assert Group.from_dict(q.to_dict()).rebuild(table) == q
    assert len(q.complement(len(table))) == len(table) - len(q)
    with pytest.raises(ValueError, match="hex"):
        Group("bad", [1], "red")


def test_summarize_flags_the_defining_column(table):
    g = group_from_query(table, "lv_mass > 140")
    s = summarize(g, table)
    row = s.set_index("column").loc["lv_mass"]
    assert row["kind"] == "numeric" and row["effect"] == "cohen_d"
    assert row["effect_size"] > 1.5 and row["p_value"] < 1e-10 and row["flagged"]
    assert row["group"] > row["rest"] and row["n_group"] == len(g)
    assert not s.set_index("column").loc["unrelated", "flagged"]
    assert "subject_id" not in set(s["column"])
    # categorical: a sex-defined group shows a share difference of 1 for its level
    f = summarize(group_from_filter(table, {"sex": ["F"]}), table, ["sex", "hypertension", "age"])
    sex_f = f[(f["column"] == "sex") & (f["level"] == "F")].iloc[0]
    assert sex_f["effect"] == "diff_proportion" and sex_f["group"] == 1.0 and sex_f["flagged"]
    assert sex_f["effect_size"] == pytest.approx(1.0 - sex_f["rest"])
    assert f[f["column"] == "hypertension"]["level"].tolist() == [True]


def test_summarize_uses_fisher_for_small_tables():
    t = pd.DataFrame({"cond": [True] * 3 + [False] * 17, "x": np.arange(20.0)})
    s = summarize(np.arange(4), t)
    assert s.set_index("column").loc["cond", "test"] == "fisher"


def test_group_mean_and_interpolation():
    z = np.arange(12, dtype=np.float32).reshape(6, 2)
    a, b = group_mean(z, [0, 1]), group_mean(z, np.array([False] * 4 + [True] * 2))
    np.testing.assert_allclose(a, [1, 2])
    np.testing.assert_allclose(b, [9, 10])
    path = interpolate(a, b, 5)
    assert path.shape == (5, 2)
    np.testing.assert_allclose(path[0], a)
    np.testing.assert_allclose(path[-1], b)
    np.testing.assert_allclose(path[2], (a + b) / 2)
    with pytest.raises(ValueError):
        group_mean(z, [])


def test_difference_direction_aligns_with_true_difference():
    syn = synthetic_latents(1000, 32, noise=0.3, seed=4)
    hyper = syn.table["hypertension"].to_numpy()
    diff = difference_direction(syn.latents, ~hyper, hyper)
    assert np.linalg.norm(diff.direction) == pytest.approx(1.0)
    assert diff.t.shape == diff.p.shape == (32,)
    # the mean difference between the groups, computed independently
    true = syn.latents[hyper].mean(0) - syn.latents[~hyper].mean(0)
    assert diff.direction @ true / np.linalg.norm(true) == pytest.approx(1.0, abs=1e-6)
    # the hypertension mixing row dominates the difference (age and lv_mass correlate with it)
    assert diff.direction @ syn.true_direction("hypertension") > 0.6
    top = diff.significant_dimensions()
    assert len(top) > 0 and diff.p[top[0]] == diff.p.min()
    assert np.sign(diff.t[top[0]]) == np.sign(true[top[0]])


@st.composite
def tables_and_filters(draw):
    n = draw(st.integers(1, 40))
    x = draw(st.lists(st.one_of(st.floats(-100, 100), st.just(float("nan"))), min_size=n, max_size=n))
    cat = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
    flag = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    table = pd.DataFrame({"x": x, "cat": cat, "flag": flag})
    lo = draw(st.one_of(st.none(), st.floats(-100, 100)))
    hi = draw(st.one_of(st.none(), st.floats(-100, 100)))
    filters = {"x": (lo, hi)}
    if draw(st.booleans()):
        filters["cat"] = draw(st.lists(st.sampled_from(["a", "b", "c", "z"]), max_size=3))
    if draw(st.booleans()):
        filters["flag"] = [draw(st.booleans())]
    return table, filters


def _satisfies(row: pd.Series, filters: dict) -> bool:
    lo, hi = filters["x"]
    if np.isnan(row["x"]) or (lo is not None and row["x"] < lo) or (hi is not None and row["x"] > hi):
        return False
    if "cat" in filters and row["cat"] not in filters["cat"]:
        return False
    return not ("flag" in filters and row["flag"] not in filters["flag"])


@settings(max_examples=60, deadline=None)
@given(tables_and_filters())
def test_group_from_filter_property(case):
    table, filters = case
    g = group_from_filter(table, filters)
    members = set(g.indices.tolist())
    rest = set(g.complement(len(table)).indices.tolist())
    assert members | rest == set(range(len(table))) and not members & rest
    for i in range(len(table)):
        assert _satisfies(table.iloc[i], filters) == (i in members)
