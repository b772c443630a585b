"""Forecast JSON, calls, the honesty guard and the ledger on the demo company."""

from __future__ import annotations

from datetime import date

import pytest

from saleslead.errors import InputError
from saleslead.forecast.schemas import (
    AccuracyRequest,
    CallCheckRequest,
    CallListRequest,
    CallSubmitRequest,
    ForecastRequest,
    SeatCallRequest,
)
from saleslead.seat import Seat
from saleslead.settings import Settings

AS_OF = date(2026, 5, 20)


def test_forecast_calls_guard_and_ledger(demo_seat: Seat) -> None:
    demo_seat.settings = Settings(scenarios=1_000)
    result = demo_seat.forecast(ForecastRequest(period="2026-Q2", as_of=AS_OF, deals=True))
    body = result.model_dump(mode="json")
    assert {"period", "as_of", "scenarios", "total", "nodes", "method", "deals"} <= set(body)
    assert set(body["total"]) == {
        "closed_won", "p10", "p50", "p90", "mean", "expected_open", "expected_new", "open_in_period",
        "expected_in_period",
    }  # fmt: skip
    t = result.total
    assert t.closed_won <= t.p10 <= t.p50 <= t.p90
    top = [n for n in result.nodes if n.level == 0 and n.open_deals > 0]
    assert sum(n.mean for n in top) == pytest.approx(t.mean, rel=1e-4)  # every deal rolls up to one top
    for n in result.nodes:
        assert {"commit", "best_case", "pipeline"} <= set(n.model_dump())
    assert result.deals is not None
    assert len(result.deals) == sum(n.open_deals for n in top)
    assert all(0.0 <= d.p_win_in_period <= 1.0 and d.factors for d in result.deals)
    rel = result.reliability  # the reliability diagram: the calibration's past origins, out of sample
    assert rel is not None
    assert sum(int(b["deals"]) for b in rel.bins) == rel.deals > 1_000
    assert all(0.0 <= float(b["observed"]) <= 1.0 for b in rel.bins)
    assert rel.brier < rel.brier_stage
    expected_open = sum(d.expected_amount for d in result.deals)
    new = sum(s.new_pipeline_mean for s in result.segments)
    assert t.mean == pytest.approx(t.closed_won + expected_open + new, rel=0.03)

    # a call far above the range outruns the pipeline; the flag is stored for this call version
    far = demo_seat.call_submit(
        CallSubmitRequest(node="total", period="2026-Q2", amount=t.p90 * 2, as_of=AS_OF, author="vp")
    )
    assert far.check is not None
    assert far.check.verdict == "outruns-pipeline"
    assert far.check.p_outcome_at_least_call == 0.0
    assert far.check.deals_needed
    flags = demo_seat.forecast_flags()
    assert [(f.node, f.version) for f in flags] == [("total", 1)]
    # someone else changing the call must give a reason
    with pytest.raises(InputError):
        demo_seat.call_submit(CallSubmitRequest(node="total", period="2026-Q2", amount=t.p10, author="cro"))
    fair = demo_seat.call_submit(
        CallSubmitRequest(node="total", period="2026-Q2", amount=t.p10, as_of=AS_OF, author="cro", reason="realism")
    )
    assert fair.version == 2
    assert fair.adjustment
    assert fair.previous_amount == t.p90 * 2
    assert fair.check is not None
    assert fair.check.verdict == "supported"
    assert demo_seat.forecast_flags() == []  # the call changed: the flag went with it
    # a call below the P10 is a sandbag: the deals it counts out, most expected first, cover the cushion
    low = demo_seat.call_submit(
        CallSubmitRequest(node="total", period="2026-Q2", amount=t.p10 * 0.8, as_of=AS_OF, author="cro", reason="low")
    )
    assert low.check is not None
    assert low.check.verdict == "sandbag"
    assert low.check.flagged
    assert low.check.cushion == pytest.approx(t.mean - t.p10 * 0.8, rel=0.02)  # scenario average vs exact mean
    slip = low.check.deals_to_slip
    assert slip
    assert sum(d.expected_amount for d in slip) >= low.check.cushion - 1.0
    assert sum(d.expected_amount for d in slip[:-1]) < low.check.cushion
    assert [d.expected_amount for d in slip] == sorted((d.expected_amount for d in slip), reverse=True)
    assert low.check.deals_needed == []
    fair = demo_seat.call_submit(
        CallSubmitRequest(node="total", period="2026-Q2", amount=t.p10, as_of=AS_OF, author="cro", reason="realism")
    )
    history = demo_seat.call_list(CallListRequest(period="2026-Q2", history=True))
    assert [c.amount for c in history.calls] == [t.p90 * 2, t.p10, t.p10 * 0.8, t.p10]
    checked = demo_seat.call_check(CallCheckRequest(period="2026-Q2", as_of=AS_OF))
    assert checked.calls[0].check is not None
    assert checked.calls[0].check.verdict == "supported"

    seat_call = demo_seat.seat_call(SeatCallRequest(period="2026-Q2", as_of=AS_OF))
    assert seat_call.amount == t.p50
    assert (seat_call.p10, seat_call.p90) == (t.p10, t.p90)

    ledger = demo_seat.forecast_accuracy(AccuracyRequest(as_of=date(2026, 7, 15)))
    assert [r.node for r in ledger.rows] == ["total"]
    row = ledger.rows[0]
    assert row.calls == 1
    assert row.thin
    assert row.mean_error == pytest.approx(ledger.team_bias)


def test_seat_call_and_call_check_take_a_scenario_count(demo_seat: Seat) -> None:
    period = "2026-Q2"
    forecast = demo_seat.forecast(ForecastRequest(period=period, as_of=AS_OF, scenarios=500))
    assert forecast.scenarios == 500
    seat_call = demo_seat.seat_call(SeatCallRequest(period=period, as_of=AS_OF, scenarios=500))
    assert seat_call.reason is not None
    assert seat_call.reason.startswith("P50 of 500 scenarios")
    assert seat_call.amount == forecast.total.p50
    demo_seat.call_submit(
        CallSubmitRequest(node="total", period=period, amount=forecast.total.p50, as_of=AS_OF, author="vp")
    )
    checked = demo_seat.call_check(CallCheckRequest(period=period, as_of=AS_OF, scenarios=500))
    check = checked.calls[0].check
    assert check is not None
    assert (check.node_p10, check.node_p50, check.node_p90) == (
        forecast.total.p10,
        forecast.total.p50,
        forecast.total.p90,
    )
    assert check.p_outcome_at_least_call * 500 == pytest.approx(round(check.p_outcome_at_least_call * 500))
