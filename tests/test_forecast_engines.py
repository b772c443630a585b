"""The forecast's deal book is the same on every engine: the same org in DuckDB and in PostgreSQL gives
array-for-array the same book, and the same states at every day (the forecast, stalls, waterfall and
backtest all read the history through it).
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from saleslead.forecast.panel import DealBook, day_number, load_book
from saleslead.store import Store

from .builders import export
from .funnel_fixture import AS_OF, EVENTS, QUOTAS, USERS, _opportunities
from .postgres_server import new_database

ACTIVITIES = [
    {"opportunity_id": "A", "activity_date": date(2025, 1, 20)},
    {"opportunity_id": "F", "activity_date": date(2025, 4, 2)},
    {"opportunity_id": "H", "activity_date": date(2025, 3, 30)},
]


def _book(store: Store) -> DealBook:
    data = export(
        datetime(2025, 4, 10, 23), _opportunities(EVENTS), EVENTS, users=USERS, quotas=QUOTAS, activities=ACTIVITIES
    )
    store.ingest(data)
    return load_book(store, AS_OF)


def _same(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray):
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    return a == b


def test_the_deal_book_is_the_same_on_duckdb_and_postgres(postgres_url: str | None, tmp_path: Path) -> None:
    if postgres_url is None:
        pytest.skip("no PostgreSQL server: install Debian's postgresql or set SALESLEAD_TEST_POSTGRES")
    with Store.open(tmp_path / "s.duckdb") as duck, Store.open(new_database(postgres_url)) as pg:
        a, b = _book(duck), _book(pg)
    assert a.size == 9
    differ = [f.name for f in fields(DealBook) if not _same(getattr(a, f.name), getattr(b, f.name))]
    assert differ == []
    for offset in range(0, 120, 9):
        day = day_number(AS_OF - timedelta(days=offset))
        sa, sb = a.states_at(day), b.states_at(day)
        assert all(np.array_equal(getattr(sa, f), getattr(sb, f)) for f in sa.__dataclass_fields__), offset
        assert np.array_equal(a.open_at(day).deal, b.open_at(day).deal)
    open_now = a.open_at(day_number(AS_OF))
    assert sorted(a.ids[int(d)] for d in open_now.deal) == ["F", "H"]  # the hand-made org's open pipeline
