"""Phenotype tables: types, units from headers, id checks, and the join report."""

from __future__ import annotations

import pandas as pd
import pytest

from napari_latent.cohort import CohortError
from napari_latent.io import join_phenotypes, read_table
from napari_latent.io.tables import parse_header

CSV = """subject_id,age (years),sex,BMI [kg/m^2],hypertension,smoker,visit,LVEDV [mL],note,
007,61.5,F,24.1,yes,0,2020-01-03,140,first,
008,70,M,30.2,no,1,2021-11-13,,second,
009,55,F,,Yes,0,2019-05-07,152.5,third,
010,48,M,27.0,NO,1,2018-02-28,160,fourth,
"""


@pytest.fixture
def csv_table(tmp_path):
    path = tmp_path / "phenotypes.csv"
    path.write_text(CSV)
    return path


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("LVEDV [mL]", ("LVEDV", "mL")),
        ("age (years)", ("age", "years")),
        ("  BMI  [ kg/m^2 ] ", ("BMI", "kg/m^2")),
        ("sex", ("sex", "")),
        ("QRS[ms]", ("QRS", "ms")),
        ("[mL]", ("[mL]", "")),  # a bracket alone is a name, not a unit
    ],
)
def test_parse_header(header, expected):
    assert parse_header(header) == expected


def test_types_units_and_ids(csv_table):
    table, columns = read_table(csv_table)
    assert list(table.columns) == [
        "subject_id",
        "age",
        "sex",
        "BMI",
        "hypertension",
        "smoker",
        "visit",
        "LVEDV",
        "note",
    ]
    assert table["subject_id"].tolist() == ["007", "008", "009", "010"]  # leading zeros kept: ids are text
    assert pd.api.types.is_float_dtype(table["age"])
    assert isinstance(table["sex"].dtype, pd.CategoricalDtype)
    assert table["hypertension"].tolist() == [True, False, True, False]
    assert pd.api.types.is_bool_dtype(table["smoker"])  # 0/1 reads as boolean
    assert pd.api.types.is_datetime64_any_dtype(table["visit"])
    assert table["LVEDV"].isna().tolist() == [False, True, False, False]
    assert not isinstance(table["note"].dtype, pd.CategoricalDtype)  # all distinct: free text
    assert columns["age"].unit == "years" and columns["BMI"].unit == "kg/m^2" and columns["LVEDV"].unit == "mL"
    assert columns["subject_id"].role == "id" and columns["hypertension"].role == "condition"
    assert columns["age"].role == "demographic"


def test_tsv_and_parquet_agree_with_csv(csv_table, tmp_path):
    table, columns = read_table(csv_table)
    tsv = tmp_path / "p.tsv"
    tsv.write_text(CSV.replace(",", "\t"))
    t2, c2 = read_table(tsv)
    pd.testing.assert_frame_equal(table, t2)
    assert c2 == columns
    pq = tmp_path / "p.parquet"
    raw = pd.read_csv(csv_table, dtype={"subject_id": str}).drop(columns=["Unnamed: 9"])
    raw.to_parquet(pq)
    t3, c3 = read_table(pq)
    assert t3["subject_id"].tolist() == table["subject_id"].tolist()
    assert c3["LVEDV"].unit == "mL"
    assert t3["age"].tolist() == table["age"].tolist()


def test_utf8_bom_utf16_and_cp1252(tmp_path):
    text = "subject_id,town\nA,Zürich\nB,Köln\n"
    for name, data in [
        ("bom.csv", "\ufeff" + text),
        ("utf16.csv", text),
        ("cp1252.csv", text),
    ]:
        path = tmp_path / name
        path.write_bytes(data.encode({"utf16.csv": "utf-16", "cp1252.csv": "cp1252"}.get(name, "utf-8")))
        table, _ = read_table(path)
        assert list(table.columns) == ["subject_id", "town"], name
        assert table["town"].astype(str).tolist() == ["Zürich", "Köln"], name


def test_duplicate_ids_name_file_and_ids(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("subject_id,age\nA,1\nB,2\nA,3\nC,4\nC,5\n")
    with pytest.raises(CohortError) as err:
        read_table(path)
    assert str(path) in str(err.value) and "A" in str(err.value) and "C" in str(err.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("age,sex\n1,F\n", "no 'subject_id' column.*'id column' field"),
        ("subject_id,age\nA,1\n,2\n", "empty 'subject_id'"),
        ("subject_id,age (years),age [y]\nA,1,2\n", "both name column 'age'"),
        ("", "empty"),
    ],
)
def test_bad_tables(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(CohortError, match=message) as err:
        read_table(path)
    assert str(path) in str(err.value)


def test_id_column_option(tmp_path):
    path = tmp_path / "eid.csv"
    path.write_text("eid,age\n1001,50\n1002,60\n")
    table, columns = read_table(path, id_column="eid")
    assert table["eid"].tolist() == ["1001", "1002"] and columns["eid"].role == "id"


def test_join_report(csv_table):
    table, _ = read_table(csv_table)
    cohort = pd.DataFrame({"subject_id": ["010", "011", "007"], "age": [1.0, 2.0, 3.0]})
    joined, report = join_phenotypes(cohort, table)
    assert joined["subject_id"].tolist() == ["010", "011", "007"]  # the cohort's rows and order
    assert joined["age"].tolist() == [1.0, 2.0, 3.0]  # the cohort's own column is kept ...
    assert joined["age_phenotype"].tolist()[0] == 48.0 and report.renamed == {
        "age": "age_phenotype"
    }  # ... the table's renamed
    assert joined["hypertension"].dtype == "boolean" and pd.isna(joined["hypertension"][1])
    assert report.n_matched == 2
    assert report.only_in_table == ["008", "009"]
    assert report.without_phenotypes == ["011"]
    text = str(report)
    assert "matched 2 of 3" in text and "008, 009" in text and "011" in text


def test_join_takes_ids_and_numeric_ids(tmp_path):
    table = pd.DataFrame({"eid": [1001.0, 1002.0], "x": [1, 2]})
    joined, report = join_phenotypes(["1002", "1003"], table, id_column="eid")
    assert joined["x"].tolist()[0] == 2 and pd.isna(joined["x"].tolist()[1])
    assert report.only_in_table == ["1001"] and report.without_phenotypes == ["1003"]
