"""The forecast hierarchy (rep → manager → … → top, from ``users.manager_id``) and CRM categories per node.

Every owner of a deal in the forecast is a node; so is every manager above one. ``level`` counts the
steps from the top of the owner's chain (0 = top). Owners missing from the users table are their own
top node. A manager loop in the data is cut where it closes.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from saleslead.store import Store

__all__ = ["CATEGORY_FIELDS", "Hierarchy", "build_hierarchy", "category_field"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

#: The CRM forecast categories reported per node, matched to the values found in the data.
CATEGORY_FIELDS = ("commit", "best_case", "pipeline", "closed", "omitted")


def category_field(value: str) -> str | None:
    """The report field of a CRM category value (``"Best Case"``, ``"BestCase"``, ``"best_case"`` → best_case)."""
    key = "".join(ch for ch in value.lower() if ch.isalpha())
    return {
        "commit": "commit",
        "bestcase": "best_case",
        "pipeline": "pipeline",
        "closed": "closed",
        "omitted": "omitted",
    }.get(key)


@dataclass(frozen=True)
class Hierarchy:
    ids: list[str]
    names: list[str]
    titles: list[str]
    level: list[int]
    parent: list[int]  # -1 for a top node
    rollup: sp.csr_matrix  # (owners, nodes)
    owner_node: Ints  # per owner: its own node

    def leaves(self) -> set[int]:
        return {int(i) for i in self.owner_node}


def build_hierarchy(store: Store, owners: list[str]) -> Hierarchy:
    """Nodes for ``owners`` and every manager above them, with the owner→node rollup matrix."""
    users = store.table("users").select("user_id", "name", "title", "manager_id").to_pyarrow().to_pylist()
    info = {u["user_id"]: u for u in users}
    ids: list[str] = []
    where: dict[str, int] = {}
    chains: list[list[int]] = []

    def node(uid: str) -> int:
        if uid not in where:
            where[uid] = len(ids)
            ids.append(uid)
        return where[uid]

    for owner in owners:
        chain: list[int] = []
        seen: set[str] = set()
        uid: str | None = owner or "(unassigned)"
        while uid and uid not in seen:
            seen.add(uid)
            chain.append(node(uid))
            row = info.get(uid)
            uid = row["manager_id"] if row else None
        chains.append(chain)
    parent = [-1] * len(ids)
    for chain in chains:
        for child, boss in itertools.pairwise(chain):
            parent[child] = boss
    level = [0] * len(ids)
    for i in range(len(ids)):
        depth, j = 0, i
        while parent[j] >= 0 and depth <= len(ids):
            j, depth = parent[j], depth + 1
        level[i] = depth
    rows: list[int] = []
    cols: list[int] = []
    for o, chain in enumerate(chains):
        rows.extend([o] * len(chain))
        cols.extend(chain)
    matrix = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(owners), len(ids)))
    names = [str((info.get(u) or {}).get("name") or u) for u in ids]
    titles = [str((info.get(u) or {}).get("title") or "") for u in ids]
    owner_node = np.asarray([c[0] for c in chains], dtype=np.int64)
    return Hierarchy(ids, names, titles, level, parent, matrix, owner_node)
