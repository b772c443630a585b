"""Leakage: the forecast as of D sees nothing recorded after D.

Two checks. (1) On the full demo store, a forecast from history cut at D equals the forecast made from a
deal book that holds 15 more months (the backtest's path): exactly. (2) Against a store holding only the
export cut at D: every field of every deal is identical — the owner too, since the demo records its
reassignments in OpportunityFieldHistory — and so is the forecast, to the last scenario of every node.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from saleslead.demo import generate
from saleslead.forecast.model import fit_deal_model, walk_forward
from saleslead.forecast.outlook import run_outlook
from saleslead.forecast.panel import day_number, from_day_number, load_book
from saleslead.forecast.schemas import ForecastRequest
from saleslead.periods import Period
from saleslead.seat import IngestRequest, open_seat
from saleslead.settings import Settings
from saleslead.store import Store

from .conftest import DEMO_CONFIG

CUT = date(2025, 8, 14)


@pytest.fixture(scope="module")
def cut_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cut") / "export"
    generate(folder, DEMO_CONFIG, cut_at=CUT)
    path = folder.parent / "cut.duckdb"
    with open_seat(path) as seat:
        seat.ingest(IngestRequest(path=folder))
    return path


def test_later_history_in_the_book_changes_nothing(demo_store_file: Path) -> None:
    settings = Settings(scenarios=1_000)
    period = Period.parse("2025-Q3")
    with Store.open(demo_store_file, read_only=True) as store:
        cut = run_outlook(store, settings, period, CUT)
        later = run_outlook(store, settings, period, CUT, book=load_book(store, date(2026, 11, 24)))
    assert cut.model.report == later.model.report
    assert np.array_equal(cut.p, later.p)
    assert cut.shock == later.shock
    assert np.array_equal(cut.sim.total, later.sim.total)
    assert np.array_equal(cut.sim.nodes, later.sim.nodes)


def test_cut_store_agrees(demo_store_file: Path, cut_store: Path) -> None:
    with Store.open(demo_store_file, read_only=True) as full, Store.open(cut_store, read_only=True) as cut:
        full_book, cut_book = load_book(full, CUT), load_book(cut, CUT)
        a = full_book.states_at(day_number(CUT))
        b = cut_book.states_at(day_number(CUT))
        owners_full = [full_book.owners[i] for i in a.owner]
        owners_cut = [cut_book.owners[i] for i in b.owner]
    for field in ("stage", "amount", "close_day", "pushes", "days_in_stage", "age_days", "days_since_activity"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert owners_full == owners_cut
    request = ForecastRequest(period="2025-Q3", as_of=CUT, deals=True, scenarios=1_000)
    with open_seat(demo_store_file, read_only=True) as full_seat, open_seat(cut_store, read_only=True) as cut_seat:
        x = full_seat.forecast(request)
        y = cut_seat.forecast(request)
    assert x.method.training_rows == y.method.training_rows
    assert x.total == y.total
    assert x.deals is not None
    assert y.deals is not None
    px = {d.opportunity_id: (d.owner_id, d.p_win_in_period) for d in x.deals}
    py = {d.opportunity_id: (d.owner_id, d.p_win_in_period) for d in y.deals}
    assert len(px) > 100
    assert px == py
    assert [(n.id, n.p10, n.p50, n.p90) for n in x.nodes] == [(n.id, n.p10, n.p50, n.p90) for n in y.nodes]


def test_walk_forward_models_see_nothing_after_their_cut(demo_store_file: Path) -> None:
    # the window calibration's models, each fit "as of" an earlier day: the one at a cut is the same, bit for
    # bit, from a book that ends at that cut as from the whole history
    min_sample = Settings().min_sample
    with Store.open(demo_store_file, read_only=True) as store:
        full = load_book(store, date(2026, 11, 24))
        model = fit_deal_model(full, day_number(CUT), 1, min_sample)
        cuts = [day_number(date(2025, 2, 20)), day_number(date(2025, 5, 20))]
        later = walk_forward(model, full, cuts, min_sample)
        for j, cut in enumerate(cuts):
            alone = walk_forward(model, load_book(store, from_day_number(cut)), cuts, min_sample)[j]
            fitted = later[j]
            assert fitted is not None
            assert alone is not None
            assert np.array_equal(fitted.base.coef_, alone.base.coef_)
            assert np.array_equal(fitted.base.intercept_, alone.base.intercept_)
    assert not np.array_equal(later[0].base.coef_, later[1].base.coef_)  # they did learn different things


def _ingest_without_tasks(folder: Path, cut_at: date | None) -> Path:
    generate(folder, DEMO_CONFIG, cut_at=cut_at)
    (folder / "Task.csv").unlink()  # an org that exports no activities: LastActivityDate lives on the snapshot
    path = folder.parent / f"{folder.name}.duckdb"
    with open_seat(path) as seat:
        seat.ingest(IngestRequest(path=folder))
    return path


@pytest.mark.slow
def test_two_exports_without_activities_agree(tmp_path_factory: pytest.TempPathFactory) -> None:
    # train/serve consistency: the snapshot's LastActivityDate is known at the export's date and at no
    # training origin; the model does not read it, so the export taken at D and the one taken 15 months later
    # forecast D alike — total and every node within 1 % (here: exactly)
    root = tmp_path_factory.mktemp("no-tasks")
    early = _ingest_without_tasks(root / "early", CUT)
    late = _ingest_without_tasks(root / "late", None)
    with Store.open(early, read_only=True) as a, Store.open(late, read_only=True) as b:
        sa, sb = load_book(a, CUT).states_at(day_number(CUT)), load_book(b, CUT).states_at(day_number(CUT))
    assert np.array_equal(sa.days_since_logged, sb.days_since_logged)
    assert not np.array_equal(sa.days_since_activity, sb.days_since_activity)  # the snapshot field differs
    request = ForecastRequest(period="2025-Q3", as_of=CUT, scenarios=1_000)
    with open_seat(early, read_only=True) as x_seat, open_seat(late, read_only=True) as y_seat:
        x, y = x_seat.forecast(request), y_seat.forecast(request)
    assert x.total.p50 == pytest.approx(y.total.p50, rel=0.01)
    assert x.total.mean == pytest.approx(y.total.mean, rel=0.01)
    assert [n.id for n in x.nodes] == [n.id for n in y.nodes]
    for m, n in zip(x.nodes, y.nodes, strict=True):
        for field in ("p10", "p50", "p90", "mean"):
            assert getattr(m, field) == pytest.approx(getattr(n, field), rel=0.01, abs=1.0), (n.id, field)
