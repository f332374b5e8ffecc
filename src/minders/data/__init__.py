"""The sourced data behind the scenarios' ``[data]`` figures, as pandas tables.

This package holds byte-for-byte copies of the CSV files and ``SOURCES.md``
compiled in the project's shared data folder, so that every sourced number
can be checked from a clean clone or an installed wheel. ``SOURCES.md``
(:func:`sources`) names the source of every column and row, its trust grade
(A official ... D known inconsistent) and the discrepancies found between
sources. The files are never edited here: correct them at the source and
copy them again (``tests/test_data.py`` checks the copies are identical).

:func:`load` reads any dataset with inferred dtypes; the named loaders
(:func:`arrivals`, :func:`elite_defectors`, ...) add parsed columns the
calibration needs. :func:`fact` returns the few numbers the scenarios cite,
each computed from the tables (never typed in) with its sources.

Examples
--------
>>> "nk_defector_arrivals_mou" in names()
True
>>> int(arrivals()["total"].sum())
34537
>>> fact("elite_defectors_per_year_kim_jong_un").value
10.72
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

import pandas as pd

from minders.errors import ScenarioError

#: The source id SOURCES.md gives the current MOU annual table (its CSV has no id column).
MOU_TABLE = "MOU_TABLE_2026"

#: Trust grades as SOURCES.md gives them (A official ... D known inconsistent).
TRUST: dict[str, str] = {
    "nk_defector_arrivals_mou": "A",
    "nk_defector_arrivals_crosscheck": "B, per row",
    "nk_defector_arrivals_subannual": "B",
    "nk_elite_defectors": "B",
    "nk_direct_crossings_mdl_nll": "B",
    "nk_group_defections_events": "B, one row C",
    "nk_diplomat_defections_events": "B",
    "nk_overseas_workers_estimates": "A for Russia's own UN report, B otherwise",
    "nk_population_and_prisoners": "not graded (UN DESA, UN Commission of Inquiry)",
}

#: Eras of the arrivals facts: (first year, last year, what happened).
ARRIVAL_ERAS: dict[str, tuple[int, int, str]] = {
    "1996_2001": (1996, 2001, "famine and its aftermath (single years from the crosscheck file)"),
    "2002_2011": (2002, 2011, "Kim Jong Il's last decade, the peak"),
    "2012_2019": (2012, 2019, "Kim Jong Un before COVID-19"),
    "2020_2022": (2020, 2022, "border closure"),
    "2023_2025": (2023, 2025, "after the reopening (2025 provisional)"),
}

#: Diplomat defections are counted over whole years the sources cover (published 2024).
DIPLOMAT_WINDOW = (2012, 2023)


def folder() -> Path:
    """The folder that holds the data files (inside the installed package).

    Returns
    -------
    Path
        The package folder ``minders/data``.

    Examples
    --------
    >>> (folder() / "SOURCES.md").is_file()
    True
    """
    return Path(str(files(__name__)))


def names() -> list[str]:
    """Names of the datasets (the CSV file stems), sorted.

    Returns
    -------
    list of str
        One name per CSV file.

    Examples
    --------
    >>> names()[:2]
    ['nk_defector_arrivals_crosscheck', 'nk_defector_arrivals_mou']
    """
    return sorted(p.stem for p in folder().iterdir() if p.suffix == ".csv")


def path(name: str) -> Path:
    """The CSV file of dataset ``name``.

    Parameters
    ----------
    name : str
        A dataset name from :func:`names`.

    Returns
    -------
    Path
        The file, inside the installed package.

    Raises
    ------
    ScenarioError
        If ``name`` is not a dataset.

    Examples
    --------
    >>> path("nk_elite_defectors").name
    'nk_elite_defectors.csv'
    """
    known = names()
    if name not in known:
        raise ScenarioError("dataset", name, f"one of {', '.join(known)}")
    return folder() / f"{name}.csv"


def sources() -> str:
    """The text of ``SOURCES.md``: where every value comes from, trust grades, discrepancies.

    Returns
    -------
    str
        The Markdown text.

    Examples
    --------
    >>> sources().splitlines()[0]
    '# Sources for the data files in this folder'
    """
    return (folder() / "SOURCES.md").read_text(encoding="utf-8")


def load(name: str) -> pd.DataFrame:
    """Read dataset ``name`` with inferred dtypes.

    A column whose every filled cell is a number becomes numeric: ``int64`` when
    all values are whole and none is blank, nullable ``Int64`` when whole with
    blanks, ``float64`` otherwise. Every other column is kept as text, with
    blanks as missing values (no other spelling, e.g. ``NA``, means missing).

    Parameters
    ----------
    name : str
        A dataset name from :func:`names`.

    Returns
    -------
    pandas.DataFrame
        One row per CSV row, columns as in the file. A fresh copy each call.

    Raises
    ------
    ScenarioError
        If ``name`` is not a dataset.

    Examples
    --------
    >>> table = load("nk_diplomat_defections_events")
    >>> table.loc[:1, ["year", "month", "name"]]
       year  month           name
    0  1991      6  Ko Young-hwan
    1  1996      1   Hyon Song-il
    >>> str(table["year"].dtype), str(table["month"].dtype)
    ('int64', 'Int64')
    """
    return _read(name).copy()


@cache
def _read(name: str) -> pd.DataFrame:
    raw = pd.read_csv(path(name), dtype=str, keep_default_na=False, na_values=[""])
    return pd.DataFrame({column: _infer(raw[column]) for column in raw.columns})


def _infer(column: pd.Series) -> pd.Series:
    filled = column.dropna()
    numbers = pd.to_numeric(filled, errors="coerce")
    if filled.empty or numbers.isna().any():
        return column
    if not (numbers % 1 == 0).all():
        return pd.to_numeric(column).astype("float64")
    whole = pd.to_numeric(column)
    return whole.astype("int64" if len(filled) == len(column) else "Int64")


def _year(text: pd.Series) -> pd.Series:
    """The leading four-digit year of labels such as ``2015-01`` or ``2017 (pre-UNSCR 2397)``."""
    return text.str.extract(r"^(\d{4})", expand=False).astype("Int64")


def arrivals(single_years: bool = False) -> pd.DataFrame:
    """Defectors arriving in South Korea per year: the MOU annual table (trust A).

    Parameters
    ----------
    single_years : bool, default False
        False: the table as MOU publishes it, 26 rows: ``<=1998`` (every arrival
        through 1998, from the 1950s on), ``1999-2001`` lumped, then 2002-2025.
        True: one row per year 1996-2025. MOU lumps the years before 2002, so
        the totals of 1996-2001 come from the ``final`` rows of
        ``nk_defector_arrivals_crosscheck`` (government audit data quoted by
        DONGA_2000 and HANKYUNG_2002); their sex split is unknown (``<NA>``).
        1999-2001 sum to MOU's lumped row; the arrivals before 1996 (735 of
        the 947 in ``<=1998``) have no single years and are left out.

    Returns
    -------
    pandas.DataFrame
        As published: ``period`` (text), ``year_start`` (``Int64``, blank for
        ``<=1998``), ``year_end``, ``male``, ``female``, ``total`` (``int64``),
        ``female_pct``, ``status`` (``final`` or ``provisional``: 2025), ``note``.
        Single years: ``year``, ``male``, ``female`` (``Int64``), ``total``
        (``int64``), ``period`` (the MOU row the year falls in), ``status``
        and ``source_id``.

    Examples
    --------
    >>> arrivals().loc[:1, ["period", "year_start", "year_end", "total"]]
          period  year_start  year_end  total
    0     <=1998        <NA>      1998    947
    1  1999-2001        1999      2001   1043
    >>> years = arrivals(single_years=True).set_index("year")
    >>> years.loc[1999:2001, "total"].tolist(), years.loc[2001, "period"]
    ([148, 312, 583], '1999-2001')
    >>> years.loc[[2024, 2025], ["male", "female", "total", "status"]]
          male  female  total       status
    year
    2024    26     210    236        final
    2025    25     198    223  provisional
    """
    table = _read("nk_defector_arrivals_mou")
    published = ["period", "year_start", "year_end", "male", "female", "total",
                 "female_pct", "status", "note"]
    if not single_years:
        return table[published].copy()
    reports = _read("nk_defector_arrivals_crosscheck")
    early = reports[(reports["measure"] == "total") & (reports["status"] == "final")
                    & (reports["year_start"] == reports["year_end"])
                    & (reports["year_end"] < 2002)]
    early = pd.DataFrame({
        "year": early["year_end"].astype("int64"),
        "male": pd.array([pd.NA] * len(early), dtype="Int64"),
        "female": pd.array([pd.NA] * len(early), dtype="Int64"),
        "total": early["value"].astype("int64"),
        "period": ["<=1998" if year <= 1998 else "1999-2001" for year in early["year_end"]],
        "status": early["status"],
        "source_id": early["source_id"],
    })
    late = table[table["year_start"] >= 2002]
    late = pd.DataFrame({
        "year": late["year_end"].astype("int64"),
        "male": late["male"].astype("Int64"),
        "female": late["female"].astype("Int64"),
        "total": late["total"].astype("int64"),
        "period": late["period"],
        "status": late["status"],
        "source_id": MOU_TABLE,
    })
    both = pd.concat([early, late], ignore_index=True).sort_values("year", ignore_index=True)
    return both


def elite_defectors() -> pd.DataFrame:
    """High-level ('elite') defectors: NIS and MOU aggregates over periods (trust B).

    MOU refuses per-year numbers, so these are totals over periods of different
    lengths and definitions; read ``definition`` before comparing rows.

    Returns
    -------
    pandas.DataFrame
        The file's columns, with ``count`` as ``Int64`` (``<NA>`` where the
        source gives words: 2024 is "single digits"), ``count_as_published``
        (the text) and ``year_start``, ``year_end`` (``Int64``).

    Examples
    --------
    >>> table = elite_defectors()
    >>> table.loc[:2, ["period_start", "period_end", "count"]]
      period_start period_end  count
    0      1997-07    2011-12     54
    1      2012-01    2024-06    134
    2      1997-07    2024-06    188
    >>> int(table["count"].isna().sum()), table.loc[6, "count_as_published"]
    (1, 'single digits')
    """
    table = _read("nk_elite_defectors").copy()
    table["count_as_published"] = table["count"]
    table["count"] = pd.to_numeric(table["count"], errors="coerce").astype("Int64")
    table["year_start"] = _year(table["period_start"])
    table["year_end"] = _year(table["period_end"])
    return table


def diplomat_defections() -> pd.DataFrame:
    """Named diplomat defections, one row per event (trust B).

    Returns
    -------
    pandas.DataFrame
        ``year`` (``int64``), ``month`` (``Int64``, blank when unknown), ``name``,
        ``post``, ``rank``, ``source_id``, ``note``, and ``named`` (False for the
        2023 unnamed family in France, whose defection the source leaves unclear).

    Examples
    --------
    >>> table = diplomat_defections()
    >>> table.loc[table["named"] & (table["year"] >= 2012), "name"].tolist()
    ['Thae Yong-ho', 'Jo Song-gil', 'Ryu Hyun-woo', 'Ri Il-gyu']
    """
    table = _read("nk_diplomat_defections_events").copy()
    table["named"] = ~table["name"].str.startswith("(")
    return table


def group_defections() -> pd.DataFrame:
    """Group defections, one row per event (trust B, one row C).

    Returns
    -------
    pandas.DataFrame
        The file's columns (``group_size`` as published text) plus ``year``
        (``int64``) and ``size_low``, ``size_high`` (``Int64``): ``6-10`` gives
        6 and 10, ``unknown`` gives ``<NA>``. Alternative counts stay in
        ``group_size_alt``.

    Examples
    --------
    >>> table = group_defections()
    >>> table.loc[:3, ["year", "group_size", "size_low", "size_high"]]
       year group_size  size_low  size_high
    0  2004        468       468        468
    1  2016         13        13         13
    2  2016    unknown      <NA>       <NA>
    3  2016       6-10         6         10
    """
    table = _read("nk_group_defections_events").copy()
    table["year"] = _year(table["date"]).astype("int64")
    bounds = table["group_size"].str.extract(r"^(\d+)(?:-(\d+))?$")
    table["size_low"] = pd.to_numeric(bounds[0]).astype("Int64")
    table["size_high"] = pd.to_numeric(bounds[1].fillna(bounds[0])).astype("Int64")
    return table


def overseas_workers() -> pd.DataFrame:
    """Estimates of North Korean workers abroad and what they earn (trust A/B).

    Returns
    -------
    pandas.DataFrame
        The file's columns: ``as_of`` (text), ``location``, ``value`` and
        ``value_high`` (``Int64``; ``value_high`` ends a range, blank for a
        point estimate), ``measure`` (the unit is in these words), ``source_id``,
        ``note``; plus ``year`` (``Int64``), the first year in ``as_of``.

    Examples
    --------
    >>> table = overseas_workers()
    >>> table.loc[:1, ["year", "location", "value", "value_high"]]
       year   location       value  value_high
    0  2015  worldwide       50000        <NA>
    1  2015  worldwide  1200000000  2300000000
    """
    table = _read("nk_overseas_workers_estimates").copy()
    table["year"] = _year(table["as_of"])
    return table


def population_and_prisoners() -> pd.DataFrame:
    """North Korea's population (2023) and its political prisoners (2014), as ranges.

    Returns
    -------
    pandas.DataFrame
        ``quantity``, ``year``, ``low``, ``high`` (``int64``), ``unit``, ``source``.

    Examples
    --------
    >>> population_and_prisoners()[["quantity", "year", "low", "high"]]
                  quantity  year     low     high
    0           population  2023  26000000  26200000
    1  political_prisoners  2014     80000   120000
    """
    return _read("nk_population_and_prisoners").copy()


def direct_crossings() -> pd.DataFrame:
    """Defections straight across the DMZ (MDL) or the sea border (NLL), not via China.

    Sources count different things (persons, episodes, soldiers) over different
    periods; never add rows of different ``measure``.

    Returns
    -------
    pandas.DataFrame
        The file's columns (``persons``, ``episodes``, ``soldier_persons`` as
        ``Int64``) with ``measure`` resolved: the file writes ``same`` for the
        measure of the row above, and that measure is filled in here. Plus
        ``year_start`` and ``year_end`` (``int64``).

    Examples
    --------
    >>> table = direct_crossings()
    >>> table.loc[table["source_id"] == "AJU_2015", "persons"].tolist()
    [39, 5, 1, 6, 4]
    >>> table.loc[1, "measure"] == table.loc[0, "measure"]
    True
    """
    table = _read("nk_direct_crossings_mdl_nll").copy()
    table["measure"] = table["measure"].mask(table["measure"] == "same").ffill()
    table["year_start"] = _year(table["period_start"]).astype("int64")
    table["year_end"] = _year(table["period_end"]).astype("int64")
    return table


def subannual_arrivals() -> pd.DataFrame:
    """Arrivals by month, quarter or half-year (trust B).

    Returns
    -------
    pandas.DataFrame
        ``period_start``, ``period_end`` (``datetime64``), ``granularity``,
        ``total`` (``int64``), ``male``, ``female`` (``Int64``), ``derived``
        (``no``; ``yes`` for a difference of two published numbers; ``male
        derived`` when only the male count is), ``source_id``, ``published``,
        ``note``. Periods overlap (a half and its first quarter): never sum
        the whole table.

    Examples
    --------
    >>> table = subannual_arrivals()
    >>> q2024 = table[(table["period_start"].dt.year == 2024)]
    >>> q2024["total"].tolist(), int(q2024["total"].sum())
    ([43, 62, 76, 55], 236)
    """
    table = _read("nk_defector_arrivals_subannual").copy()
    for column in ("period_start", "period_end"):
        table[column] = pd.to_datetime(table[column], format="%Y-%m-%d")
    return table


# --- facts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """A number the scenarios cite, computed from the tables, with its sources.

    Parameters
    ----------
    name : str
        The fact's name, as :func:`fact` takes it.
    values : tuple of float
        One value, or a range ``(low, high)``.
    unit : str
        What the values count, in words.
    sources : tuple of str
        Source ids (see :func:`sources`) of the rows it is computed from.
    datasets : tuple of str
        The datasets it is computed from.
    note : str
        How it is computed, and what to keep in mind when using it.

    Examples
    --------
    >>> share = fact("political_prisoner_share")
    >>> round(share.low, 4), round(share.high, 4), share.unit
    (0.0031, 0.0046, 'share of the population')
    """

    name: str
    values: tuple[float, ...]
    unit: str
    sources: tuple[str, ...]
    datasets: tuple[str, ...]
    note: str

    def __post_init__(self) -> None:
        # Plain Python numbers (not NumPy scalars), so they print and serialise plainly.
        plain = tuple(v.item() if hasattr(v, "item") else v for v in self.values)
        object.__setattr__(self, "values", plain)

    @property
    def low(self) -> float:
        """The lowest value (the value itself for a single value)."""
        return min(self.values)

    @property
    def high(self) -> float:
        """The highest value (the value itself for a single value)."""
        return max(self.values)

    @property
    def value(self) -> float:
        """The value of a single-valued fact; a range has none (use ``low``, ``high``).

        Raises
        ------
        ValueError
            If the fact is a range.
        """
        if len(self.values) != 1:
            raise ValueError(f"fact {self.name!r} is a range {self.values}: use .low and .high")
        return self.values[0]


def fact(name: str) -> Fact:
    """One named fact the scenarios cite, computed from the tables.

    Parameters
    ----------
    name : str
        One of :func:`fact_names`.

    Returns
    -------
    Fact
        Its value(s), unit, source ids and datasets.

    Raises
    ------
    ScenarioError
        If ``name`` is not a fact.

    Examples
    --------
    >>> population = fact("population_2023")
    >>> population.values, population.sources
    ((26000000, 26200000), ('UN DESA World Population Prospects 2024',))
    >>> round(fact("arrivals_per_year_2012_2019").value, 1)
    1302.1
    """
    known = _facts()
    if name not in known:
        raise ScenarioError("fact", name, f"one of {', '.join(known)}")
    return known[name]


def fact_names() -> list[str]:
    """Names of the facts, in the order of the documentation.

    Returns
    -------
    list of str
        Names :func:`fact` accepts.

    Examples
    --------
    >>> fact_names()[0]
    'population_2023'
    """
    return list(_facts())


def facts() -> pd.DataFrame:
    """All facts as a table, one row each.

    Returns
    -------
    pandas.DataFrame
        ``name``, ``low``, ``high`` (equal for a single value), ``unit``,
        ``sources`` and ``datasets`` (joined with ``"; "``), ``note``.

    Examples
    --------
    >>> table = facts().set_index("name")
    >>> table.loc[["political_prisoners_2014"], ["low", "high", "unit"]]
                                  low      high     unit
    name
    political_prisoners_2014  80000.0  120000.0  persons
    """
    return pd.DataFrame([
        {"name": f.name, "low": f.low, "high": f.high, "unit": f.unit,
         "sources": "; ".join(f.sources), "datasets": "; ".join(f.datasets), "note": f.note}
        for f in _facts().values()
    ])


def _ids(cells: pd.Series | list[str]) -> tuple[str, ...]:
    """Source ids of cells such as ``CHOSUN_2024; DONGA_2024`` or ``DARUSMAN_2015 (Time)``."""
    found: list[str] = []
    for cell in cells:
        for part in str(cell).split(";"):
            source = part.split(" (")[0].strip()
            if source and source not in found:
                found.append(source)
    return tuple(found)


def _one(table: pd.DataFrame, **equal: object) -> pd.Series:
    """The one row of ``table`` whose columns equal the given values."""
    chosen = table
    for column, wanted in equal.items():
        chosen = chosen[chosen[column] == wanted]
    if len(chosen) != 1:
        raise LookupError(f"expected one row with {equal}, found {len(chosen)}")
    return chosen.iloc[0]


def _months(start: str, end: str) -> int:
    """Months from ``YYYY-MM`` to ``YYYY-MM``, both included."""
    y0, m0 = (int(part) for part in start.split("-"))
    y1, m1 = (int(part) for part in end.split("-"))
    return (y1 - y0) * 12 + (m1 - m0) + 1


@cache
def _facts() -> dict[str, Fact]:
    found: list[Fact] = []
    add = found.append

    # Population and prisoners: ranges, kept as ranges.
    people = population_and_prisoners()
    population = _one(people, quantity="population")
    prisoners = _one(people, quantity="political_prisoners")
    people_set = ("nk_population_and_prisoners",)
    add(Fact("population_2023", (int(population["low"]), int(population["high"])), "persons",
             _ids([population["source"]]), people_set, "DPRK total population in 2023."))
    add(Fact("political_prisoners_2014", (int(prisoners["low"]), int(prisoners["high"])),
             "persons", _ids([prisoners["source"]]), people_set,
             "Political prisoners in the four large political prison camps; ordinary prisons "
             "and labour-training camps come on top."))
    add(Fact("political_prisoner_share",
             (prisoners["low"] / population["high"], prisoners["high"] / population["low"]),
             "share of the population", _ids([prisoners["source"], population["source"]]),
             people_set,
             "Political prisoners (2014) over population (2023), widest range; an order of "
             "magnitude for the jailed share, not a calibration target (SOURCES.md)."))

    # Workers abroad.
    workers = overseas_workers()
    workers_set = ("nk_overseas_workers_estimates",)
    heads = workers[workers["measure"].str.startswith("workers")]  # head counts, not money
    world_2015 = _one(heads, year=2015, location="worldwide")
    add(Fact("overseas_workers_2015", (int(world_2015["value"]),), "workers (lower bound)",
             _ids([world_2015["source_id"]]), workers_set,
             "'More than 50,000' abroad, mostly in China and Russia (UN Special Rapporteur)."))
    pay = workers[workers["measure"].str.startswith("USD per month")].iloc[0]
    add(Fact("overseas_worker_pay_2015", (int(pay["value"]), int(pay["value_high"])),
             "USD per month paid to a worker", _ids([pay["source_id"]]), workers_set,
             "What a worker is paid of the wage the state collects."))
    world_2017 = _one(heads, year=2017, location="worldwide")
    add(Fact("overseas_workers_2017", (int(world_2017["value"]),), "workers",
             _ids([world_2017["source_id"]]), workers_set,
             "Workers in 29 countries before UNSCR 2397 (UN/US estimate)."))
    china = heads[(heads["location"] == "China") & heads["year"].eq(2017)]
    add(Fact("overseas_workers_china_2017",
             (int(china["value"].min()), int(china["value"].max())), "workers",
             _ids(china["source_id"]), workers_set,
             "Workers in China around 2017: the UN/US estimate and a higher US estimate "
             "(sources disagree; both kept)."))
    russia = workers[(workers["location"] == "Russia")
                     & workers["note"].eq("official")].sort_values("as_of")
    for (_, row), year in zip(russia.iterrows(), (2017, 2018), strict=True):
        add(Fact(f"overseas_workers_russia_{year}", (int(row["value"]),), "workers",
                 _ids([row["source_id"]]), workers_set,
                 f"Valid work permits at the end of {year}, Russia's own report to the UN "
                 "1718 Committee."))

    # Elite and diplomat defections.
    elite = elite_defectors()
    reports = _read("nk_defector_arrivals_crosscheck")
    eras = {"kim_jong_il": ("1997-07", "2011-12"), "kim_jong_un": ("2012-01", "2024-06")}
    for era, (start, end) in eras.items():
        row = _one(elite, period_start=start, period_end=end)
        years = _months(row["period_start"], row["period_end"]) / 12
        add(Fact(f"elite_defectors_per_year_{era}", (int(row["count"]) / years,),
                 "persons per year", _ids([row["source_id"]]), ("nk_elite_defectors",),
                 f"{row['count']} NIS-protected elite defectors (with their families) from "
                 f"{row['period_start']} to {row['period_end']}, over {years:g} years."))
        base = reports[(reports["measure"] == "total_arrivals_in_era")
                       & reports["period_label"].str.lower().str.startswith(
                           era.replace("_", " "))].iloc[0]
        add(Fact(f"elite_share_of_arrivals_{era}", (int(row["count"]) / int(base["value"]),),
                 "share of arrivals", _ids([row["source_id"], base["source_id"]]),
                 ("nk_elite_defectors", "nk_defector_arrivals_crosscheck"),
                 f"{row['count']} elite defectors over the {base['value']:,} arrivals MOU "
                 "counts for the same period."))
    diplomats = diplomat_defections()
    first, last = DIPLOMAT_WINDOW
    window = diplomats[diplomats["named"] & diplomats["year"].between(first, last)]
    add(Fact("diplomat_defections_per_year_kim_jong_un", (len(window) / (last - first + 1),),
             "defections per year", _ids(window["source_id"]),
             ("nk_diplomat_defections_events",),
             f"{len(window)} named diplomat defections in {first}-{last} "
             f"({last - first + 1} years): {', '.join(window['name'])}."))

    # Arrivals.
    mou = arrivals()
    years = arrivals(single_years=True).set_index("year")
    mou_set = ("nk_defector_arrivals_mou",)
    add(Fact("arrivals_total_through_2025", (int(mou["total"].sum()),), "persons",
             (MOU_TABLE,), mou_set, "All arrivals in South Korea through 2025 (2025 provisional)."))
    for era, (start, end, what) in ARRIVAL_ERAS.items():
        span = years.loc[start:end]
        used = mou_set if start >= 2002 else ("nk_defector_arrivals_crosscheck",)
        add(Fact(f"arrivals_per_year_{era}", (span["total"].mean(),), "persons per year",
                 _ids(span["source_id"].unique()), used,
                 f"Mean arrivals {start}-{end}: {what}."))
    before, closed = years.loc[2019], years.loc[2021]
    add(Fact("arrivals_2019", (int(before["total"]),), "persons", (MOU_TABLE,), mou_set,
             "Arrivals in the last year before the COVID-19 border closure."))
    add(Fact("border_closure_ratio_2021", (closed["total"] / before["total"],),
             "arrivals 2021 / arrivals 2019", (MOU_TABLE,), mou_set,
             "How far the border closure cut arrivals (first full closed year)."))
    add(Fact("arrivals_2019_per_person",
             (before["total"] / population["high"], before["total"] / population["low"]),
             "arrivals per person per year", (MOU_TABLE, *_ids([population["source"]])),
             (*mou_set, *people_set),
             "Arrivals in 2019 over the 2023 population (the only population year in the data)."))
    return {f.name: f for f in found}
