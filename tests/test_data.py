"""minders.data: the packaged copies, the loaders, the checks SOURCES.md reports, the facts."""

from __future__ import annotations

import csv
import importlib.util
import re
from pathlib import Path

import pandas as pd
import pytest

from minders import data
from minders.errors import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
PACKAGED = ROOT / "src" / "minders" / "data"


def shared_data() -> Path | None:
    """The shared data folder: ``../shared/data`` next to the repository (CI, /work/main),
    or above it when the checkout is a worktree one level deeper (/work/wt/<name>)."""
    for base in (ROOT, *ROOT.parents):
        candidate = base / "shared" / "data"
        if (candidate / "SOURCES.md").is_file():
            return candidate
    return None


def csv_rows(name: str) -> list[dict[str, str]]:
    with open(data.path(name), newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# --- the files --------------------------------------------------------------------------------


def test_packaged_copies_are_byte_identical_to_the_shared_folder():
    shared = shared_data()
    if shared is None:
        pytest.skip("no shared/data folder next to or above this checkout to compare with")
    originals = sorted(p.name for p in shared.iterdir() if p.suffix in (".csv", ".md"))
    copies = sorted(p.name for p in PACKAGED.iterdir() if p.suffix in (".csv", ".md"))
    assert copies == originals
    for name in originals:
        assert (PACKAGED / name).read_bytes() == (shared / name).read_bytes(), name


def test_names_are_the_csv_stems_and_each_has_sources():
    assert data.names() == sorted(p.stem for p in PACKAGED.glob("*.csv"))
    text = data.sources()
    for name in data.names():
        assert f"{name}.csv" in text


@pytest.mark.parametrize("name", data.names())
def test_every_dataset_loads_with_every_row_and_column(name):
    table = data.load(name)
    rows = csv_rows(name)
    assert len(table) == len(rows)
    assert list(table.columns) == list(rows[0])


def test_unknown_names_raise_the_scenario_error_listing_the_valid_ones():
    with pytest.raises(ScenarioError, match="dataset: expected one of nk_defector"):
        data.load("nk_defectors")
    with pytest.raises(ScenarioError, match="fact: expected one of population_2023"):
        data.fact("population")


def test_load_returns_a_fresh_copy():
    table = data.load("nk_defector_arrivals_mou")
    table.loc[0, "total"] = -1
    assert data.load("nk_defector_arrivals_mou").loc[0, "total"] == 947


def test_trust_grades_cover_every_dataset_and_match_sources_md():
    assert sorted(data.TRUST) == data.names()
    text = data.sources()
    for name, grade in data.TRUST.items():
        heading = re.search(rf"### `{name}\.csv`.*\(trust ([^)]*)\)", text)
        if heading:  # the population file's section gives no grade
            assert heading.group(1).startswith(grade.split(",")[0].split(" ")[0])


# --- dtypes -----------------------------------------------------------------------------------


def test_inferred_dtypes():
    mou = data.load("nk_defector_arrivals_mou")
    assert str(mou["year_end"].dtype) == "int64"
    assert str(mou["year_start"].dtype) == "Int64"  # blank for <=1998
    assert str(mou["total_mou_release_2012"].dtype) == "Int64"
    assert str(mou["female_pct"].dtype) == "float64"
    assert pd.api.types.is_string_dtype(mou["period"])
    assert data.load("nk_elite_defectors")["count"].tolist()[-1] == "single digits"


def test_loader_dtypes():
    single = data.arrivals(single_years=True)
    assert {c: str(t) for c, t in single.dtypes.items() if c in ("year", "male", "total")} == {
        "year": "int64", "male": "Int64", "total": "int64"}
    assert str(data.elite_defectors()["count"].dtype) == "Int64"
    assert str(data.group_defections()["size_low"].dtype) == "Int64"
    assert str(data.diplomat_defections()["month"].dtype) == "Int64"
    assert str(data.direct_crossings()["persons"].dtype) == "Int64"
    assert pd.api.types.is_datetime64_any_dtype(data.subannual_arrivals()["period_start"])
    assert str(data.population_and_prisoners()["low"].dtype) == "int64"
    assert str(data.overseas_workers()["value_high"].dtype) == "Int64"


# --- the checks SOURCES.md reports -------------------------------------------------------------


def test_mou_male_plus_female_is_total_in_every_row():
    for row in csv_rows("nk_defector_arrivals_mou"):
        assert int(row["male"]) + int(row["female"]) == int(row["total"]), row["period"]


def test_mou_table_sums_to_the_published_cumulative_totals():
    mou = data.arrivals().set_index("year_end")
    assert (mou["total"].sum(), mou["male"].sum(), mou["female"].sum()) == (34537, 9593, 24944)
    cumulative = mou["total"].cumsum()
    assert (cumulative[2022], cumulative[2023], cumulative[2024]) == (33882, 34078, 34314)
    reports = data.load("nk_defector_arrivals_crosscheck")
    end_2025 = reports[(reports["measure"] == "cumulative_total") & (reports["year_end"] == 2025)]
    assert end_2025["value"].tolist() == [34537]


def test_older_vintages_sum_to_their_own_cumulatives():
    mou = data.load("nk_defector_arrivals_mou")
    assert mou["total_mou_release_2012"].sum() == 23100
    assert (mou["male_mou_release_2012"].sum(), mou["female_mou_release_2012"].sum()) == (
        7171, 15929)
    assert mou["total_mou_page_2020"].sum() == 33718


def test_single_years_1999_2001_sum_to_the_lumped_row():
    years = data.arrivals(single_years=True).set_index("year")
    mou = data.arrivals().set_index("period")
    assert years.loc[1999:2001, "total"].sum() == mou.loc["1999-2001", "total"] == 1043
    # 947 through 1998 + 1,043 = 1,990, the cumulative end-2001 reported in 2002
    reports = data.load("nk_defector_arrivals_crosscheck")
    end_2001 = reports[(reports["measure"] == "cumulative_total") & (reports["year_end"] == 2001)]
    assert mou.loc["<=1998", "total"] + mou.loc["1999-2001", "total"] == end_2001["value"].item()


def test_single_years_are_1996_to_2025_once_each_and_match_the_table_from_2002():
    years = data.arrivals(single_years=True)
    assert years["year"].tolist() == list(range(1996, 2026))
    assert years.loc[years["year"] < 2002, "total"].tolist() == [56, 85, 71, 148, 312, 583]
    assert years.loc[years["year"] < 2002, "male"].isna().all()
    table = data.arrivals()
    late = table[table["year_start"] >= 2002]
    assert years.loc[years["year"] >= 2002, "total"].tolist() == late["total"].tolist()
    assert years.loc[years["status"] == "provisional", "year"].tolist() == [2025]


def test_subannual_2024_quarters_add_up_to_the_year():
    table = data.subannual_arrivals()
    quarters = table[table["period_start"].dt.year == 2024]
    mou = data.arrivals().set_index("period")
    assert quarters[["male", "female", "total"]].sum().tolist() == mou.loc[
        "2024", ["male", "female", "total"]].tolist()


def test_subannual_2023_quarters_add_up_to_the_year():
    table = data.subannual_arrivals()
    quarters = table[(table["period_start"].dt.year == 2023) & (table["granularity"] == "quarter")]
    assert quarters["total"].sum() == 196


def test_elite_periods_add_up():
    elite = data.elite_defectors().set_index(["period_start", "period_end"])
    assert (elite.loc[("1997-07", "2011-12"), "count"] + elite.loc[("2012-01", "2024-06"), "count"]
            == elite.loc[("1997-07", "2024-06"), "count"] == 188)


def test_direct_crossings_persons_2010_to_jul_2015_are_65():
    table = data.direct_crossings()
    assert table.loc[table["year_start"].between(2010, 2015)
                     & table["source_id"].str.startswith("AJU_2015"), "persons"].sum() == 65
    assert not (table["measure"] == "same").any()


# --- facts ------------------------------------------------------------------------------------


def test_every_fact_names_its_sources_and_datasets():
    text = data.sources()
    for name in data.fact_names():
        fact = data.fact(name)
        assert fact.name == name and fact.unit and fact.note
        assert set(fact.datasets) <= set(data.names())
        for source in fact.sources:
            assert source in text or any(source in row.get("source", "")
                                         for row in csv_rows("nk_population_and_prisoners"))


def test_population_and_prisoner_facts_against_the_csv():
    rows = {row["quantity"]: row for row in csv_rows("nk_population_and_prisoners")}
    population, prisoners = rows["population"], rows["political_prisoners"]
    assert data.fact("population_2023").values == (int(population["low"]),
                                                   int(population["high"]))
    assert data.fact("political_prisoners_2014").values == (int(prisoners["low"]),
                                                            int(prisoners["high"]))
    share = data.fact("political_prisoner_share")
    assert share.low == pytest.approx(int(prisoners["low"]) / int(population["high"]))
    assert share.high == pytest.approx(int(prisoners["high"]) / int(population["low"]))
    assert 0.003 <= share.low < share.high <= 0.005  # SOURCES.md: "about 0.3-0.5%"
    with pytest.raises(ValueError, match="range"):
        _ = share.value


def test_overseas_worker_facts_against_the_csv():
    rows = csv_rows("nk_overseas_workers_estimates")

    def values(as_of: str, location: str) -> list[float]:
        return [float(r["value"]) for r in rows
                if r["as_of"].startswith(as_of) and r["location"] == location
                and r["measure"].startswith("workers")]

    assert data.fact("overseas_workers_2015").value == values("2015", "worldwide")[0] == 50000
    assert data.fact("overseas_workers_2017").value == values("2017 (pre", "worldwide")[0]
    china = values("2017", "China")
    assert data.fact("overseas_workers_china_2017").values == (min(china), max(china))
    assert data.fact("overseas_workers_russia_2017").value == values("2017-12 (", "Russia")[0]
    assert data.fact("overseas_workers_russia_2018").value == values("2018-12", "Russia")[0]
    assert data.fact("overseas_worker_pay_2015").values == (120, 150)


def test_elite_and_diplomat_facts_against_the_csv():
    rows = {(r["period_start"], r["period_end"]): r for r in csv_rows("nk_elite_defectors")}
    kju = int(rows[("2012-01", "2024-06")]["count"])
    assert data.fact("elite_defectors_per_year_kim_jong_un").value == pytest.approx(kju / 12.5)
    kji = int(rows[("1997-07", "2011-12")]["count"])
    assert data.fact("elite_defectors_per_year_kim_jong_il").value == pytest.approx(kji / 14.5)
    # the shares Chosun Ilbo published alongside: 1.22% and 0.23%
    assert round(100 * data.fact("elite_share_of_arrivals_kim_jong_un").value, 2) == 1.22
    assert round(100 * data.fact("elite_share_of_arrivals_kim_jong_il").value, 2) == 0.23
    events = [r for r in csv_rows("nk_diplomat_defections_events")
              if 2012 <= int(r["year"]) <= 2023 and not r["name"].startswith("(")]
    # Ri Il-gyu's row calls his the 4th confirmed diplomat defection under Kim Jong Un
    assert len(events) == 4
    assert data.fact("diplomat_defections_per_year_kim_jong_un").value == pytest.approx(4 / 12)


def test_arrival_facts_against_the_csv():
    rows = csv_rows("nk_defector_arrivals_mou")
    by_year = {int(r["period"]): int(r["total"]) for r in rows if r["period"].isdigit()}
    for era, (start, end, _) in data.ARRIVAL_ERAS.items():
        if start < 2002:
            continue
        expected = sum(by_year[y] for y in range(start, end + 1)) / (end - start + 1)
        assert data.fact(f"arrivals_per_year_{era}").value == pytest.approx(expected)
    assert data.fact("arrivals_per_year_1996_2001").value == pytest.approx(
        (56 + 85 + 71 + 148 + 312 + 583) / 6)
    assert data.fact("arrivals_total_through_2025").value == sum(int(r["total"]) for r in rows)
    assert data.fact("arrivals_2019").value == by_year[2019] == 1047
    assert data.fact("border_closure_ratio_2021").value == pytest.approx(63 / 1047)
    per_person = data.fact("arrivals_2019_per_person")
    assert per_person.low == pytest.approx(1047 / 26_200_000)
    assert per_person.high == pytest.approx(1047 / 26_000_000)


def test_the_mou_source_id_is_the_one_sources_md_gives():
    assert f"(id {data.MOU_TABLE})" in data.sources()


# --- the documentation ------------------------------------------------------------------------


def test_documented_tables_are_what_the_code_produces():
    spec = importlib.util.spec_from_file_location(
        "data_facts", ROOT / "docs" / "examples" / "data_facts.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    doc = (ROOT / "docs" / "data.md").read_text(encoding="utf-8")
    assert module.replace_fragment(doc) == doc, (
        "docs/data.md is out of date: run python docs/examples/data_facts.py")


def test_bundled_scenarios_cite_the_package_not_a_folder_outside_it():
    from minders import scenarios

    for folder in (scenarios.folder(), scenarios.folder("experiments")):
        for file in sorted(folder.glob("*.toml")):
            text = file.read_text(encoding="utf-8")
            assert "shared/data" not in text, file.name
            for name in re.findall(r"\bfact ([a-z0-9_]+)", text):
                assert name in data.fact_names(), (file.name, name)
