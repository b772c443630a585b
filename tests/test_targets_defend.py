"""Defend: the flag fires on a demo company whose pipeline creation was cut, not on the same company without the cut.

Both companies are generated here (3,000 deals over two years, same seed); the only difference is a 60%
creation slump from 10 Aug 2026 for 14 weeks. Each plans the quarter at its own run-rate (the average
of its last four quarters' bookings per segment), then defends it as of 3 Nov 2026.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from saleslead.cli.app import app as cli
from saleslead.demo import DemoConfig, Slump, generate
from saleslead.funnel import period_position
from saleslead.periods import Period
from saleslead.seat import IngestRequest, Seat, open_seat
from saleslead.targets.desk import DefendRequest, TargetsRequest

AS_OF = date(2026, 11, 3)
PERIOD = Period.parse("2026-Q4")


def _company(root: Path, slump: Slump | None) -> Path:
    config = DemoConfig(opportunities=3_000, seed=5, start=date(2024, 11, 24), end=date(2026, 11, 24), slump=slump)
    generate(root / "export", config)
    with open_seat(root / "store.duckdb") as seat:
        seat.ingest(IngestRequest(path=root / "export"))
    return root / "store.duckdb"


@pytest.fixture(scope="module")
def companies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {
        "plain": _company(tmp_path_factory.mktemp("plain"), None),
        "slump": _company(tmp_path_factory.mktemp("slump"), Slump(start=date(2026, 8, 10), weeks=14, depth=0.6)),
    }


def _defend(path: Path, tmp: Path) -> tuple[Seat, list[str], list[str]]:
    seat = open_seat(path)
    run_rate: dict[str, float] = {}
    for back in range(1, 5):
        earlier = PERIOD.shift(-back)
        for p in period_position(seat.store, earlier, AS_OF, ["segment"]):
            run_rate[p.group["segment"]] = run_rate.get(p.group["segment"], 0.0) + p.closed_won / 4
    seat.set_targets(TargetsRequest(period=PERIOD.name, segments=run_rate, as_of=AS_OF, author="test"))
    result = seat.defend_targets(DefendRequest(period=PERIOD.name, as_of=AS_OF, weeks=4))
    assert {w.as_of for w in result.weekly} == {date(2026, 10, 13), date(2026, 10, 20), date(2026, 10, 27), AS_OF}
    # every planned segment's weekly creation against its need, short or not; the gaps are the short ones summed
    assert {w.segment for w in result.creation} == set(run_rate)
    assert result.creation_method.startswith("plan v1")
    for gap in result.creation_gaps:
        weeks = [w for w in result.creation if w.segment == gap.segment]
        assert sum(w.created for w in weeks) == pytest.approx(gap.created)
        assert all(w.required == pytest.approx(gap.required_per_week) for w in weeks)
    return seat, [f.key for f in result.new_flags], [g.segment for g in result.creation_gaps]


def test_flag_fires_on_the_slump_once(companies: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "slump.duckdb"
    copy.write_bytes(companies["slump"].read_bytes())
    seat, flags, gaps = _defend(copy, tmp_path)
    assert "2026-Q4/All" in flags or "2026-Q4/SMB" in flags
    assert "SMB" in gaps  # SMB creation was cut, and SMB deals land inside the quarter
    # raised once per period and segment: a second run remembers, and raises nothing new
    again = seat.defend_targets(DefendRequest(period=PERIOD.name, as_of=AS_OF, weeks=1))
    assert again.new_flags == []
    assert sorted(f.key for f in again.flags) == sorted(flags)
    assert all(not f.new for f in again.flags)
    stored = seat.records.current("targets.flag")
    assert sorted(r.key for r in stored) == sorted(flags)
    seat.close()


def test_no_flag_without_the_slump(companies: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "plain.duckdb"
    copy.write_bytes(companies["plain"].read_bytes())
    seat, flags, _ = _defend(copy, tmp_path)
    assert flags == []
    seat.close()
    # the CLI draws every segment's weekly creation against what the plan needs
    out = CliRunner().invoke(cli, ["targets", "defend", "--period", PERIOD.name, "--as-of", str(AS_OF), "--weeks", "1",
                                   "--store", str(copy)])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "Pipeline created per week" in out.output
    assert "plan v1 steady weekly creation" in out.output
    for name in ("Enterprise", "Mid-Market", "SMB"):
        assert name in out.output.split("Pipeline created per week")[1]
