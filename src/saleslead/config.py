"""The seat's settings per store and engagement: kept in the store's records, read by every face.

``saleslead config set fiscal_start_month 2`` stores a new version of the engagement's settings (kind
``settings``, key ``seat``); :func:`stored_settings` reads the latest, and :func:`saleslead.seat.open_seat`
uses it whenever no settings are passed — so the CLI, the web app, the MCP server and the weekly cadence
all compute on the same fiscal calendar and thresholds. Keys are the fields of
:class:`saleslead.settings.Settings`, nested ones dotted (``guard.stretch``); a value is checked by the
model before anything is stored.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from saleslead.errors import InputError
from saleslead.settings import Settings
from saleslead.store.records import Records

__all__ = [
    "KIND",
    "ConfigSetRequest",
    "ConfigShowRequest",
    "SettingLine",
    "SettingsView",
    "set_setting",
    "settings_view",
    "stored_settings",
]

KIND = "settings"
KEY = "seat"


class ConfigShowRequest(BaseModel):
    model_config = ConfigDict(frozen=True)


class ConfigSetRequest(BaseModel):
    """Set one setting: ``key`` is a field of the settings (nested dotted), ``value`` JSON or plain text."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(description="e.g. fiscal_start_month, min_sample, guard.stretch", examples=["fiscal_start_month"])
    value: str = Field(description="the new value, as JSON or plain text", examples=["2"])
    author: str = "saleslead"


class SettingLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    value: Any
    default: Any
    description: str


class SettingsView(BaseModel):
    """The engagement's settings: every key, its value, its default; the stored version (None: all defaults)."""

    model_config = ConfigDict(frozen=True)

    engagement: str
    version: int | None
    settings: Settings
    lines: list[SettingLine]


def stored_settings(records: Records) -> Settings:
    """The engagement's latest stored settings (the defaults when none were set)."""
    record = records.latest(KIND, KEY)
    return Settings.model_validate(record.payload) if record is not None else Settings()


def _lines(model: BaseModel, defaults: BaseModel, prefix: str = "") -> list[SettingLine]:
    out: list[SettingLine] = []
    for name, field in type(model).model_fields.items():
        value, default = getattr(model, name), getattr(defaults, name)
        if isinstance(value, BaseModel):
            out.extend(_lines(value, default, f"{prefix}{name}."))
        else:
            out.append(
                SettingLine(key=prefix + name, value=value, default=default, description=field.description or "")
            )
    return out


def settings_view(records: Records) -> SettingsView:
    record = records.latest(KIND, KEY)
    settings = stored_settings(records)
    return SettingsView(
        engagement=records.engagement,
        version=record.version if record is not None else None,
        settings=settings,
        lines=_lines(settings, Settings()),
    )


def set_setting(records: Records, key: str, value: str, author: str = "saleslead") -> SettingsView:
    """Set one key (dotted for nested) to a value (JSON, else the text itself); store the new settings version."""
    known = [line.key for line in _lines(Settings(), Settings())]
    if key not in known:
        raise InputError(f"no setting {key!r}", column=key, hint=f"one of: {', '.join(known)}")
    try:
        parsed: Any = json.loads(value)
    except json.JSONDecodeError:
        parsed = value
    data = stored_settings(records).model_dump(mode="json")
    *path, last = key.split(".")
    node = data
    for part in path:
        node = node[part]
    node[last] = parsed
    settings = Settings.model_validate(data)  # a bad value is a ValidationError: the one error path
    records.put(KIND, KEY, settings.model_dump(mode="json"), author=author)
    return settings_view(records)
