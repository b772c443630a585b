"""People by name: what every face shows instead of CRM ids, and how a name someone types becomes an id.

A head of sales says "Dana Reyes", not ``0058d00B00000qWAEQ``. :func:`resolve_user` accepts either: an exact
id, then an exact name (any case), then a unique part of a name. A name that fits more than one person is an
error that lists them (name and id), so nothing is ever credited to the wrong person.
"""

from __future__ import annotations

from dataclasses import dataclass

from saleslead.errors import InputError
from saleslead.store import Store

__all__ = ["TOTAL", "Directory", "Person", "deal_names", "directory", "resolve_user"]

#: The node of the whole company in calls and the grid.
TOTAL = "total"


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    title: str
    manager_id: str | None
    segment: str | None


@dataclass(frozen=True)
class Directory:
    """Everyone in the users table, by id, with the reporting lines."""

    people: dict[str, Person]

    def name(self, user_id: str | None) -> str:
        """The person's name, or the id itself when the users table does not know it."""
        if user_id is None or user_id == "":
            return "(unassigned)"
        if user_id == TOTAL:
            return "total (the company)"
        person = self.people.get(user_id)
        return person.name if person and person.name else user_id

    def team(self, user_id: str) -> set[str]:
        """The person and everyone who reports to them, directly or not (a manager's subtree)."""
        below: dict[str, list[str]] = {}
        for p in self.people.values():
            if p.manager_id:
                below.setdefault(p.manager_id, []).append(p.id)
        out, todo = {user_id}, [user_id]
        while todo:
            for child in below.get(todo.pop(), []):
                if child not in out:
                    out.add(child)
                    todo.append(child)
        return out

    def resolve(self, text: str, what: str = "person", allow_total: bool = False) -> str:
        """The id ``text`` names: an id, a full name (any case), or a unique part of a name."""
        wanted = text.strip()
        if allow_total and wanted.casefold() in (TOTAL, "company", "the company", "all"):
            return TOTAL
        if wanted in self.people:
            return wanted
        key = wanted.casefold()
        exact = [p for p in self.people.values() if p.name.casefold() == key]
        found = exact or [p for p in self.people.values() if key and key in p.name.casefold()]
        if len(found) == 1:
            return found[0].id
        hint = "use a name from the users table or its id" + (", or 'total'" if allow_total else "")
        if not found:
            raise InputError(f"no {what} named {text!r}", column=what, hint=hint)
        listed = "; ".join(f"{p.name} ({p.id}{', ' + p.title if p.title else ''})" for p in sorted(
            found, key=lambda p: (p.name, p.id))[:12])  # fmt: skip
        more = f" and {len(found) - 12} more" if len(found) > 12 else ""
        raise InputError(
            f"{text!r} fits {len(found)} people: {listed}{more}", column=what, hint="give the full name or the id"
        )


def directory(store: Store) -> Directory:
    """The users table as a :class:`Directory` (one small query)."""
    rows = store.table("users").select("user_id", "name", "title", "manager_id", "segment").to_pyarrow().to_pylist()
    people = {
        str(r["user_id"]): Person(
            id=str(r["user_id"]),
            name=str(r["name"] or r["user_id"]),
            title=str(r["title"] or ""),
            manager_id=r["manager_id"] or None,
            segment=r["segment"] or None,
        )
        for r in rows
        if r["user_id"]
    }
    return Directory(people)


def resolve_user(store: Store, text: str, what: str = "person", allow_total: bool = False) -> str:
    """The user id ``text`` names (see :meth:`Directory.resolve`)."""
    return directory(store).resolve(text, what, allow_total)


def deal_names(store: Store, ids: list[str]) -> dict[str, str]:
    """The names of these deals (opportunity id → name; a deal without a name is left out)."""
    if not ids:
        return {}
    t = store.table("opportunities")
    rows = t.filter(t.opportunity_id.isin(sorted(set(ids)))).select("opportunity_id", "name").to_pyarrow().to_pylist()
    return {str(r["opportunity_id"]): str(r["name"]) for r in rows if r["name"]}
