"""Record kinds are spelt one way (``owner.thing``); a store holding an earlier version's spellings is migrated
on open, and nothing it held is lost."""

from __future__ import annotations

import ast
from pathlib import Path

import saleslead
from saleslead.forecast.calls import CALL, FLAG, SEAT_CALL
from saleslead.roster.scenarios import PLAN_KIND, REBALANCE_KIND
from saleslead.store import Store
from saleslead.store.records import Records
from saleslead.store.schema import RENAMED_KINDS
from saleslead.strategy.check import FLAG_KIND
from saleslead.web.security import TOKEN_KIND

OLD = {
    "forecast-call": ("2026-Q4/total", {"amount": 7_000_000.0, "author": "maria"}),
    "forecast-flag": ("2026-Q4/total", {"verdict": "stretch"}),
    "forecast-seat-call": ("2026-Q4", {"amount": 6_500_000.0}),
    "roster_plan": ("2027-Q1", {"hires": 3}),
    "roster_rebalance": ("2026-11-24", {"moves": []}),
    "strategy-flag": ("v1/SMB", {"cell": "SMB"}),
    "web-token": ("write", {"sha256": "ab" * 32}),
}


def _rows(store: Store) -> list[tuple[str, str, int, str, str]]:
    t = store.table("records")
    cols = t.select("kind", "key", "version", "status", "payload").order_by(["key", "kind", "version"])
    return [tuple(r.values()) for r in cols.to_pyarrow().to_pylist()]  # type: ignore[misc]


def test_a_store_with_the_old_spellings_is_migrated_on_open_and_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    with Store.open(path) as store:
        records = Records(store, "default")
        for kind, (key, payload) in OLD.items():
            records.put(kind, key, payload, author="v1")
            records.put(kind, key, payload | {"again": True}, author="v1")  # two versions of each
        Records(store, "other").put("forecast-call", "2026-Q4/total", {"amount": 1.0}, author="v1")
        before = _rows(store)
    assert {k for k, *_ in before} == set(OLD)

    with Store.open(path, read_only=True) as store:  # not migrated yet: read under both spellings
        assert Records(store, "default").latest(CALL, "2026-Q4/total").payload["again"]  # type: ignore[union-attr]

    with Store.open(path) as store:  # a writer migrates
        after = _rows(store)
        assert store.rename_kinds() == 0  # once
        records = Records(store, "default")
        for constant, old in ((CALL, "forecast-call"), (FLAG, "forecast-flag"), (SEAT_CALL, "forecast-seat-call"),
                              (PLAN_KIND, "roster_plan"), (REBALANCE_KIND, "roster_rebalance"),
                              (FLAG_KIND, "strategy-flag"), (TOKEN_KIND, "web-token")):  # fmt: skip
            key, payload = OLD[old]
            versions = records.history(constant, key)
            assert [v.payload for v in versions] == [payload, payload | {"again": True}]
            assert [v.version for v in versions] == [1, 2]
        assert Records(store, "other").latest(CALL, "2026-Q4/total") is not None
    assert len(after) == len(before)
    assert sorted((RENAMED_KINDS[k], *rest) for k, *rest in before) == sorted(after)  # only the kind changed


def test_every_record_kind_is_spelt_one_way() -> None:
    """Every module-level constant naming a record kind is ``owner.thing`` or one word, in lower case."""
    root = Path(saleslead.__file__).parent
    kinds: dict[str, str] = {}
    for path in root.rglob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
                named = any(n.endswith(("KIND", "PLAN", "CALL", "FLAG", "BRIEFING", "DELIVERY", "PEER")) for n in names)
                if named and isinstance(node.value.value, str):
                    kinds[f"{path.name}:{names[0]}"] = node.value.value
    assert len(kinds) >= 12, kinds
    for where, kind in kinds.items():
        owner, _, thing = kind.partition(".")
        assert kind == kind.lower(), where
        assert "_" not in kind, f"{where}: {kind!r} — words join with '-', owner and thing with '.'"
        assert owner.replace("-", "").isalnum(), where
        assert not thing or thing.replace("-", "").isalnum(), where
    assert not set(kinds.values()) & set(RENAMED_KINDS), "an old spelling is written again"
