"""Which deals of an export differ from what the store last took in for them: one hash per deal.

Everything the store derives for a deal — its row in ``opportunities`` and every candidate event of its
history — follows from the export's evidence for that deal alone: its opportunity row, its CRM history
rows, its recorded owner changes, the stage ladder, and whether a closed deal's close date has passed
at the snapshot (a closing event is only inferred once it has). ``evidence`` is a 63-bit hash of exactly
those, one per deal; the store keeps the hash it last ingested for every deal (table ``deal_evidence``).
A deal whose evidence is the same as the stored one, in an export no older than the store's newest,
adds nothing: its candidate events are the ones already merged, its snapshot repeats the newest state
and the merge drops it. So an ingest reads back, merges and rewrites only the deals whose hash differs —
the cost follows the change, not the history.

The hashes are computed by an in-memory DuckDB over the export's Arrow tables whatever engine holds the
store; rows of one deal are combined by a sum, so the order of the export's rows does not matter and a
repeated row still counts. A DuckDB whose hash function changed would make every deal look changed once:
slower, never wrong.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from saleslead.ingest.canonical import CanonicalExport

__all__ = ["Change", "EvidenceHashes", "changed_deals", "deal_evidence", "not_older", "restricted"]


def _ladder(export: CanonicalExport) -> int:
    """One 63-bit number for the stage ladder (it decides the stage inferred for deals without history)."""
    text = repr([(s.name, s.order, s.is_closed, s.is_won, s.probability) for s in export.stages])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


@dataclass(frozen=True)
class EvidenceHashes:
    """Of every deal in the export's order: ``opportunity_id`` and ``evidence`` (int64); and whether any activity
    names a deal the export does not hold."""

    deals: pa.Table
    orphans: bool


def deal_evidence(export: CanonicalExport) -> EvidenceHashes:
    """The evidence hash of every deal of ``export``."""
    opps = export.opportunities
    con = duckdb.connect()
    try:
        con.register("opps", opps.append_column("_row", pa.array(np.arange(opps.num_rows, dtype=np.int64))))
        con.register("hist", export.history)
        con.register("moves", export.owner_changes)
        con.register("acts", export.activities)
        columns = ", ".join(f'p."{name}"' for name in opps.column_names)
        snapshot = export.snapshot_at.replace(tzinfo=None)
        # Per deal: a sum of row hashes (a repeated row still counts; no order matters), grouped in the engine.
        query = f"""
            WITH h AS (SELECT opportunity_id, sum(hash(t)) AS s FROM hist t GROUP BY opportunity_id),
                 m AS (SELECT opportunity_id, sum(hash(t)) AS s FROM moves t GROUP BY opportunity_id),
                 a AS (SELECT opportunity_id, sum(hash(t)) AS s FROM acts t GROUP BY opportunity_id)
            SELECT p._row AS row,
                   (hash({columns}, p.is_closed AND CAST(p.close_date AS TIMESTAMP) <= ?, h.s, m.s, a.s, ?::BIGINT)
                    >> 1)::BIGINT AS evidence,
                   a.s IS NOT NULL AS active,
                   (SELECT count(*) FROM a) AS groups
            FROM opps p LEFT JOIN h ON h.opportunity_id = p.opportunity_id
                        LEFT JOIN m ON m.opportunity_id = p.opportunity_id
                        LEFT JOIN a ON a.opportunity_id = p.opportunity_id
        """
        # Only numbers come back (the ids are the export's own): text out of the engine costs more than the hash.
        result = con.execute(query, [snapshot, _ladder(export)]).fetch_arrow_table()
    finally:
        con.close()
    evidence = np.zeros(opps.num_rows, dtype=np.int64)
    evidence[np.asarray(result.column("row").to_numpy(), dtype=np.int64)] = result.column("evidence").to_numpy()
    groups = int(result.column("groups")[0].as_py()) if result.num_rows else 0
    orphans = groups > pc.sum(result.column("active")).as_py() if result.num_rows else export.activities.num_rows > 0
    deals = pa.table({"opportunity_id": opps.column("opportunity_id"), "evidence": pa.array(evidence)})
    return EvidenceHashes(deals, bool(orphans))


@dataclass(frozen=True)
class Change:
    """The deals of an export against the store's evidence: which rows differ, and how many are new."""

    evidence: pa.Table  # of every deal in the export, in its order (``EvidenceHashes.deals``)
    differs: npt.NDArray[np.bool_]  # by export row: new, or evidence not the stored one
    new: int  # deals without stored evidence: new to the store, or stored before it kept evidence
    changed: int  # deals whose stored evidence differs
    orphans: bool  # activities name deals the export does not hold

    @property
    def unchanged(self) -> int:
        return int(self.differs.size - self.new - self.changed)

    @property
    def everything(self) -> bool:
        return bool(self.differs.all())


def changed_deals(evidence: EvidenceHashes, stored: pa.Table) -> Change:
    """Compare the export's ``evidence`` with the ``stored`` one (``opportunity_id``, ``evidence``)."""
    deals = evidence.deals
    position = pc.index_in(deals.column("opportunity_id"), value_set=stored.column("opportunity_id"))
    known = np.asarray(pc.is_valid(position).to_numpy(zero_copy_only=False), dtype=bool)
    before = pc.take(stored.column("evidence"), position)
    same = np.asarray(pc.fill_null(pc.equal(deals.column("evidence"), before), False).to_numpy(False), bool)
    new, changed = int(np.count_nonzero(~known)), int(np.count_nonzero(known & ~same))
    return Change(deals, ~same, new, changed, evidence.orphans)


def restricted(export: CanonicalExport, rows: npt.NDArray[np.bool_], *, orphans: bool = True) -> CanonicalExport:
    """The export cut down to the deals of ``rows``: their opportunity rows, history, owner changes and activities
    (activities of deals the export does not hold stay, when there are ``orphans``: they are added as always)."""
    opps = export.opportunities
    ids = opps.column("opportunity_id").combine_chunks()
    picked = pa.array(rows)
    chosen = ids.filter(picked)

    def of_those(table: pa.Table) -> pa.Table:
        return table.filter(pc.is_in(table.column("opportunity_id"), value_set=chosen)) if table.num_rows else table

    activities = export.activities
    if activities.num_rows and not orphans:
        activities = of_those(activities)
    elif activities.num_rows:  # activities of deals the export does not hold are kept too
        position = pc.index_in(activities.column("opportunity_id"), value_set=ids)
        keep = pc.take(picked, pc.fill_null(position, 0))
        activities = activities.filter(pc.or_(pc.is_null(position), keep))
    return replace(
        export,
        opportunities=opps.filter(picked),
        history=of_those(export.history),
        owner_changes=of_those(export.owner_changes),
        activities=activities,
    )


def not_older(snapshot: datetime, newest: datetime | None) -> bool:
    """Whether an export at ``snapshot`` may skip its unchanged deals (it is not older than the store)."""
    return newest is None or snapshot >= newest
