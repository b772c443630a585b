"""Owner changes from Salesforce OpportunityFieldHistory rows whose Field is the owner.

OpportunityHistory records stage, amount and close date, never the owner, so without this file the
owner of every past event can only be taken to be the owner at the snapshot. OpportunityFieldHistory
fills the gap: for a lookup field such as the owner, Salesforce writes the change twice, once with the
users' ids (``DataType`` EntityId) and once with their names (``DataType`` Text). The id row is taken; a
name row only where no id row records the same change, and only when the name belongs to exactly one
user. 15-character ids are matched to the 18-character ids of the User file. Rows for other fields are
not used (they are counted in the ingest report).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from saleslead.ingest.build import ROW, TableSpec

__all__ = ["FIELD_HISTORY", "OWNER_FIELDS", "OwnerChanges", "owner_changes"]

#: ``Field`` values (case-insensitive) that record a change of the opportunity's owner.
OWNER_FIELDS = ("owner", "ownerid")
_USER_ID = r"^005[0-9A-Za-z]{12}([0-9A-Za-z]{3})?$"

FIELD_HISTORY = TableSpec(
    label="OpportunityFieldHistory",
    fields={
        "opportunity_id": "OpportunityId",
        "changed_at": "CreatedDate",
        "field": "Field",
        "old_value": "OldValue",
        "new_value": "NewValue",
        "is_deleted": "IsDeleted",
    },
    kinds={
        "opportunity_id": "string",
        "changed_at": "timestamp",
        "field": "string",
        "old_value": "string",
        "new_value": "string",
        "is_deleted": "bool",
    },
    required=("opportunity_id", "changed_at", "field", "new_value"),
    not_null=("opportunity_id", "changed_at", "field"),
    keep_extra=False,
)


@dataclass(frozen=True)
class OwnerChanges:
    """The owner changes found, and what was passed over."""

    changes: pa.Table  # OWNER_CHANGES, sorted by opportunity and time, plus ``_row`` (0-based data row)
    other_fields: int  # rows for fields other than the owner
    name_rows: int  # rows that repeat an id row's change with names
    unmatched: int  # owner changes whose new owner matches no user

    def notes(self, file: str) -> list[str]:
        """Report lines for what was read but not used."""
        said = [f"{file}: {self.changes.num_rows:,} owner changes"]
        if self.other_fields:
            said.append(f"{file}: {self.other_fields:,} rows for fields other than the owner not used")
        if self.name_rows:
            said.append(f"{file}: {self.name_rows:,} rows repeat an owner change with names (the ids are used)")
        if self.unmatched:
            said.append(
                f"{file}: {self.unmatched:,} owner changes name no known user and are not used "
                "(expected the new owner's user id, or a name that belongs to exactly one user)"
            )
        return said


def _resolver(users: pa.Table | None, owner_ids: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """Known ids, their 15-character forms, and unique user names with their ids."""
    known = [owner_ids.drop_null()]
    names = pa.array([], pa.string())
    name_ids = pa.array([], pa.string())
    if users is not None and users.num_rows:
        known.append(users.column("user_id").combine_chunks().drop_null())
        listed = users.filter(pc.is_valid(users.column("name")))
        counts = listed.group_by("name").aggregate([("user_id", "count")])
        unique = counts.filter(pc.equal(counts.column("user_id_count"), 1)).column("name")
        once = listed.filter(pc.is_in(listed.column("name"), value_set=unique))
        names, name_ids = once.column("name").combine_chunks(), once.column("user_id").combine_chunks()
    ids = pc.unique(pa.concat_arrays([pc.cast(a, pa.string()) for a in known]))
    long_ids = ids.filter(pc.equal(pc.utf8_length(ids), 18))
    return ids, long_ids, names, name_ids


def _resolve(values: pa.Array, resolver: tuple[pa.Array, pa.Array, pa.Array, pa.Array]) -> tuple[pa.Array, pa.Array]:
    """Each value as a user id (null when it names nobody), and whether it was written as an id."""
    ids, long_ids, names, name_ids = resolver
    as_known = pc.if_else(pc.is_in(values, value_set=ids), values, pa.scalar(None, pa.string()))
    short = pc.utf8_slice_codeunits(long_ids, 0, 15)
    as_short = pc.take(long_ids, pc.index_in(values, value_set=short))
    looks_like_id = pc.fill_null(pc.match_substring_regex(values, _USER_ID), False)
    as_pattern = pc.if_else(looks_like_id, values, pa.scalar(None, pa.string()))
    by_id = pc.coalesce(as_known, as_short, as_pattern)
    by_name = pc.take(name_ids, pc.index_in(values, value_set=names))
    return pc.coalesce(by_id, by_name), pc.is_valid(by_id)


def owner_changes(rows: pa.Table, users: pa.Table | None, owner_ids: pa.Array | pa.ChunkedArray) -> OwnerChanges:
    """The owner changes in typed OpportunityFieldHistory rows (see :data:`FIELD_HISTORY`)."""
    owner_ids = owner_ids.combine_chunks() if isinstance(owner_ids, pa.ChunkedArray) else owner_ids
    is_owner = pc.fill_null(pc.is_in(pc.utf8_lower(rows.column("field")), value_set=pa.array(OWNER_FIELDS)), False)
    owned = rows.filter(is_owner)
    other = rows.num_rows - owned.num_rows
    resolver = _resolver(users, owner_ids)
    new_id, new_is_id = _resolve(owned.column("new_value").combine_chunks(), resolver)
    old_id, _ = _resolve(owned.column("old_value").combine_chunks(), resolver)
    table = pa.table(
        {
            "opportunity_id": owned.column("opportunity_id"),
            "changed_at": owned.column("changed_at"),
            "old_owner_id": old_id,
            "new_owner_id": new_id,
            "written_as_id": new_is_id,
            ROW: owned.column(ROW),
        }
    )
    table = table.append_column("matched", pc.is_valid(new_id))
    # One change per (opportunity, time): the id row where there is one, else a row whose name matched.
    order = pc.sort_indices(
        table,
        [
            ("opportunity_id", "ascending"),
            ("changed_at", "ascending"),
            ("matched", "descending"),
            ("written_as_id", "descending"),
        ],
    )
    ordered = table.take(order)
    deal = ordered.column("opportunity_id").combine_chunks()
    when = ordered.column("changed_at").combine_chunks()
    repeat = np.zeros(ordered.num_rows, dtype=bool)
    if ordered.num_rows > 1:
        repeat[1:] = np.asarray(
            pc.and_(pc.equal(deal[1:], deal[:-1]), pc.equal(when[1:], when[:-1])).to_numpy(zero_copy_only=False)
        )
    first = ordered.filter(pa.array(~repeat))
    found = first.filter(first.column("matched"))
    changes = found.select(["opportunity_id", "changed_at", "old_owner_id", "new_owner_id", ROW])
    return OwnerChanges(changes, other, int(repeat.sum()), first.num_rows - found.num_rows)
