"""The deal book replays the history exactly as state_as_of does: by hand on a tiny export, and on the demo."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from saleslead.forecast.panel import day_number, from_day_number, load_book, quarter_end_days
from saleslead.funnel import state_as_of
from saleslead.store import Store

from .builders import export

HISTORY = [
    {"opportunity_id": "A", "changed_at": datetime(2025, 1, 1, 9), "stage": "Qualify", "amount": 80.0,
     "close_date": date(2025, 3, 1), "forecast_category": "Pipeline"},
    {"opportunity_id": "A", "changed_at": datetime(2025, 1, 20, 9), "stage": "Qualify", "amount": 80.0,
     "close_date": date(2025, 3, 15), "forecast_category": "Pipeline"},
    {"opportunity_id": "A", "changed_at": datetime(2025, 2, 1, 9), "stage": "Propose", "amount": 100.0,
     "close_date": date(2025, 3, 31), "forecast_category": "Best Case"},
    {"opportunity_id": "A", "changed_at": datetime(2025, 4, 2, 9), "stage": "Won", "amount": 110.0,
     "close_date": date(2025, 4, 2), "forecast_category": "Closed"},
]  # fmt: skip
FINAL_A = {
    "opportunity_id": "A", "created_at": datetime(2025, 1, 1, 9), "stage": "Won", "amount": 110.0,
    "close_date": date(2025, 4, 2), "is_closed": True, "is_won": True, "owner_id": "u1", "segment": "SMB",
}  # fmt: skip


def test_states_by_hand(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.duckdb") as store:
        store.ingest(
            export(
                datetime(2025, 5, 1),
                [FINAL_A],
                HISTORY,
                activities=[{"opportunity_id": "A", "activity_date": date(2025, 2, 3)}],
            )
        )
        book = load_book(store, date(2025, 5, 1))
        st = book.states_at(day_number(date(2025, 2, 14)))
        assert book.stage_names[int(st.stage[0])] == "Propose"
        assert st.amount[0] == 100.0
        assert st.days_in_stage[0] == 13  # entered 1 Feb, end of 14 Feb
        assert st.age_days[0] == 44  # created 1 Jan
        assert st.pushes[0] == 2  # 1 Mar -> 15 Mar -> 31 Mar
        assert st.days_since_activity[0] == 11  # last touched 3 Feb
        assert from_day_number(int(st.close_day[0])) == date(2025, 3, 31)
        # the next closing event is the win on 2 April at 09:00
        assert bool(st.next_close_won[0])
        assert from_day_number(int(np.floor(st.next_close[0]))) == date(2025, 4, 2)
        before = book.states_at(day_number(date(2024, 12, 31)))
        assert len(before) == 0  # the deal did not exist yet


def test_quarter_end_days() -> None:
    days = np.asarray([day_number(date(2025, 2, 14)), day_number(date(2025, 3, 31)), day_number(date(2025, 4, 1))])
    assert [from_day_number(int(d)) for d in quarter_end_days(days, 1)] == [
        date(2025, 4, 1), date(2025, 4, 1), date(2025, 7, 1)
    ]  # fmt: skip
    assert from_day_number(int(quarter_end_days(days[:1], 2)[0])) == date(2025, 5, 1)  # Feb–Apr quarter


def test_book_matches_state_as_of_on_the_demo(demo_store_file: Path) -> None:
    with Store.open(demo_store_file, read_only=True) as store:
        book = load_book(store, date(2026, 11, 24))
        for day in (date(2024, 3, 31), date(2025, 8, 17), date(2026, 11, 24)):
            ref = state_as_of(store, day).to_pyarrow().sort_by("opportunity_id").to_pydict()
            st = book.states_at(day_number(day))
            assert [book.ids[int(d)] for d in st.deal] == ref["opportunity_id"]
            assert [book.stage_names[int(s)] for s in st.stage] == ref["stage"]
            assert np.allclose(st.amount, ref["amount"])
            assert st.pushes.tolist() == ref["pushes"]
            assert st.days_in_stage.tolist() == ref["days_in_stage"]
            assert st.age_days.tolist() == ref["age_days"]
            assert [book.owners[int(o)] for o in st.owner] == ref["owner_id"]
            closes = [from_day_number(int(c)) for c in st.close_day]
            assert closes == ref["close_date"]
            last = [day - timedelta(days=int(v)) if v < 10_000 else None
                    for v in st.days_since_activity]  # fmt: skip
            assert last == ref["last_activity_date"]


def test_open_at_replays_only_live_deals_and_gives_the_same_rows(demo_store_file: Path) -> None:
    with Store.open(demo_store_file, read_only=True) as store:
        book = load_book(store, date(2026, 11, 24))
    first = int(np.floor(np.nanmin(book.first_seen)))
    for day in range(first - 3, book.until + 1, 37):
        every = book.states_at(day)
        want = every.take(~every.is_closed)
        got = book.open_at(day)
        for field in want.__dataclass_fields__:
            assert np.array_equal(getattr(got, field), getattr(want, field)), (from_day_number(day), field)
        alive = book.alive_at(day)
        assert len(alive) < book.size or day >= book.until - 1  # settled deals are skipped, not replayed
        assert set(want.deal.tolist()) <= set(alive.tolist())
    # a subset keeps its order and drops the settled
    some = np.arange(0, book.size, 3, dtype=np.int64)
    st = book.states_at(book.until - 400, some)
    assert np.array_equal(book.open_at(book.until - 400, some).deal, st.deal[~st.is_closed])


def test_hazards_read_the_fitted_model_as_scikit_learn_does(demo_store_file: Path) -> None:
    from saleslead.forecast.model import fit_deal_model

    with Store.open(demo_store_file, read_only=True) as store:
        book = load_book(store, date(2026, 11, 24))
    model = fit_deal_model(book, book.until, 1, 30)
    st = book.open_at(book.until)
    h = model.hazards(book, st, 5)
    classes = [int(c) for c in model.base.classes_]
    for k in (1, 3, 5):
        codes = model.encoder.codes(book, st, np.full(len(st), k, np.int64))
        p = model.base.predict_proba(model.encoder.design(codes))
        assert np.allclose(h.won[:, k - 1], p[:, classes.index(1)], rtol=1e-12, atol=1e-15)
        assert np.allclose(h.lost[:, k - 1], p[:, classes.index(2)], rtol=1e-12, atol=1e-15)
    assert (h.won > 0).all()
    assert (h.won + h.lost < 1).all()
