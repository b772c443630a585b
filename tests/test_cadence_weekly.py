"""The weekly cadence: every mandate on the seat, flags raised once and remembered, handoffs, the briefing."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from saleslead.briefing.html import briefing_html
from saleslead.briefing.weekly import WeeklyBriefing, briefing_markdown
from saleslead.cli.app import app
from saleslead.role.desk import RunRequest
from saleslead.role.flags import FlagBook
from saleslead.seat import Seat, StatusRequest, open_seat
from saleslead.store import Store
from saleslead.store.records import Records
from saleslead.store.shelf import Shelf

from .conftest import DEMO_TODAY, DEMO_WEEK, share_demo_shelf

pytestmark = [pytest.mark.slow, DEMO_WEEK]  # fits the forecast and runs the week on the demo company


def _open(path: Path) -> Seat:
    seat = open_seat(path)
    seat.clock = lambda: DEMO_TODAY
    return seat


@pytest.fixture(scope="module")
def weekly(
    demo_store_file: Path, demo_shelf: Shelf, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, WeeklyBriefing]]:
    """One store copy (its answers on the session's shelf), run once as of DEMO_TODAY."""
    path = tmp_path_factory.mktemp("cadence") / "demo.duckdb"
    shutil.copy(demo_store_file, path)
    share_demo_shelf(path, demo_shelf)
    with _open(path) as seat:
        briefing = seat.run(RunRequest(as_of=DEMO_TODAY))
    return path, briefing


def test_briefing_carries_the_pipeline_the_status_reports(weekly: tuple[Path, WeeklyBriefing]) -> None:
    path, b = weekly
    with _open(path) as seat:
        status = seat.status(StatusRequest(as_of=DEMO_TODAY))
    assert (b.as_of, b.period) == (DEMO_TODAY, "2026-Q4")
    assert b.open_count == status.open_count
    assert b.open_amount == pytest.approx(status.open_amount)
    assert [s.name for s in b.pipeline_by_segment] == [s.name for s in status.open_by_segment]
    assert b.closed_won_to_date == pytest.approx(status.closed_won_quarter_to_date.amount)
    for leak in b.leaks:  # conversion = advanced / (advanced + lost), within its interval
        if leak.conversion is not None:
            assert leak.conversion == pytest.approx(leak.advanced / (leak.advanced + leak.lost))
            assert leak.low is not None
            assert leak.high is not None
            assert leak.low <= leak.conversion <= leak.high
    assert set(b.mandates_run) | set(b.mandates_missing) >= {"strategy_score"}
    assert {s.id for s in b.sections} >= {"strategy_score"}


def test_flags_are_raised_once_and_remembered_across_restarts(weekly: tuple[Path, WeeklyBriefing]) -> None:
    path, first = weekly
    with _open(path) as seat:
        again = seat.run(RunRequest(as_of=DEMO_TODAY))
    assert again.new_flags == []
    assert again.new_handoffs == []
    assert [f.id for f in again.flags] == [f.id for f in first.flags]
    assert [f.raised_as_of for f in again.flags] == [f.raised_as_of for f in first.flags]
    with _open(path) as seat:
        assert [f.id for f in seat.open_flags()] == [f.id for f in first.flags]
        assert [h.id for h in seat.handoffs().handoffs] == [h.id for h in first.handoffs]
        assert seat.briefing_on(DEMO_TODAY)["period"] == "2026-Q4"
    for h in first.handoffs:  # every handoff the cadence issues goes to a role it hands work to
        assert (h.to_role, h.boundary) in {
            ("account-executive", "deal-execution"),
            ("sales-development-rep", "top-of-funnel"),
            ("finance-analyst", "financial-model"),
        }


def test_flag_book_by_hand(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "flags.duckdb")
    book = FlagBook(Records(store, "e1"))
    d1, d2 = date(2026, 1, 5), date(2026, 1, 12)
    _a, fresh = book.raise_flag("stall", "O1", severity="warning", message="O1 stuck", evidence={"days": 40}, as_of=d1)
    assert fresh
    again, fresh = book.raise_flag(
        "stall", "O1", severity="warning", message="O1 stuck", evidence={"days": 47}, as_of=d2
    )
    assert not fresh
    assert again.raised_as_of == d1  # raised once, remembered with its first date
    book.raise_flag("stall", "O2", severity="warning", message="O2 stuck", evidence={}, as_of=d1)
    cleared = book.sweep("stall", {"stall/O1"}, d2)  # O2 moved: cleared; O1 still seen
    assert [f.id for f in cleared] == ["stall/O2"]
    assert cleared[0].resolved_as_of == d2
    assert [f.id for f in book.open()] == ["stall/O1"]
    back, fresh = book.raise_flag("stall", "O2", severity="warning", message="O2 stuck again", evidence={}, as_of=d2)
    assert fresh
    assert back.raised_as_of == d2
    store.close()
    reopened = Store.open(tmp_path / "flags.duckdb")
    assert [f.id for f in FlagBook(Records(reopened, "e1")).open()] == ["stall/O1", "stall/O2"]
    assert FlagBook(Records(reopened, "e2")).open() == []  # per engagement
    reopened.close()


def test_markdown_and_html_are_deterministic_and_offline(weekly: tuple[Path, WeeklyBriefing]) -> None:
    _, b = weekly
    text = briefing_markdown(b)
    assert text == briefing_markdown(WeeklyBriefing.model_validate_json(b.model_dump_json()))
    for heading in ("## The call", "## Where the funnel leaks", "## Pipeline", "## Open flags", "## Handoffs"):
        assert heading in text
    lines = text.splitlines()
    roles = [i for i, line in enumerate(lines) if line.endswith("new this week.") and line.startswith("**")]
    assert len(roles) >= 2, "the demo hands work to more than one role"
    for i in roles[1:]:
        assert lines[i - 1] == "", f"role header not separated from the list above it: {lines[i - 1]!r}"
    page = briefing_html(b)
    assert "<script src" not in page
    assert "cdn.plot.ly" not in page.split("</script>", 1)[1]
    assert "Plotly.newPlot" in page
    assert 'id="pipeline-by-stage"' in page


def test_cli_run_writes_the_briefing(weekly: tuple[Path, WeeklyBriefing], tmp_path: Path) -> None:
    path, b = weekly
    out = tmp_path / "briefing.json"
    result = CliRunner().invoke(
        app, ["run", "--as-of", "2026-11-24", "--format", "json", "--out", str(out), "--store", str(path)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["open_count"] == b.open_count
    assert data["as_of"] == "2026-11-24"
    bad = CliRunner().invoke(app, ["run", "--as-of", "2026-11-24", "--format", "pdf", "--store", str(path)])
    assert bad.exit_code == 2
