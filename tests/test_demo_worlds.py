"""The demo's worlds: structurally different orgs from shape knobs, the standard demo left as it was."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from saleslead.demo import DemoConfig, generate
from saleslead.demo.company import build_world
from saleslead.demo.worlds import Shape, held_out, stage_ladder, worlds

SPAN = {"opportunities": 1_500, "seed": 5, "start": date(2024, 1, 1), "end": date(2025, 12, 31)}


def _opps(tmp_path: Path, shape: Shape) -> pd.DataFrame:
    generate(tmp_path / shape.name, DemoConfig(**SPAN, shape=shape))  # type: ignore[arg-type]
    return pd.read_csv(tmp_path / shape.name / "Opportunity.csv")


def test_the_set_has_six_or_more_distinct_worlds_and_some_held_out() -> None:
    named = worlds()
    assert len(named) >= 6
    assert len({(s.open_stages, s.seasonality, s.cycle, s.sandbag, s.headcount) for s in named.values()}) >= 6
    assert set(held_out()) < set(named)
    assert all(not s.standard for s in named.values())


def test_the_standard_shape_draws_the_standard_world() -> None:
    plain = build_world(DemoConfig(**SPAN))  # type: ignore[arg-type]
    named = build_world(DemoConfig(**SPAN, shape=Shape(name="another name")))  # type: ignore[arg-type]
    assert np.array_equal(plain.life.history.amount, named.life.history.amount)
    assert np.array_equal(plain.life.closed_s, named.life.closed_s)


@pytest.mark.parametrize("stages", [4, 7])
def test_stage_count_shapes_the_ladder(tmp_path: Path, stages: int) -> None:
    opps = _opps(tmp_path, Shape(name=f"s{stages}", open_stages=stages))
    names, probability, _ = stage_ladder(stages)
    assert set(opps.StageName) <= set(names)
    assert len(set(opps.StageName)) == stages + 2
    won = opps[opps.IsWon]
    assert (won.StageName == "Closed Won").all()
    assert (won.Probability == 100).all()
    assert list(probability[:stages]) == sorted(probability[:stages])


def test_knobs_move_what_they_name(tmp_path: Path) -> None:
    base = _opps(tmp_path, Shape(name="base", cycle=1.01))
    long = _opps(tmp_path, Shape(name="long", cycle=2.0))

    def cycle(o: pd.DataFrame) -> float:
        won = o[o.IsWon]
        return float((pd.to_datetime(won.CloseDate) - pd.to_datetime(won.CreatedDate.str[:10])).dt.days.median())

    assert cycle(long) > 1.5 * cycle(base)
    sandbag = _opps(tmp_path, Shape(name="sandbag", sandbag=0.9, optimism=(1.0, 9.0)))
    optimist = _opps(tmp_path, Shape(name="optimist", optimism=(9.0, 1.0)))
    assert (sandbag.ForecastCategoryName == "Commit").sum() < (optimist.ForecastCategoryName == "Commit").sum()
    whales = _opps(tmp_path, Shape(name="whales", whale_share=0.05, whale_factor=10.0))
    assert whales.Amount.sum() > 1.3 * base.Amount.sum()
