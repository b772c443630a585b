"""The role definition: a Markdown file with YAML front matter, its pydantic model and its loader.

The bundled ``sales-lead.md`` is the source of truth for the seat's mandate, its boundaries, the
signals the router reads, and the persona. Unknown front-matter fields are kept (``extra="allow"``)
so a newer role file still loads; ``docs/role.schema.json`` is the golden JSON Schema of the model.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from saleslead.errors import InputError, NotFoundError
from saleslead.role.library import library_role

__all__ = ["Boundary", "MandateItem", "Persona", "RoleAction", "RoleDefinition", "bundled_role_text", "load_role"]


class RoleAction(BaseModel):
    """One thing the seat does inside a mandate item, and the words that ask for it."""

    model_config = ConfigDict(frozen=True, extra="allow")

    id: str
    summary: str
    signals: list[str] = Field(default_factory=list)
    #: questions in people's own words that this action answers (the router's nearest-example fallback)
    examples: list[str] = Field(default_factory=list)


class MandateItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    id: str
    title: str
    summary: str
    actions: list[RoleAction] = Field(default_factory=list)


class Boundary(BaseModel):
    """Work the seat does not do: who owns it, how the seat relates to that role, and its signals."""

    model_config = ConfigDict(frozen=True, extra="allow")

    id: str
    owner: str
    relation: Literal["owns", "feeds"]
    excludes: str
    reason: str
    signals: list[str] = Field(default_factory=list)
    #: requests in people's own words that belong to the owner (the router's nearest-example fallback)
    examples: list[str] = Field(default_factory=list)
    payload: str = ""


class Persona(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    voice: str
    values: list[str] = Field(default_factory=list)
    never: list[str] = Field(default_factory=list)


class RoleDefinition(BaseModel):
    """The sales-lead role as the fleet sees it."""

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)

    id: str
    role_class: str = Field(alias="class")
    domain: str
    title: str
    persistent_persona: bool
    version: int = 1
    summary: str
    mandate: list[MandateItem]
    boundaries: list[Boundary]
    persona: Persona
    unclear_question: str
    body: str = Field("", description="the Markdown after the front matter")

    def action(self, action_id: str) -> RoleAction:
        for item in self.mandate:
            for action in item.actions:
                if action.id == action_id:
                    return action
        raise NotFoundError(f"no action {action_id!r} in the role {self.id!r}")

    def mandate_of(self, action_id: str) -> MandateItem:
        for item in self.mandate:
            if any(a.id == action_id for a in item.actions):
                return item
        raise NotFoundError(f"no action {action_id!r} in the role {self.id!r}")

    def boundary(self, boundary_id: str) -> Boundary:
        for boundary in self.boundaries:
            if boundary.id == boundary_id:
                return boundary
        raise NotFoundError(f"no boundary {boundary_id!r} in the role {self.id!r}")


def bundled_role_text() -> str:
    """The text of the role file shipped in the package."""
    return resources.files("saleslead.role").joinpath("sales-lead.md").read_text(encoding="utf-8")


def _split(text: str, source: str) -> tuple[str, str]:
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise InputError("a role file starts with a YAML front matter block ('---')", file=source, line=1)
    for number, line in enumerate(lines[1:], start=2):
        if line.strip() == "---":
            return "".join(lines[1 : number - 1]), "".join(lines[number:])
    raise InputError("the front matter block is never closed with '---'", file=source)


def _check(role: RoleDefinition, source: str) -> None:
    ids = [a.id for item in role.mandate for a in item.actions]
    for label, values in (
        ("mandate item", [m.id for m in role.mandate]),
        ("action", ids),
        ("boundary", [b.id for b in role.boundaries]),
    ):
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise InputError(f"{label} ids repeat: {', '.join(repeated)}", file=source)
    for boundary in role.boundaries:
        try:
            entry = library_role(boundary.owner)
        except NotFoundError as error:
            raise InputError(
                f"boundary {boundary.id!r} names owner {boundary.owner!r}, not in the fleet library",
                file=source,
                hint=error.hint,
            ) from error
        if entry.id == role.id:
            raise InputError(f"boundary {boundary.id!r} hands work to the seat itself", file=source)


def load_role(path: Path | None = None) -> RoleDefinition:
    """Load and check a role file (default: the bundled ``sales-lead.md``, parsed once per process)."""
    if path is None:
        return _bundled_role()
    return _load(path)


@functools.cache
def _bundled_role() -> RoleDefinition:
    return _load(None)


def _load(path: Path | None) -> RoleDefinition:
    source = str(path) if path else "saleslead/role/sales-lead.md"
    if path is None:
        text = bundled_role_text()
    else:
        if not path.exists():
            raise InputError(f"no such role file: {path}", file=str(path))
        text = path.read_text(encoding="utf-8")
    front, body = _split(text, source)
    try:
        data = yaml.safe_load(front)
    except yaml.YAMLError as error:
        raise InputError(f"the front matter is not valid YAML: {error}", file=source) from error
    if not isinstance(data, dict):
        raise InputError("the front matter must be a mapping", file=source)
    try:
        role = RoleDefinition.model_validate({**data, "body": body.strip() + "\n"})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"role file field {where}: {first['msg']}", file=source, column=where) from error
    _check(role, source)
    return role
