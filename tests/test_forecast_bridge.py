"""The one outlook's parts and the forecast bridge, on the demo company.

* the parts of every outcome add up to its mean, nodes sum their owners, segments sum to the total, and the
  scenarios average to the exact expectation (within Monte Carlo error);
* the simulation draws common random numbers: the same deals in another order give the same scenarios, and a
  deal's draw does not depend on which other deals are in the book;
* the bridge between two as-of dates reconciles to the cent for every node and statistic, starts and ends at the
  forecasts themselves, and puts each deal's movement where it belongs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from saleslead.forecast.bridge import COMPONENTS, forecast_bridge
from saleslead.forecast.fitted import fitted_outlook
from saleslead.forecast.outlook import Outlook, forecast_result, outlook_parts, simulation_book
from saleslead.forecast.panel import load_book
from saleslead.forecast.simulate import keyed_uniforms, simulate
from saleslead.periods import Period
from saleslead.seat import Seat, open_seat
from saleslead.store.answers import Answers
from saleslead.store.shelf import Shelf

PERIOD = Period.parse("2026-Q4")
EARLIER, LATER = date(2026, 11, 10), date(2026, 11, 17)
SCENARIOS = 4000


@pytest.fixture(scope="module")
def outlooks(demo_store_file: Path, demo_shelf: Shelf) -> Iterator[tuple[Outlook, Outlook, Seat]]:
    """The outlooks as of both dates, from one deal book (loaded at the later date); their fitted models and
    calibrations those of the forecasts of those days, kept on the run's shelf (the week's cadence fits them)."""
    seat = open_seat(demo_store_file, read_only=True)  # the run's shared demo store: only read
    book = load_book(seat.store, LATER)
    answers = Answers(seat.store, seat.settings, shelf=demo_shelf)
    b = fitted_outlook(seat.store, seat.settings, answers, PERIOD, LATER, SCENARIOS, book=book)
    a = fitted_outlook(seat.store, seat.settings, answers, PERIOD, EARLIER, SCENARIOS, book=book)
    yield a, b, seat
    seat.close()


def test_parts_add_up_to_the_mean(outlooks: tuple[Outlook, Outlook, Seat]) -> None:
    _, b, seat = outlooks
    result = forecast_result(b, seat.settings, None, False)
    for x in (result.total, *result.segments, *result.nodes):
        assert x.mean == pytest.approx(x.closed_won + x.expected_open + x.expected_new, abs=0.011)
        assert 0 <= x.expected_in_period <= x.expected_open + 0.01
        assert x.expected_in_period <= x.open_in_period + 0.01
    assert result.total.expected_open > 0
    assert result.total.closed_won == pytest.approx(float(b.closed.amount.sum()))
    for field in ("closed_won", "expected_open", "expected_new", "open_in_period", "mean"):
        assert getattr(result.total, field) == pytest.approx(sum(getattr(s, field) for s in result.segments), abs=0.05)
    # every node sums the owners under it: the top nodes together hold the total
    tops = [n for n in result.nodes if n.parent_id is None]
    assert sum(n.mean for n in tops) == pytest.approx(result.total.mean, abs=0.05)
    # the scenarios average to the exact expectation (Monte Carlo error of 4,000 scenarios)
    sd = float(b.sim.total.std())
    assert abs(float(b.sim.total.mean()) - result.total.mean) < 4 * sd / np.sqrt(SCENARIOS)
    # a deal's expected amount is its part of expected_open
    deals = forecast_result(b, seat.settings, None, True).deals
    assert deals is not None
    assert sum(d.expected_amount for d in deals) == pytest.approx(result.total.expected_open, rel=1e-4)
    nodes, segments = outlook_parts(b)
    assert nodes.shape[1] == segments.shape[1] == 5


def test_common_random_numbers(outlooks: tuple[Outlook, Outlook, Seat]) -> None:
    _, b, _ = outlooks
    owner_codes = np.unique(np.concatenate([b.open.owner, b.closed.owner]))
    base = simulation_book(b.book, b.open, b.p, b.closed, b.new, owner_codes, b.hierarchy)
    sd = b.shock.sd
    first = simulate(base, sd, 2000, 7, len(b.book.segment_names))
    order = np.random.default_rng(3).permutation(len(base.p))
    shuffled = replace(base, p=base.p[order], amount=base.amount[order], owner=base.owner[order],
                       segment=base.segment[order], key=base.key[order] if base.key is not None else None)  # fmt: skip
    again = simulate(shuffled, sd, 2000, 7, len(b.book.segment_names))
    assert np.array_equal(first.total, again.total)
    assert np.array_equal(first.nodes, again.nodes)
    # a deal's uniform in a scenario depends on its key and the scenario only
    assert base.key is not None
    keys = base.key[:50]
    scen = np.arange(100)
    full = keyed_uniforms(keys, scen, 7)
    assert np.array_equal(full[:, 10:20], keyed_uniforms(keys[10:20], scen, 7))
    assert np.array_equal(full[40:60], keyed_uniforms(keys, scen[40:60], 7))
    assert not np.array_equal(full, keyed_uniforms(keys, scen, 8))
    share = float((full < 16384).mean())  # a quarter of 16-bit uniforms fall below 2^14
    assert 0.23 < share < 0.27


def test_bridge_reconciles_exactly(outlooks: tuple[Outlook, Outlook, Seat]) -> None:
    a, b, seat = outlooks
    result = forecast_bridge(seat.store, seat.settings, a, b, scenarios=SCENARIOS, call=b.sim.total.mean())
    assert result.reconciles
    assert result.order == [name for name, _ in COMPONENTS]
    fa, fb = forecast_result(a, seat.settings, None, False), forecast_result(b, seat.settings, None, False)
    total = result.total
    # it starts and ends at the forecasts themselves, and the components add up to the cent
    assert (total.start.p50, total.end.p50) == (fa.total.p50, fb.total.p50)
    assert (total.start.mean, total.end.mean) == (fa.total.mean, fb.total.mean)
    for field in ("p10", "p50", "p90", "mean"):
        change = getattr(total.end, field) - getattr(total.start, field)
        assert sum(getattr(s, field) for s in total.steps) == pytest.approx(change, abs=0.005)
    assert total.start.p_call is not None
    assert total.end.p_call is not None
    assert sum(s.p_call or 0.0 for s in total.steps) == pytest.approx(total.end.p_call - total.start.p_call)
    nodes_a = {n.id: n for n in fa.nodes}
    for node in result.nodes:
        assert sum(s.p50 for s in node.steps) == pytest.approx(node.end.p50 - node.start.p50, abs=0.005)
        if node.node in nodes_a:
            assert node.start.p50 == nodes_a[node.node].p50
    steps = {s.component: s for s in total.steps}
    # owner changes move nothing in the total
    assert (steps["reassigned"].p50, steps["reassigned"].mean) == (0.0, 0.0)
    # each movement holds the deals it names: the won ones were open then and are won now
    won_now = {b.book.ids[int(d)] for d in b.closed.deal}
    open_then = {b.book.ids[int(d)] for d in a.open.deal}
    assert steps["won"].deals > 0
    assert all(d.opportunity_id in won_now & open_then for d in steps["won"].top_deals)
    was_open = np.isin(b.closed.deal, a.open.deal)
    assert steps["won"].amount == pytest.approx(float(b.closed.amount[was_open].sum()))  # the amounts won
    assert steps["won"].deals == int(was_open.sum())
    assert steps["lost"].mean <= 0
    assert steps["won"].mean >= 0
    with pytest.raises(ValueError, match="earlier first"):
        forecast_bridge(seat.store, seat.settings, b, a, scenarios=SCENARIOS)
