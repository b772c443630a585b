"""CSV as real exports come: BOM, CRLF, semicolons, quoted newlines, date formats, Parquet."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saleslead.errors import InputError
from saleslead.ingest import read_export
from saleslead.ingest.convert import to_bool, to_timestamp


def test_bom_crlf_semicolon_and_quoted_newlines(tmp_path: Path) -> None:
    text = (
        "Id;StageName;CloseDate;Amount;Description;IsClosed;IsWon\r\n"
        'o1;Open;2024-03-31;1500;"line one\r\nline two; still one field";FALSE;FALSE\r\n'
        "o2;Won;2024-03-01;;plain;TRUE;TRUE\r\n"
    )
    (tmp_path / "opportunity.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    export = read_export(tmp_path)
    rows = export.opportunities.to_pylist()
    assert [r["opportunity_id"] for r in rows] == ["o1", "o2"]
    assert rows[0]["amount"] == 1500.0
    assert rows[1]["amount"] is None
    assert '"Description":"line one\\r\\nline two; still one field"' in rows[0]["extra"]
    assert rows[1]["is_won"] is True


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2024-02-03", datetime(2024, 2, 3)),
        ("2024-02-03T10:11:12Z", datetime(2024, 2, 3, 10, 11, 12)),
        ("2024-02-03T10:11:12.250Z", datetime(2024, 2, 3, 10, 11, 12, 250000)),
        ("2024-02-03T10:11:12.000+0000", datetime(2024, 2, 3, 10, 11, 12)),
        ("2024-02-03T10:11:12+02:00", datetime(2024, 2, 3, 8, 11, 12)),
        ("2024-02-03 10:11", datetime(2024, 2, 3, 10, 11)),
        ("02/23/26 08:55 PM", datetime(2026, 2, 23, 20, 55)),
        ("02/23/26 12:05 AM", datetime(2026, 2, 23, 0, 5)),
        ("02/03/24", datetime(2024, 2, 3)),
        ("2/3/2024", datetime(2024, 2, 3)),
        ("2/3/2024 14:30", datetime(2024, 2, 3, 14, 30)),
    ],
)
def test_date_formats(written: str, expected: datetime) -> None:
    parsed, bad = to_timestamp(pa.array([written]))
    assert not bad.any()
    assert parsed.to_pylist() == [expected]


def test_mixed_date_formats_in_one_column() -> None:
    parsed, bad = to_timestamp(pa.array(["2/3/2024", "02/03/24", None, "2024-02-03T00:00:00Z", "  "]))
    assert not bad.any()
    assert parsed.to_pylist() == [datetime(2024, 2, 3)] * 2 + [None, datetime(2024, 2, 3), None]


def test_booleans() -> None:
    parsed, bad = to_bool(pa.array(["TRUE", "FALSE", "true", "1", "0", None, "maybe"]))
    assert parsed.to_pylist() == [True, False, True, True, False, None, None]
    assert bad.tolist() == [False] * 6 + [True]


@settings(max_examples=60, deadline=None)
@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2068, 12, 31)))
def test_us_and_iso_round_trip(moment: datetime) -> None:
    minute = moment.replace(second=0, microsecond=0)
    us = minute.strftime("%m/%d/%y %I:%M %p")
    iso = moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    parsed, bad = to_timestamp(pa.array([us, iso]))
    assert not bad.any()
    assert parsed.to_pylist() == [minute, moment.replace(microsecond=moment.microsecond // 1000 * 1000)]


def test_parquet_input_with_typed_columns(tmp_path: Path) -> None:
    table = pa.table(
        {
            "Id": ["o1", "o2"],
            "StageName": ["Open", "Won"],
            "CloseDate": pa.array([date(2024, 3, 31), date(2024, 3, 1)], pa.date32()),
            "CreatedDate": pa.array([datetime(2024, 1, 1, 12), datetime(2024, 1, 2, 12)], pa.timestamp("ms", tz="UTC")),
            "Amount": [1000, 2500],
            "IsClosed": [False, True],
            "IsWon": [False, True],
        }
    )
    pq.write_table(table, tmp_path / "Opportunity.parquet")
    pq.write_table(
        pa.table({"OpportunityId": ["o2"], "CreatedDate": ["2024-03-01T09:00:00Z"], "StageName": ["Won"]}),
        tmp_path / "OpportunityHistory.parquet",
    )
    export = read_export(tmp_path)
    rows = export.opportunities.to_pylist()
    assert rows[1]["amount"] == 2500.0
    assert rows[0]["created_at"] == datetime(2024, 1, 1, 12)
    assert rows[0]["close_date"] == date(2024, 3, 31)
    assert export.history.column("changed_at").to_pylist() == [datetime(2024, 3, 1, 9)]
    assert export.snapshot_at == datetime(2024, 3, 1, 9)


def test_file_names_matched_case_insensitively(tmp_path: Path) -> None:
    (tmp_path / "OPPORTUNITY.CSV").write_text("id,stagename,closedate\no1,Open,2024-01-31\n", encoding="utf-8")
    with pytest.raises(InputError, match="pass snapshot_at"):
        read_export(tmp_path)  # an open deal's planned close date says nothing about when the export ran
    export = read_export(tmp_path, snapshot_at=datetime(2024, 1, 2, 3, tzinfo=timezone(timedelta(hours=1))))
    assert export.opportunities.column("close_date").to_pylist() == [date(2024, 1, 31)]
    assert export.snapshot_at == datetime(2024, 1, 2, 2)  # aware input is normalised to naive UTC
