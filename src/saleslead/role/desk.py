"""The seat in the fleet — lanes, handoffs, flags, the weekly cadence: the seat's actions for this package."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import ibis

from saleslead.context import Desk, Progress, SeatContext
from saleslead.data.desk import IngestReport, IngestRequest
from saleslead.errors import InputError, InsufficientDataError, NotFoundError
from saleslead.funnel.state import state_as_of
from saleslead.names import directory
from saleslead.role.cadence import ASK_ONLY, WEEK, HandoffDraft, Mandates, Step, StepResult, Week, leaks
from saleslead.role.delivery import DeliveryReport, Peer, PeerRequest, Send, deliver, peers, set_peer
from saleslead.role.flags import Flag, FlagBook
from saleslead.role.handoffs import Handoff, Outbox
from saleslead.role.named import named_deals
from saleslead.role.outbox_view import select_handoffs
from saleslead.role.report import PipelineLine, WeeklyBriefing
from saleslead.role.requests import (
    Answer,
    AskRequest,
    AskResult,
    HandoffList,
    HandoffsRequest,
    HandoffUpdate,
    RunRequest,
)
from saleslead.role.router import Route, route, words
from saleslead.role.schema import RoleDefinition, load_role
from saleslead.role.week import section
from saleslead.roster.desk import RosterFinanceRequest
from saleslead.roster.scenarios import PLAN_KIND as ROSTER_PLAN
from saleslead.status import StatusReport, compute_status

if TYPE_CHECKING:
    from saleslead.sync.models import HubSpotSyncRequest, SalesforceSyncRequest, SyncReport

__all__ = [
    "BRIEFING",
    "Answer",
    "AskRequest",
    "AskResult",
    "FleetDesk",
    "HandoffList",
    "HandoffUpdate",
    "HandoffsRequest",
    "Ingester",
    "RunRequest",
    "Syncer",
]

#: the record kind of a week's briefing (key: the as-of date)
BRIEFING = "briefing"


def _request_key(text: str) -> str:
    return hashlib.sha256(" ".join(words(text)).encode()).hexdigest()[:12]


class Ingester(Protocol):
    """What the cadence needs of the data desk: read an export into the store."""

    def ingest(self, request: IngestRequest, progress: Progress | None = None) -> IngestReport: ...


class Syncer(Protocol):
    """What the cadence needs to sync a CRM first: the seat's sync action."""

    def __call__(
        self, request: SalesforceSyncRequest | HubSpotSyncRequest, progress: Progress | None = None
    ) -> SyncReport: ...


