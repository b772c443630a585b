"""The funnel core shared by every mandate: point-in-time state, conversion, durations, cohorts, run-rates.

Every function takes ``as_of`` and sees nothing recorded after the end of that day. Grouping is by
any of :data:`DIMENSIONS` (segment, motion, channel, owner_id); results are typed pydantic models that
carry their sample size and interval. Called without tables, each measure reads the stored events
itself (a filter and an aggregation: the events carry ``valid_to`` and the run/first-event columns);
``deals(store, as_of).cache()`` may be passed to several deal-level measures on one date.
"""

from saleslead.funnel.cohorts import CreatedWeek, CreationYield, creation_yield, pipeline_created
from saleslead.funnel.conversion import (
    FunnelConversion,
    StageConversion,
    default_maturity,
    stage_conversion,
    value_rate,
)
from saleslead.funnel.durations import (
    CycleLength,
    StageDuration,
    Velocity,
    cycle_length,
    kaplan_meier_quantiles,
    sales_velocity,
    stage_durations,
)
from saleslead.funnel.runrates import PeriodPosition, SamePoint, period_position, same_point_yield, snapshot_of
from saleslead.funnel.spans import DIMENSIONS, check_by, deals, group_of, spans, spans_until
from saleslead.funnel.state import STATE_COLUMNS, end_of, history_until, state_as_of

__all__ = [
    "DIMENSIONS",
    "STATE_COLUMNS",
    "CreatedWeek",
    "CreationYield",
    "CycleLength",
    "FunnelConversion",
    "PeriodPosition",
    "SamePoint",
    "StageConversion",
    "StageDuration",
    "Velocity",
    "check_by",
    "creation_yield",
    "cycle_length",
    "deals",
    "default_maturity",
    "end_of",
    "group_of",
    "history_until",
    "kaplan_meier_quantiles",
    "period_position",
    "pipeline_created",
    "sales_velocity",
    "same_point_yield",
    "snapshot_of",
    "spans",
    "spans_until",
    "stage_conversion",
    "stage_durations",
    "state_as_of",
    "value_rate",
]
