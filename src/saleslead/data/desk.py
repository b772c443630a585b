"""The data desk: ingest an export folder, report what the store holds, make the demo company."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict

from saleslead.config import (
    ConfigLoadRequest,
    ConfigSetRequest,
    ConfigShowRequest,
    SettingsView,
    load_toml,
    set_setting,
    settings_view,
)
from saleslead.context import Desk, Progress
from saleslead.demo import DemoConfig, Slump, generate
from saleslead.errors import InputError
from saleslead.ingest import CanonicalExport, read_export
from saleslead.status import StatusReport, compute_status

__all__ = [
    "Briefer",
    "DataDesk",
    "DemoRequest",
    "DemoResult",
    "IngestReport",
    "IngestRequest",
    "Rejection",
    "StatusRequest",
]

#: the week's briefing as of a date (Markdown), given the store's status then
Briefer = Callable[[date, StatusReport], str]


class IngestRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: Path
    mapping: str | None = None
    strict: bool = True
    snapshot_at: datetime | None = None


class Rejection(BaseModel):
    model_config = ConfigDict(frozen=True)

    file: str
    line: int | None
    column: str | None
    reason: str


class IngestReport(BaseModel):
    """What an ingest read, rejected and changed."""

    model_config = ConfigDict(frozen=True)

    source: str
    path: str
    snapshot_at: datetime
    files: list[str]
    rows_read: dict[str, int]
    rejected: list[Rejection]
    #: what was read but not used, in words (e.g. field-history rows for fields other than the owner)
    notes: list[str] = []
    first_date: datetime | None
    last_date: datetime | None
    stages: list[str]
    opportunities_new: int
    opportunities_seen_before: int
    #: of those seen before: whose row, history or activities differ from what the store took in last time
    opportunities_changed: int = 0
    #: of those seen before: exactly as the store took them in last time (nothing of theirs was rewritten)
    opportunities_unchanged: int = 0
    history_added: int
    unchanged: bool


class DemoRequest(BaseModel):
    """Generate the demo company, ingest it, and brief on it."""

    model_config = ConfigDict(frozen=True)

    out: Path
    opportunities: int = 20_000
    seed: int = 7
    as_of: date | None = None
    years: int = 3
    slump_start: date | None = None
    slump_weeks: int = 8
    slump_depth: float = 0.5
    slump_segment: str | None = None


class DemoResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: str
    seed: int
    opportunities: int
    history_rows: int
    users: int
    ingest: IngestReport
    status: StatusReport
    briefing: str


class StatusRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    as_of: date | None = None


class DataDesk(Desk):
    """What the store holds and how it fills: ingest, status, the demo company."""

    def ingest(self, request: IngestRequest, progress: Progress | None = None) -> IngestReport:
        """Read an export folder, validate it whole, then write it in one transaction."""
        if not request.path.exists():
            raise InputError(f"no such file or folder: {request.path}", file=str(request.path))

        def step(label: str, rows: int) -> None:
            if progress is not None:
                progress(label, rows, 0)

        export = read_export(
            request.path,
            mapping=request.mapping,
            strict=request.strict,
            snapshot_at=request.snapshot_at,
            settings=self.settings.ingest_settings(),  # stage overrides and segment rules (saleslead config)
            progress=step,
        )
        return self.ingest_export(export, str(request.path))

    def ingest_export(self, export: CanonicalExport, path: str) -> IngestReport:
        """Write an export already read and checked (a folder, a live sync, a warehouse) in one transaction."""
        outcome = self.store.ingest(export)
        starts = [pc.min(export.opportunities.column("created_at")).as_py()]
        if export.history.num_rows:
            starts.append(pc.min(export.history.column("changed_at")).as_py())
        known = [s for s in starts if s is not None]
        return IngestReport(
            source=export.source,
            path=path,
            snapshot_at=outcome.snapshot_at,
            files=list(export.files),
            rows_read={
                "opportunities": export.opportunities.num_rows,
                "history": export.history.num_rows,
                "users": export.users.num_rows,
                "accounts": export.accounts.num_rows,
                "quotas": export.quotas.num_rows,
                "activities": export.activities.num_rows,
                "owner_changes": export.owner_changes.num_rows,
            },
            rejected=[Rejection(file=f, line=ln, column=c, reason=r) for f, ln, c, r in export.rejected],
            notes=list(export.notes),
            first_date=min(known) if known else None,
            last_date=outcome.snapshot_at,
            stages=[s.name for s in sorted(export.stages, key=lambda s: s.order)],
            opportunities_new=outcome.opportunities_new,
            opportunities_seen_before=outcome.opportunities_updated + outcome.opportunities_unchanged,
            opportunities_changed=outcome.opportunities_updated,
            opportunities_unchanged=outcome.opportunities_unchanged,
            history_added=outcome.history_added,
            unchanged=outcome.unchanged,
        )

    def status(self, request: StatusRequest | None = None) -> StatusReport:
        """What the store holds and the open pipeline as of a date (default: today)."""
        as_of = (request.as_of if request else None) or self.today()
        return compute_status(self.store, as_of, self.settings.fiscal_start_month)

    def demo(self, request: DemoRequest, brief: Briefer, progress: Progress | None = None) -> DemoResult:
        """Generate the demo company as of a date, ingest it into this seat's store, and brief on it with ``brief``."""
        today = request.as_of or self.context.clock()  # the demo is generated up to the clock, not the store
        start = date(today.year - request.years, today.month, 1)
        slump = (
            Slump(
                start=request.slump_start,
                weeks=request.slump_weeks,
                depth=request.slump_depth,
                segment=request.slump_segment,
            )
            if request.slump_start
            else None
        )
        config = DemoConfig(
            opportunities=request.opportunities,
            seed=request.seed,
            start=start,
            end=today,
            slump=slump,
            fiscal_start_month=self.settings.fiscal_start_month,
        )
        summary = generate(request.out, config, progress=progress)
        report = self.ingest(IngestRequest(path=request.out), progress)
        status = self.status(StatusRequest(as_of=today))
        return DemoResult(
            path=str(summary.path),
            seed=summary.seed,
            opportunities=summary.opportunities,
            history_rows=summary.history_rows,
            users=summary.users,
            ingest=report,
            status=status,
            briefing=brief(today, status),
        )

    def config_show(self, request: ConfigShowRequest | None = None) -> SettingsView:
        """The engagement's settings: every key with its value, default and meaning."""
        return settings_view(self.records)

    def config_set(self, request: ConfigSetRequest) -> SettingsView:
        """Set one setting for this store and engagement (stored as a new version); the seat uses it at once."""
        view = set_setting(self.records, request.key, request.value, request.author)
        self.context.use(view.settings)
        return view

    def config_load(self, request: ConfigLoadRequest) -> SettingsView:
        """Replace the settings with a TOML document (a new version); the seat uses them at once."""
        view = load_toml(self.records, request.text, request.author)
        self.context.use(view.settings)
        return view