class FleetDesk(Desk):
    """The seat in the fleet: the role definition, lanes, handoffs, flags and the weekly cadence.

    It runs the other desks' actions — the data desk's ingest, the four mandates — passed in here.
    """

    def __init__(self, context: SeatContext, data: Ingester, mandates: Mandates, sync: Syncer | None = None) -> None:
        super().__init__(context)
        self.data = data
        self.mandates = mandates
        self.sync = sync

    def role_definition(self) -> RoleDefinition:
        """The role this seat plays (the bundled role file)."""
        return load_role()

    @property
    def outbox(self) -> Outbox:
        return Outbox(self.records, self.role_definition().id)

    @property
    def flag_book(self) -> FlagBook:
        return FlagBook(self.records, self.role_definition().id)

    # --- lanes --------------------------------------------------------------------------------
    def route_request(self, request: AskRequest) -> Route:
        """Where a request goes (no side effects): in lane, out of lane, mixed, or unclear."""
        return route(self.role_definition(), request.text, request.intent)

    def ask(self, request: AskRequest) -> AskResult:
        """Route a request; answer its in-lane part from the store and hand off the rest."""
        as_of = request.as_of or self.today()
        if not request.text.strip() and request.intent is None:
            raise InputError("an empty request", hint="ask a question, or give an intent")
        lanes = self.route_request(request)
        answers = [self._answer(action, as_of) for action in lanes.actions]
        handoffs = []
        role = self.role_definition()
        for boundary_id in lanes.boundaries:
            boundary = role.boundary(boundary_id)
            payload = self._handoff_payload(boundary_id, request.text, as_of)
            handoff, _ = self.outbox.issue(
                boundary,
                request=request.text or (request.intent or ""),
                key=f"ask/{_request_key(request.text or boundary_id)}/{as_of}",
                payload=payload,
                as_of=as_of,
            )
            handoffs.append(handoff)
        return AskResult(as_of=as_of, route=lanes, answers=answers, handoffs=handoffs, question=lanes.question)

    def _week(self, as_of: date, *, writes: bool = True, ingested: bool = False) -> Week:
        period = self.period(as_of=as_of)
        status = compute_status(self.store, as_of, self.settings.fiscal_start_month)
        return Week(
            self.store, self.settings, self.records, self.role_definition(), self.engagement, as_of, period, status,
            writes=writes, ingested=ingested,
        )  # fmt: skip

    def _answer(self, action: str, as_of: date) -> Answer:
        role = self.role_definition()
        mandate = role.mandate_of(action).id
        step = next((s for s in (*WEEK, *ASK_ONLY) if s.action == action), None)
        if step is None:  # a role file newer than this seat names an action it cannot run
            return Answer(
                action=action,
                mandate=mandate,
                available=False,
                text=f"{role.action(action).summary} — not on this seat yet; no number rather than a guessed one.",
            )
        try:
            outcome = step.brief(self.mandates, self._week(as_of, writes=False))
        except InsufficientDataError as error:
            return Answer(action=action, mandate=mandate, available=False, text=f"Not enough history: {error}")
        return Answer(
            action=action, mandate=mandate, available=True, text=outcome.section.text, data=outcome.section.data
        )

    # --- handoffs -----------------------------------------------------------------------------
    def _handoff_payload(self, boundary: str, text: str, as_of: date) -> dict[str, Any]:
        if boundary == "deal-execution":
            return named_deals(self.store, text, as_of).model_dump(mode="json")
        if boundary == "top-of-funnel":
            return {"creation": self._creation_by_segment(as_of)}
        return {"quota_plan": self._quota_plan(as_of), **self._capacity_plan(as_of)}

    def _creation_by_segment(self, as_of: date, weeks: int = 13) -> dict[str, Any]:
        """Pipeline created per week by segment: the last 4 weeks against the 13-week run-rate."""
        state = state_as_of(self.store, as_of)
        start = as_of - timedelta(weeks=weeks)
        recent = as_of - timedelta(weeks=4)
        made = state.filter(state.created_at.date() > ibis.literal(start))
        grouped = made.group_by("segment").aggregate(
            created=made.amount.sum(),
            deals=made.count(),
            last4=made.amount.sum(where=made.created_at.date() > ibis.literal(recent)),
        )
        out = []
        for r in grouped.order_by("segment").to_pyarrow().to_pylist():
            run_rate = float(r["created"] or 0) / weeks
            last4 = float(r["last4"] or 0) / 4
            out.append(
                {
                    "segment": r["segment"],
                    "weekly_run_rate": round(run_rate, 2),
                    "weekly_last_4": round(last4, 2),
                    "deals_13w": int(r["deals"]),
                }
            )
        return {"as_of": as_of.isoformat(), "weeks": weeks, "segments": out}

    def _capacity_plan(self, as_of: date) -> dict[str, Any]:
        """The roster's finance table of the latest stored plan made by ``as_of`` for a period not yet over."""
        plans = [
            r
            for r in self.records.current(ROSTER_PLAN)
            if date.fromisoformat(str(r.payload["as_of"])) <= as_of
            and self.period(str(r.payload["period"])).end > as_of
        ]
        if not plans:
            return {}
        record = max(plans, key=lambda r: (r.created_at, r.key))
        try:
            table = self.mandates.roster.roster_finance(RosterFinanceRequest(key=record.key, version=record.version))
        except (InputError, InsufficientDataError) as error:
            return {"finance_note": f"plan {record.key} v{record.version} could not be exported: {error}"}
        return {"finance": table.model_dump(mode="json")}

    def _quota_plan(self, as_of: date) -> dict[str, Any]:
        """The quotas of the quarter holding ``as_of``, per owner, as the store has them."""
        period = self.period(as_of=as_of)
        q = self.store.table("quotas")
        q = q.filter((q.start_date >= ibis.literal(period.start)) & (q.start_date < ibis.literal(period.end)))
        rows = q.group_by("owner_id").aggregate(quota=q.amount.sum()).order_by("owner_id").to_pyarrow().to_pylist()
        total = sum(float(r["quota"] or 0) for r in rows)
        return {
            "period": period.name,
            "owners": len(rows),
            "total_quota": total,
            "quotas": [{"owner_id": r["owner_id"], "quota": float(r["quota"] or 0)} for r in rows],
        }

    def handoffs(self, request: HandoffsRequest | None = None) -> HandoffList:
        """The outbox: handoffs in issue order, optionally by status or receiving role."""
        r = request or HandoffsRequest()
        found = self.outbox.list(r.status, r.to_role)
        owners = {directory(self.store).resolve(r.owner, "owner")} if r.owner else None
        if owners or r.segment or r.limit or r.sort != "issued":
            found = select_handoffs(found, owners, r.segment, r.sort, r.limit)
        return HandoffList(engagement=self.engagement, handoffs=found)

    def update_handoff(self, request: HandoffUpdate) -> Handoff:
        """Acknowledge a handoff, or mark it done."""
        return self.outbox.set_status(request.id, request.status, author=request.by)

    def handoffs_jsonl(self, request: HandoffsRequest | None = None) -> str:
        """The outbox as JSON Lines."""
        return self.outbox.jsonl((request or HandoffsRequest()).status)

    def set_peer(self, request: PeerRequest) -> Peer:
        """Record the A2A endpoint of a fleet role, for delivering its hand-offs."""
        return set_peer(self.records, request.role, request.url, author=request.by)

    def peers(self) -> list[Peer]:
        """The fleet roles with an A2A endpoint."""
        return peers(self.records)

    def deliver_handoffs(self, send: Send) -> DeliveryReport:
        """Send open hand-offs to their roles' peers (``send`` is the transport, A2A from the faces)."""
        return deliver(self.records, self.outbox, send)

    def open_flags(self) -> list[Flag]:
        return self.flag_book.open()

    # --- the weekly cadence -------------------------------------------------------------------
    def run(self, request: RunRequest, progress: Progress | None = None) -> WeeklyBriefing:
        """The weekly cadence: ingest, compute every mandate on the seat, raise flags, hand off, brief."""
        ingested = None
        if request.ingest is not None:
            report = self.data.ingest(IngestRequest(path=request.ingest, mapping=request.mapping), progress)
            ingested = report.model_dump(mode="json")
        if request.sync is not None:
            from saleslead.sync.models import HubSpotSyncRequest, SalesforceSyncRequest

            if self.sync is None:
                raise InputError("this seat was built without a sync action", hint="open it with open_seat")
            live = SalesforceSyncRequest() if request.sync == "salesforce" else HubSpotSyncRequest()
            ingested = self.sync(live, progress).model_dump(mode="json")
        as_of = request.as_of or self.today()
        week = self._week(as_of, ingested=ingested is not None)
        if week.status.history_rows == 0:
            raise InsufficientDataError("the store holds no history to brief on", hint="ingest an export first")
        found, leak_note = leaks(self.store, as_of, self.settings)
        run: list[str] = []
        missing: list[str] = []
        outcomes = [self._run_step(step, week, run, missing) for step in WEEK]
        new_flags, resolved = self._settle_flags(outcomes, as_of)
        new_handoffs = self._settle_handoffs([d for o in outcomes for d in o.handoffs], as_of)
        call = next((o.call for o in outcomes if o.call is not None), None)
        status: StatusReport = week.status
        briefing = WeeklyBriefing(
            engagement=self.engagement,
            as_of=as_of,
            period=week.period.name,
            ingested=ingested,
            call=call,
            open_count=status.open_count,
            open_amount=status.open_amount,
            closed_won_to_date=status.closed_won_quarter_to_date.amount,
            pipeline_by_segment=[PipelineLine(**s.model_dump()) for s in status.open_by_segment],
            pipeline_by_stage=[PipelineLine(**s.model_dump()) for s in status.open_by_stage],
            leaks=found,
            leak_evidence=leak_note,
            sections=[o.section for o in outcomes],
            flags=self.flag_book.open(),
            handoffs=[h for h in self.outbox.list() if h.status != "done"],
            new_flags=new_flags,
            resolved_flags=resolved,
            new_handoffs=new_handoffs,
            mandates_run=run,
            mandates_missing=missing,
        )
        self.records.put(
            BRIEFING,
            as_of.isoformat(),
            briefing.model_dump(mode="json", include={"as_of", "period", "call", "new_flags", "new_handoffs"}),
            author=self.role_definition().id,
        )
        return briefing

    def _run_step(self, step: Step, week: Week, run: list[str], missing: list[str]) -> StepResult:
        try:
            outcome = step.brief(self.mandates, week)
        except InsufficientDataError as error:
            missing.append(step.action)
            text = f"Not enough history for an honest answer: {error}"
            return StepResult(section=section(step.spec, text, available=False))
        except Exception as error:  # one mandate's failure must not sink the week's briefing: say it loudly
            missing.append(step.action)
            text = f"**The {step.mandate} mandate failed this week** ({type(error).__name__}: {error}); no number."
            return StepResult(section=section(step.spec, text, available=False))
        run.append(step.action)
        return outcome

    def _settle_flags(self, outcomes: list[StepResult], as_of: date) -> tuple[list[str], list[str]]:
        book = self.flag_book
        drafts = [(d.kind, d.key, d.severity, d.message, d.evidence) for o in outcomes for d in o.flags]
        raised = book.raise_many(drafts, as_of)
        seen = {flag.id for flag, _ in raised}
        new = [flag.id for flag, fresh in raised if fresh]
        resolved = [f.id for f in book.sweep_kinds({k for o in outcomes for k in o.checked}, seen, as_of)]
        return new, resolved

    def _settle_handoffs(self, drafts: list[HandoffDraft], as_of: date) -> list[str]:
        role = self.role_definition()
        issued = self.outbox.issue_many(
            [(role.boundary(d.boundary), d.request, d.key, d.payload) for d in drafts], as_of=as_of
        )
        return [handoff.id for handoff, fresh in issued if fresh]

    def briefing_on(self, as_of: date) -> dict[str, Any]:
        """The stored summary of the briefing written for ``as_of``."""
        record = self.records.latest(BRIEFING, as_of.isoformat())
        if record is None:
            raise NotFoundError(f"no briefing for {as_of}", hint="run the cadence: saleslead run --as-of DATE")
        return record.payload
