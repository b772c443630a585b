"""The data desk: ingest an export, report what the store holds, make the demo company."""

from saleslead.data.desk import (
    DataDesk,
    DemoRequest,
    DemoResult,
    IngestReport,
    IngestRequest,
    Rejection,
    StatusRequest,
)

__all__ = ["DataDesk", "DemoRequest", "DemoResult", "IngestReport", "IngestRequest", "Rejection", "StatusRequest"]
