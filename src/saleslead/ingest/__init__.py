"""Ingest: turn a folder of CRM export files into a :class:`CanonicalExport`.

The settings (:mod:`saleslead.ingest.settings`) are read without the engine; ``CanonicalExport``,
``StageInfo`` and ``learn_stages`` load Arrow when first asked for (PEP 562), so the seat's settings can be
read by a stored answer's reader without it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from saleslead.ingest.settings import IngestSettings, StageSetting

if TYPE_CHECKING:
    from saleslead.ingest.canonical import CanonicalExport, StageInfo
    from saleslead.ingest.stages import learn_stages

__all__ = [
    "CanonicalExport",
    "IngestSettings",
    "StageInfo",
    "StageSetting",
    "learn_stages",
    "read_export",
]


def read_export(
    path: Path,
    *,
    mapping: Path | str | None = None,
    strict: bool = True,
    snapshot_at: datetime | None = None,
    settings: IngestSettings | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> CanonicalExport:
    """Read an export folder: Salesforce objects by default, another shape through ``mapping``.

    ``mapping`` is a profile path or the bare name of a shipped profile (``maven``, ``hubspot``).
    ``strict=False`` quarantines bad rows into ``CanonicalExport.rejected`` instead of raising.
    ``progress(label, rows)`` is called as each file is read.
    """
    folder = Path(path)
    if mapping is not None:
        from saleslead.ingest.mapping import read_mapped

        export = read_mapped(
            folder, mapping, strict=strict, snapshot_at=snapshot_at, settings=settings, progress=progress
        )
    else:
        from saleslead.ingest.salesforce import read_salesforce

        export = read_salesforce(
            folder,
            strict=strict,
            snapshot_at=snapshot_at,
            settings=settings or IngestSettings(),
            progress=progress,
        )
    import pyarrow as pa

    # The raw text and the intermediate columns are gone: hand the memory they held back to the system.
    pa.default_memory_pool().release_unused()
    return export


def __getattr__(name: str) -> Any:
    """``CanonicalExport``, ``StageInfo`` and ``learn_stages``, imported when first asked for."""
    if name in ("CanonicalExport", "StageInfo"):
        from saleslead.ingest import canonical

        return getattr(canonical, name)
    if name == "learn_stages":
        from saleslead.ingest import stages

        return stages.learn_stages
    raise AttributeError(f"module 'saleslead.ingest' has no attribute {name!r}")
