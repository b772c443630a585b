"""Learn the stage ladder of an org from its data; configuration overrides what is learned.

No stage name is written in this module: names, order and open/won/lost come from the rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from saleslead.ingest.canonical import StageInfo
from saleslead.ingest.settings import StageSetting

__all__ = ["learn_stages"]

#: Forecast categories that mean "no longer in the forecast" (Salesforce's standard values).
_CLOSED_CATEGORIES = ("omitted", "closed")
_RANK_SAMPLE = 300_000


def _median(tally: list[tuple[float, int]]) -> float:
    """Exact median of values given as sorted (value, count) pairs."""
    total = sum(count for _, count in tally)
    low_rank, high_rank = (total - 1) // 2, total // 2
    low = high = tally[-1][0]
    seen = 0
    found_low = False
    for value, count in tally:
        if not found_low and seen + count > low_rank:
            low, found_low = value, True
        if seen + count > high_rank:
            high = value
            break
        seen += count
    return round((low + high) / 2, 6)


@dataclass
class _Seen:
    name: str
    probability: float | None = None
    closed_votes: float | None = None  # share of Opportunity rows with IsClosed
    won_votes: float | None = None
    rank: float = math.inf  # mean position of first appearance within an opportunity's history
    closed_category: bool = False


def learn_stages(
    opportunities: pa.Table, history: pa.Table, configured: Sequence[StageSetting] = ()
) -> tuple[StageInfo, ...]:
    """Order every stage seen in ``opportunities``/``history`` and say which are closed and won.

    Open stages come first, by median probability, then by mean position of first appearance in
    each opportunity's history; closed stages come last, won before lost. ``is_closed``/``is_won``
    come from IsClosed/IsWon on Opportunity rows; a stage seen only in history is won at
    probability 100, lost at probability 0 with an Omitted/Closed forecast category, else open.
    ``configured`` stages keep their given order and flags and are placed before learned ones of
    the same kind (open, won, lost).
    """
    seen = _collect(opportunities, history)
    by_name = {stage.name: stage for stage in configured}
    learned_open: list[_Seen] = []
    learned_closed: list[tuple[_Seen, bool]] = []
    for stage in seen.values():
        if stage.name in by_name:
            continue
        closed, won = _flags(stage)
        if closed:
            learned_closed.append((stage, won))
        else:
            learned_open.append(stage)
    learned_open.sort(key=_open_key)
    learned_closed.sort(key=lambda item: (not item[1], item[0].name))
    ordered: list[tuple[str, bool, bool, float | None]] = []
    ordered += [(s.name, False, False, _probability(s, seen)) for s in configured if not s.is_closed]
    ordered += [(s.name, False, False, s.probability) for s in learned_open]
    closing = [(s.name, True, s.is_won, _probability(s, seen)) for s in configured if s.is_closed]
    closing += [(s.name, True, won, s.probability) for s, won in learned_closed]
    ordered += sorted(closing, key=lambda item: not item[2])  # stable: won first, each in given order
    return tuple(
        StageInfo(name=name, order=index, is_closed=closed, is_won=won, probability=probability)
        for index, (name, closed, won, probability) in enumerate(ordered)
    )


def _probability(setting: StageSetting, seen: dict[str, _Seen]) -> float | None:
    if setting.probability is not None:
        return setting.probability
    stage = seen.get(setting.name)
    return stage.probability if stage else None


def _open_key(stage: _Seen) -> tuple[bool, float, float, str]:
    probability = stage.probability
    return (probability is None, probability or 0.0, stage.rank, stage.name)


def _flags(stage: _Seen) -> tuple[bool, bool]:
    if stage.closed_votes is not None:
        closed = stage.closed_votes >= 0.5
        return closed, closed and (stage.won_votes or 0.0) >= 0.5
    if stage.probability is not None and stage.probability >= 100:
        return True, True
    if stage.probability is not None and stage.probability <= 0 and stage.closed_category:
        return True, False
    return False, False


def _collect(opportunities: pa.Table, history: pa.Table) -> dict[str, _Seen]:
    """Per stage: median probability, IsClosed/IsWon shares, first-appearance rank (DuckDB, in parallel)."""
    opps = opportunities.select(["opportunity_id", "stage", "probability", "is_closed", "is_won"])
    hist = history.select(["opportunity_id", "changed_at", "stage", "probability", "forecast_category"])
    seen: dict[str, _Seen] = {}
    tallies: dict[str, list[tuple[float, int]]] = {}
    # Ranks need whole histories; above _RANK_SAMPLE rows a fixed hash-chosen subset of deals is used.
    sample = (
        "" if hist.num_rows <= _RANK_SAMPLE else f" AND hash(opportunity_id) % {hist.num_rows // _RANK_SAMPLE + 1} = 0"
    )
    with duckdb.connect() as con:
        con.register("opps", opps)
        con.register("hist", hist)
        counts = con.sql(
            "SELECT stage, probability, count(*) FROM ("
            " SELECT stage, probability FROM opps UNION ALL SELECT stage, probability FROM hist)"
            " WHERE stage IS NOT NULL GROUP BY ALL ORDER BY stage, probability NULLS LAST"
        ).fetchall()
        for name, probability, count in counts:
            seen.setdefault(name, _Seen(name))
            if probability is not None:
                tallies.setdefault(name, []).append((float(probability), int(count)))
        for name, tally in tallies.items():
            seen[name].probability = _median(tally)
        votes = con.sql(
            "SELECT stage, avg(is_closed::DOUBLE), avg(is_won::DOUBLE) FROM opps WHERE stage IS NOT NULL GROUP BY stage"
        ).fetchall()
        for name, closed, won in votes:
            seen[name].closed_votes = closed
            seen[name].won_votes = won
        ranks = con.sql(
            "WITH firsts AS (SELECT opportunity_id, stage, min(changed_at) AS first_at FROM hist"
            f" WHERE stage IS NOT NULL AND opportunity_id IS NOT NULL{sample} GROUP BY ALL),"
            " positions AS (SELECT stage, row_number() OVER"
            " (PARTITION BY opportunity_id ORDER BY first_at, stage) - 1 AS position FROM firsts)"
            " SELECT stage, avg(position) FROM positions GROUP BY stage"
        ).fetchall()
        for name, rank in ranks:
            seen[name].rank = float(rank)
        closing = con.sql(
            "SELECT DISTINCT stage FROM hist WHERE stage IS NOT NULL"
            f" AND lower(forecast_category) IN {_CLOSED_CATEGORIES!r}"
        ).fetchall()
        for (name,) in closing:
            seen[name].closed_category = True
    return seen
