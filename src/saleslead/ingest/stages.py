"""Learn the stage ladder of an org from its data; configuration overrides what is learned.

No stage name is written in this module: names, order and open/won/lost come from the rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from saleslead.ingest.canonical import StageInfo
from saleslead.ingest.convert import mask_of
from saleslead.ingest.settings import StageSetting

__all__ = ["learn_stages"]

#: Forecast categories that mean "no longer in the forecast" (Salesforce's standard values).
_CLOSED_CATEGORIES = ("omitted", "closed")


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
    the same kind (open or closed).
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
    closed_configured = sorted((s for s in configured if s.is_closed), key=lambda s: not s.is_won)
    ordered += [(s.name, True, s.is_won, _probability(s, seen)) for s in closed_configured]
    ordered += [(s.name, True, won, s.probability) for s, won in learned_closed]
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
    seen: dict[str, _Seen] = {}
    parts = [t.select(["stage", "probability"]) for t in (opportunities, history) if t.num_rows]
    if not parts:
        return seen
    both = pa.concat_tables(parts).filter(pc.is_valid(pa.concat_tables(parts).column("stage")))
    medians = both.group_by("stage", use_threads=False).aggregate([("probability", "approximate_median")])
    for name, median in zip(
        medians.column("stage").to_pylist(),
        medians.column("probability_approximate_median").to_pylist(),
        strict=True,
    ):
        seen[name] = _Seen(name, None if median is None else round(float(median), 6))
    if opportunities.num_rows:
        flags = opportunities.select(["stage", "is_closed", "is_won"]).filter(
            pc.is_valid(opportunities.column("stage"))
        )
        flags = flags.set_column(1, "is_closed", pc.cast(flags.column("is_closed"), pa.float64()))
        flags = flags.set_column(2, "is_won", pc.cast(flags.column("is_won"), pa.float64()))
        votes = flags.group_by("stage", use_threads=False).aggregate(
            [("is_closed", "mean"), ("is_won", "mean")]
        )
        for name, closed, won in zip(
            votes.column("stage").to_pylist(),
            votes.column("is_closed_mean").to_pylist(),
            votes.column("is_won_mean").to_pylist(),
            strict=True,
        ):
            seen[name].closed_votes = closed
            seen[name].won_votes = won
    if history.num_rows:
        _history_facts(history, seen)
    return seen


def _history_facts(history: pa.Table, seen: dict[str, _Seen]) -> None:
    rows = history.select(["opportunity_id", "changed_at", "stage", "forecast_category"]).filter(
        pc.and_(pc.is_valid(history.column("stage")), pc.is_valid(history.column("opportunity_id")))
    )
    if rows.num_rows == 0:
        return
    rows = rows.sort_by([("opportunity_id", "ascending"), ("changed_at", "ascending")])
    ids = rows.column("opportunity_id").combine_chunks()
    index = np.arange(rows.num_rows, dtype=np.int64)
    starts = np.ones(rows.num_rows, dtype=bool)
    if rows.num_rows > 1:
        starts[1:] = ~mask_of(pc.equal(ids[1:], ids[:-1]))
    group_start = np.maximum.accumulate(np.where(starts, index, 0))
    rows = rows.append_column("position", pa.array((index - group_start).astype(np.float64)))
    firsts = rows.group_by(["opportunity_id", "stage"], use_threads=False).aggregate([("position", "min")])
    ranks = firsts.group_by("stage", use_threads=False).aggregate([("position_min", "mean")])
    for name, rank in zip(
        ranks.column("stage").to_pylist(), ranks.column("position_min_mean").to_pylist(), strict=True
    ):
        seen[name].rank = float(rank)
    category = pc.utf8_lower(pc.fill_null(rows.column("forecast_category"), ""))
    closing = rows.filter(pc.is_in(category, value_set=pa.array(_CLOSED_CATEGORIES)))
    for name in set(closing.column("stage").to_pylist()):
        seen[name].closed_category = True
