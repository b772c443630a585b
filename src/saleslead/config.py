"""The seat's settings per store and engagement: kept in the store's records, read by every face.

``saleslead config set fiscal_start_month 2`` stores a new version of the engagement's settings (kind
``settings``, key ``seat``); :func:`stored_settings` reads the latest, and :func:`saleslead.seat.open_seat`
uses it whenever no settings are passed — so the CLI, the web app, the MCP server and the weekly cadence
all compute on the same fiscal calendar, currency and thresholds. Keys are the fields of
:class:`saleslead.settings.Settings`, nested ones dotted (``guard.stretch``); a value is written as in TOML
(``2``, ``"EUR"``, ``[{name = "Discover"}]``, ``{SMB = [0, 200]}``), else JSON, else it is the text itself,
and is checked by the model before anything is stored.

The whole configuration reads and writes as one TOML document (:func:`settings_toml`, :func:`load_toml`:
``saleslead config show --toml > seat.toml`` … ``saleslead config load seat.toml``).
"""

from __future__ import annotations

import json
import tomllib
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from saleslead.errors import InputError
from saleslead.settings import Settings

if TYPE_CHECKING:
    from saleslead.store.records import Records

__all__ = [
    "KIND",
    "ConfigLoadRequest",
    "ConfigSetRequest",
    "ConfigShowRequest",
    "SettingLine",
    "SettingsView",
    "load_toml",
    "parse_value",
    "set_setting",
    "settings_toml",
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

    key: str = Field(
        description="e.g. fiscal_start_month, currency, min_sample, guard.stretch, stalls.quiet_days, stages",
        examples=["fiscal_start_month"],
    )
    value: str = Field(description="the new value, as a TOML value, JSON or plain text", examples=["2"])
    author: str = "saleslead"


class ConfigLoadRequest(BaseModel):
    """Replace the settings with a TOML document (keys left out take their defaults)."""

    model_config = ConfigDict(frozen=True)

    text: str = Field(description="the settings as TOML, e.g. as `saleslead config show --toml` writes them")
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
    #: the settings as one TOML document
    toml: str = ""


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
        toml=settings_toml(settings),
    )


def set_setting(records: Records, key: str, value: str, author: str = "saleslead") -> SettingsView:
    """Set one key (dotted for nested) to a value (JSON, else the text itself); store the new settings version."""
    known = [line.key for line in _lines(Settings(), Settings())]
    if key not in known:
        raise InputError(f"no setting {key!r}", column=key, hint=f"one of: {', '.join(known)}")
    parsed = parse_value(value)
    data = stored_settings(records).model_dump(mode="json")
    *path, last = key.split(".")
    node = data
    for part in path:
        node = node[part]
    node[last] = parsed
    settings = Settings.model_validate(data)  # a bad value is a ValidationError: the one error path
    records.put(KIND, KEY, settings.model_dump(mode="json"), author=author)
    return settings_view(records)


def parse_value(text: str) -> Any:
    """A setting's value as typed: a TOML value (``2``, ``"EUR"``, ``{SMB = [0, 200]}``), else JSON, else the text."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        pass
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def load_toml(records: Records, text: str, author: str = "saleslead") -> SettingsView:
    """Replace the engagement's settings with a TOML document, checked whole before anything is stored."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(
            f"the settings are not TOML: {error}", hint="write them as `saleslead config show --toml` does"
        ) from error
    known = set(Settings.model_fields)
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(f"no setting {unknown[0]!r}", column=unknown[0], hint=f"one of: {', '.join(sorted(known))}")
    settings = Settings.model_validate(data)  # a bad value is a ValidationError: the one error path
    records.put(KIND, KEY, settings.model_dump(mode="json"), author=author)
    return settings_view(records)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value if v is not None) + "]"  # [min] is open-ended
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None) + "}"
    raise TypeError(f"no TOML for {value!r}")


def _toml_key(key: str) -> str:
    bare = key.replace("_", "").replace("-", "").isalnum() and key.isascii()
    return key if bare else json.dumps(key)


def settings_toml(settings: Settings) -> str:
    """The settings as one TOML document: scalars first, then a table per nested group, then the stages."""
    data = settings.model_dump(mode="json")
    top = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict | list)]
    out = ["# saleslead settings (saleslead config load FILE reads this back)", *top]
    for name, value in data.items():
        if isinstance(value, dict):
            out += ["", f"[{name}]", *(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())]
    for name, value in data.items():
        if isinstance(value, list):
            for item in value:
                body = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in item.items() if v is not None]
                out += ["", f"[[{name}]]", *body]
    return "\n".join(out) + "\n"
