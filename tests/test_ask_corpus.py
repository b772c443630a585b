"""The router against questions in people's own words (tests/data/ask_corpus.yaml).

The corpus holds a tuning part (its phrasings are the role file's examples) and a hold-out part
written before any tuning and never used for it. The hold-out hit rates are the honest figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from saleslead.role.router import Route, route
from saleslead.role.schema import load_role

CORPUS: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "data" / "ask_corpus.yaml").read_text())


def _hit(item: dict[str, Any], found: Route) -> bool:
    """In lane: the lead action is one that answers it and nothing is handed off; out: handed to its role."""
    if "role" in item:
        return item["role"] in found.owners and found.verdict != "in_lane"
    return bool(found.actions) and found.actions[0] in item["actions"] and not found.owners


def _rates(split: str, batch: int | None = None) -> dict[str, tuple[int, int]]:
    role = load_role()
    tally = {"in_lane": [0, 0], "out_of_lane": [0, 0]}
    chosen = [i for i in CORPUS if i["split"] == split and batch in (None, i.get("batch", 1))]
    for item in chosen:
        kind = "out_of_lane" if "role" in item else "in_lane"
        tally[kind][0] += _hit(item, route(role, item["text"]))
        tally[kind][1] += 1
    return {k: (v[0], v[1]) for k, v in tally.items()}


def test_the_corpus_is_large_varied_and_a_third_held_out() -> None:
    role = load_role()
    actions = {a.id for m in role.mandate for a in m.actions}
    owners = {b.owner for b in role.boundaries}
    assert len(CORPUS) >= 150
    held = [i for i in CORPUS if i["split"] == "holdout"]
    assert len(held) >= len(CORPUS) / 3 - 1
    assert {i["role"] for i in held if "role" in i} == owners
    assert actions <= {a for i in held for a in i.get("actions", [])}
    examples = {e for m in role.mandate for a in m.actions for e in a.examples} | {
        e for b in role.boundaries for e in b.examples
    }
    assert not examples & {i["text"] for i in held}, "a hold-out question leaked into the role file's examples"


@pytest.mark.parametrize(("split", "floor_in", "floor_out"), [("tune", 0.95, 0.95), ("holdout", 0.88, 0.9)])
def test_hit_rates(split: str, floor_in: float, floor_out: float) -> None:
    rates = _rates(split)
    hits_in, n_in = rates["in_lane"]
    hits_out, n_out = rates["out_of_lane"]
    print(f"{split}: in lane answered {hits_in}/{n_in}, out of lane handed right {hits_out}/{n_out}")
    for batch in sorted({i.get("batch", 1) for i in CORPUS if i["split"] == split}):
        (a, n), (b, m) = _rates(split, batch).values()
        print(f"  batch {batch}: in lane {a}/{n}, out of lane {b}/{m}")
    assert hits_in / n_in >= floor_in
    assert hits_out / n_out >= floor_out


def test_plain_words_stay_unclear() -> None:
    role = load_role()
    for text in ("hello there", "thanks!", "what's the weather in Paris"):
        assert route(role, text).verdict == "unclear", text
