"""From linked records to births: one row per cluster, with the values the sources agree on.

The linkage (:mod:`fpstat.reconcile.linkage`) puts every record into a cluster, one cluster per
birth, with at most one record of each source besides flagged within-source duplicates. This
module turns the clusters into the *births table* the rest of the stage works on (SQL in
:mod:`fpstat.engine.sql_reconcile`, so it scales to millions of records):

* ``area_code``, ``birth_date``, ``sex``, ``birth_order``, ``within_policy``, ``migrant``: the
  **consensus** of the cluster's records (duplicates left out): the value most of its sources
  give; a tie (two sources that disagree, say) goes to the source trusted most for that field
  (:data:`FIELD_PRIORITY`), then to the smaller value, so the result never depends on row
  order; an area code of a coarser level (a hospital's township code) only votes where no
  source gives a village code. The child's and mother's IDs are chosen the same way, but only
  for the births that need them (:func:`fpstat.reconcile.unregistered.unregistered_births`);
* ``in_<role>`` and ``record_id_<role>`` for every record-level source;
* ``period``: from the consensus birth date (never from a source's reporting year);
* the planning record's own ``planning_sex``, ``planning_area_code``, ``planning_birth_date``;
  ``linked_to_planning`` (a planning birth another source also holds) and ``sex_disagreement``
  (another source gives it the other sex: a sex error, not a missing birth);
* ``match_confidence``: the lowest posterior probability among the links that made the
  cluster (1 for exact links); null for a birth resting on one record;
* ``records``, ``duplicates``: records of the birth, and within-source duplicates of them.

Why the priorities are what they are: a hospital writes the birth date and sex at the delivery
itself; the planning register and the hukou office record where the family lives (a hospital
records where the birth happened, or the address the mother gives); the planning office is
the one that assesses birth order and policy status; the hukou office issues the child's ID.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fpstat.engine import Engine
from fpstat.engine import sql_reconcile as sql
from fpstat.reconcile.linkage import RULE_ANCHOR, RULE_SINGLETON, ordered_roles
from fpstat.schema.areas import LEVELS
from fpstat.schema.periods import period_bounds, period_kind, period_of

#: For each consensus field, the sources in the order they are trusted (ties of the vote).
FIELD_PRIORITY: dict[str, tuple[str, ...]] = {
    "area_code": ("planning", "police", "census", "education", "hospital"),
    "birth_date": ("hospital", "police", "planning", "census", "education"),
    "sex": ("hospital", "police", "planning", "census", "education"),
    "birth_order": ("planning", "hospital", "police", "census", "education"),
    "within_policy": ("planning", "police", "hospital", "census", "education"),
    "migrant": ("planning", "census", "police", "hospital", "education"),
    "child_id": ("police", "planning", "hospital", "census", "education"),
    "mother_id": ("police", "planning", "hospital", "census", "education"),
}
#: Temporary tables the births table leaves on the engine (dropped by :func:`release`).
TEMP_TABLES = ("reconcile_members", "reconcile_births")
_VIEWS = ("reconcile_priority", "reconcile_periods", "reconcile_levels")
#: Columns of a record table that the births read (the rest stay out of the engine).
RECORD_COLUMNS: tuple[str, ...] = (
    "record_id", "source_file", "source_sheet", "source_row", "area_code", "birth_date", "sex",
    "birth_order", "within_policy", "migrant",
)
#: Columns of the links that the births read.
LINK_COLUMNS: tuple[str, ...] = (
    "cluster_id", "role", "record_id", "rule", "match_probability", "is_duplicate",
    "source_file", "source_sheet", "source_row",
)
#: Threads for the consensus. DuckDB aggregates a million clusters in parallel by building a
#: table per thread and merging them: measured on two cores at a million births, that was
#: hardly faster than one thread (4.2-4.4 s against 4.3-5.4 s, and slower when the other core
#: was busy) and took 570 MB more memory, which is what runs out first on an office PC.
CONSENSUS_THREADS = 1


class LinkageMismatch(RuntimeError):
    """The links do not cover the records one-to-one (a bug, never a data problem)."""


@dataclass
class Births:
    """The births table and the sources behind it."""

    roles: tuple[str, ...]  # record-level sources, in linking order
    table: pd.DataFrame  # one row per birth, sorted by cluster_id
    period_kind: str


def priority_table(roles: Sequence[str]) -> pd.DataFrame:
    """``field, role, rank`` rows for the vote; sources not listed rank after the listed ones."""
    rows = []
    for field, preferred in FIELD_PRIORITY.items():
        ranking = list(preferred) + sorted(role for role in roles if role not in preferred)
        rows += [{"field": field, "role": role, "rank": rank} for rank, role in enumerate(ranking)]
    return pd.DataFrame(rows)


def levels_table() -> pd.DataFrame:
    """``level, depth, digits`` of the area hierarchy, for SQL roll-ups."""
    return pd.DataFrame(
        [{"level": name, "depth": depth, "digits": digits} for depth, (name, digits) in enumerate(LEVELS)]
    )


def _arrow(frame: pd.DataFrame, columns: Sequence[str]) -> pa.Table:
    """The ``columns`` of ``frame`` as Arrow (DuckDB scans Arrow faster than pandas)."""
    return pa.Table.from_pandas(frame[list(columns)], preserve_index=False)


def register_members(
    engine: Engine, records: Mapping[str, pd.DataFrame], links: pd.DataFrame
) -> tuple[str, ...]:
    """Create ``reconcile_members`` (records with their clusters); returns the roles, in order.

    One source at a time, joined to its own links: the join's hash table then holds one
    source's links, not all of them (half a gigabyte less at a million births).
    """
    roles = tuple(ordered_roles([role for role, frame in records.items() if len(frame)]))
    link_table = _arrow(links, LINK_COLUMNS)
    anchors = (RULE_ANCHOR, RULE_SINGLETON)
    engine.execute(sql.create_empty_members())
    for role in roles:
        engine.register("reconcile_input_0", _arrow(records[role], RECORD_COLUMNS))
        engine.register("reconcile_links", link_table.filter(pc.equal(link_table.column("role"), role)))
        try:
            engine.execute(sql.insert_members(sql.record_union([("reconcile_input_0", role)]), anchor_rules=anchors))
        finally:
            engine.unregister("reconcile_input_0")
            engine.unregister("reconcile_links")
    members = int(engine.arrow(sql.member_totals()).column("members")[0].as_py())
    expected = sum(len(records[role]) for role in roles)
    if not members == expected == len(links):
        raise LinkageMismatch(f"{members} records joined to links, of {expected} records and {len(links)} links")
    return roles


def period_map(engine: Engine, kind: str) -> pd.DataFrame:
    """``birth_date, period`` for every birth date among the records (computed once per date)."""
    dates = engine.frame(sql.distinct_birth_dates())["birth_date"]
    return pd.DataFrame({
        "birth_date": dates.astype("date32[pyarrow]"),
        "period": period_of(dates, kind).astype("string[pyarrow]"),
    })


def build_births(
    engine: Engine,
    records: Mapping[str, pd.DataFrame],
    links: pd.DataFrame,
    period_kind: str,
    *,
    on_step: Callable[[str], None] | None = None,
) -> Births:
    """Build ``reconcile_births`` on ``engine`` and return it as a DataFrame.

    The temporary tables stay on the engine for :mod:`.counts` and :mod:`.unregistered`;
    :func:`release` drops them.
    """
    roles = register_members(engine, records, links)
    if on_step:
        on_step("consensus")
    engine.register("reconcile_priority", priority_table(roles))
    engine.register("reconcile_periods", period_map(engine, period_kind))
    engine.register("reconcile_levels", levels_table())
    if not roles:
        return Births((), pd.DataFrame(), period_kind)
    with engine.limited_threads(CONSENSUS_THREADS):
        engine.execute(sql.create_births(roles))
    table = engine.frame("SELECT * FROM reconcile_births ORDER BY cluster_id")
    return Births(roles, table, period_kind)


def release(engine: Engine) -> None:
    """Drop what :func:`build_births` left on the engine."""
    for name in TEMP_TABLES:
        engine.execute(f"DROP TABLE IF EXISTS {name}")
    for view in _VIEWS:
        try:
            engine.unregister(view)
        except Exception:  # noqa: BLE001 - a view that was never registered
            pass


def next_period(period: str) -> str:
    """The period right after ``period`` (same kind)."""
    _, last_day = period_bounds(period)
    following = pd.Series([last_day + dt.timedelta(days=1)])
    return str(period_of(following, period_kind(period)).iloc[0])


#: A period counts as covered by the register when it holds at least this share of the
#: register's median births per period (a few mistyped dates do not stretch the window).
WINDOW_MIN_SHARE = 0.05


def reconciliation_window(births: Births) -> list[str]:
    """The periods reconciled: from the planning register's first covered period to its last.

    Births outside the periods the register covers are not missing from it (a school list of
    older children, a hukou registration after the export): they are counted in
    ``counts.csv`` but neither listed as unregistered nor estimated. A period is covered when
    the register holds at least :data:`WINDOW_MIN_SHARE` of its median births per period
    there, so that a handful of mistyped birth dates does not add a period; a period inside
    the range with few or no register births stays in: an empty register is what an audit
    must see.
    """
    table = births.table
    if table.empty or "in_planning" not in table:
        return []
    periods = table.loc[table["in_planning"].fillna(False).astype(bool), "period"].dropna()
    if periods.empty:
        return []
    per_period = periods.astype(str).value_counts()
    covered = per_period[per_period >= WINDOW_MIN_SHARE * per_period.median()].index
    first, last = min(covered, key=_period_start), max(covered, key=_period_start)
    window = [first]
    while window[-1] != last:
        window.append(next_period(window[-1]))
    return window


def _period_start(period: str) -> dt.date:
    return period_bounds(str(period))[0]
