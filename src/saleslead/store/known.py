"""Which candidate events of a new export the store already holds, decided in the engine.

A weekly export repeats almost everything the store knows. Matching each candidate event against the
stored history in the engine (a join on deal and time) leaves only the events that may be new, so the
merge reads back and rewrites just the deals they touch — for an unchanged export, none at all. A
candidate is known when:

* ``history`` — a stored event of the deal at the same moment has the same state (the owner is not
  compared where the candidate's owner is only inferred);
* ``owner`` — a stored event of the deal at the same moment has that owner;
* ``snapshot`` — the deal's newest stored state is no later and the same, field by field (a blank in
  the snapshot takes the stored value, as the merge fills it);
* ``closed`` — the deal is stored and its newest stored event is not earlier, or is the same state;
* ``created`` — the deal is stored at all (its opening is only inferred where the CRM kept no history).

Everything else goes to the merge, which decides exactly as it always does; this only saves it work.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from saleslead.store.merge import STATE_FIELDS

__all__ = ["known_candidates"]

_MATCHED = ("opportunity_id", "changed_at", *STATE_FIELDS, "source", "owner_inferred")


def known_candidates(history: ir.Table, candidates: pa.Table, *, hashed: bool = False) -> npt.NDArray[np.bool_]:
    """A mask over ``candidates``: true where the stored ``history`` already holds the event.

    ``hashed`` (engines with a hash of a struct, e.g. DuckDB) compares the state of history events by one
    64-bit key; otherwise field by field.
    """
    rows = candidates.select(list(_MATCHED)).append_column("row", pa.array(np.arange(candidates.num_rows)))
    c = ibis.memtable(rows)
    h = history.select(*_MATCHED[:-2], "source", "valid_to")
    same_moment = [c.opportunity_id == h.opportunity_id, c.changed_at == h.changed_at]
    others = [f for f in STATE_FIELDS if f not in ("owner_id", "last_activity_date")]

    # Each join is on equal keys only (a hash join); the rest of the comparison filters the pairs it finds.
    events = c.filter(c.source == "history")
    compared = (*others, "last_activity_date")
    if hashed:
        # One 64-bit key for the compared state instead of six join keys: a pair that agrees on deal, moment
        # and that hash and still differs is a chance of about 1 in 10^19 per pair.
        state = [ibis.struct({f: t[f] for f in compared}).hash() for t in (events, h)]
        pairs = events.join(h, [*same_moment, state[0] == state[1]])
        same = [events.owner_inferred | events.owner_id.identical_to(h.owner_id)]
    else:
        pairs = events.join(h, same_moment)
        same = [
            *(events[f].identical_to(h[f]) for f in compared),
            events.owner_inferred | events.owner_id.identical_to(h.owner_id),
        ]
    found = pairs.filter(same).select(events.row)

    owners = c.filter(c.source == "owner")
    moved = owners.join(h, same_moment).filter(owners.owner_id.identical_to(h.owner_id)).select(owners.row)

    newest = h.filter(h.valid_to.isnull())
    snaps = c.filter(c.source == "snapshot")
    repeated = (
        snaps.join(newest, snaps.opportunity_id == newest.opportunity_id)
        .filter(
            [
                snaps.changed_at >= newest.changed_at,
                *(snaps[f].isnull() | snaps[f].identical_to(newest[f]) for f in STATE_FIELDS),
            ]
        )
        .select(snaps.row)
    )

    closes = c.filter(c.source == "closed")
    settled = (
        closes.join(newest, closes.opportunity_id == newest.opportunity_id)
        .filter(
            (closes.changed_at <= newest.changed_at)
            | ibis.and_(
                *(closes[f].identical_to(newest[f]) for f in STATE_FIELDS if f != "owner_id"),
                closes.owner_inferred | closes.owner_id.identical_to(newest.owner_id),
            )
        )
        .select(closes.row)
    )

    opened = c.filter(c.source == "created")
    seen = opened.semi_join(newest, opened.opportunity_id == newest.opportunity_id).select(opened.row)

    known = ibis.union(found, moved, repeated, settled, seen, distinct=True).to_pyarrow()
    mask = np.zeros(candidates.num_rows, dtype=bool)
    mask[np.asarray(known.column("row").to_numpy(), dtype=np.int64)] = True
    return mask
