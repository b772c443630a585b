"""Bad input: every error names file, line (header = 1) and column; non-strict mode quarantines rows."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from saleslead.errors import InputError, SchemaError
from saleslead.ingest import read_export

HEAD = "Id,StageName,CloseDate,Amount,CreatedDate\n"
GOOD = "o1,Open,2024-03-31,100,2024-01-01\n"


def opp(folder: Path, body: str, header: str = HEAD, name: str = "Opportunity.csv") -> Path:
    (folder / name).write_text(header + body, encoding="utf-8")
    return folder


def expect(folder: Path, file: str, line: int | None, column: str | None, match: str) -> InputError:
    with pytest.raises(InputError, match=match) as caught:
        read_export(folder)
    error = caught.value
    assert (error.file, error.line, error.column) == (file, line, column)
    assert error.hint
    return error


def test_missing_required_column(tmp_path: Path) -> None:
    opp(tmp_path, "o1,Open,100\n", header="Id,StageName,Amount\n")
    error = expect(tmp_path, "Opportunity.csv", 1, "CloseDate", "missing required column")
    assert isinstance(error, SchemaError)
    assert "StageName" in (error.hint or "")


def test_unparseable_date_after_quoted_newline(tmp_path: Path) -> None:
    header = "Id,StageName,Description,CloseDate\n"
    body = 'o1,Open,"two\nlines",2024-03-31\no2,Open,x,31.03.2024\n'
    opp(tmp_path, body, header=header)
    error = expect(tmp_path, "Opportunity.csv", 4, "CloseDate", "cannot read date '31.03.2024'")
    assert "02/03/24" in (error.hint or "")


def test_unparseable_amount(tmp_path: Path) -> None:
    opp(tmp_path, GOOD + 'o2,Open,2024-03-31,"1,500",2024-01-01\n')
    expect(tmp_path, "Opportunity.csv", 3, "Amount", "cannot read number '1,500'")


def test_negative_amount(tmp_path: Path) -> None:
    opp(tmp_path, GOOD + GOOD.replace("o1", "o2") + "o3,Open,2024-03-31,-5,2024-01-01\n")
    expect(tmp_path, "Opportunity.csv", 4, "Amount", "negative Amount")


def test_duplicate_ids(tmp_path: Path) -> None:
    opp(tmp_path, GOOD + "o2,Open,2024-03-31,1,2024-01-01\n" + GOOD)
    expect(tmp_path, "Opportunity.csv", 4, "Id", "duplicate Id 'o1'")


def test_blank_required_value(tmp_path: Path) -> None:
    opp(tmp_path, GOOD + "o2,,2024-03-31,1,2024-01-01\n")
    expect(tmp_path, "Opportunity.csv", 3, "StageName", "StageName is blank")


def test_history_for_unknown_opportunity(tmp_path: Path) -> None:
    opp(tmp_path, GOOD)
    (tmp_path / "OpportunityHistory.csv").write_text(
        "OpportunityId,CreatedDate,StageName\no1,2024-01-01,Open\nzz,2024-01-02,Open\n", encoding="utf-8"
    )
    expect(tmp_path, "OpportunityHistory.csv", 3, "OpportunityId", "unknown opportunity 'zz'")


def test_ragged_row(tmp_path: Path) -> None:
    opp(tmp_path, GOOD + "o2,Open,2024-03-31,1,2024-01-01,extra\n")
    expect(tmp_path, "Opportunity.csv", 3, None, "row has 6 fields")


@pytest.mark.parametrize(
    ("content", "line", "match"),
    [
        (b"", 1, "empty"),
        (HEAD.encode(), 2, "no data rows"),
        (HEAD.encode("utf-16"), 1, "UTF-16"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 3, "binary"),  # the line of the first NUL byte
    ],
)
def test_file_level_problems(tmp_path: Path, content: bytes, line: int, match: str) -> None:
    (tmp_path / "Opportunity.csv").write_bytes(content)
    error = expect(tmp_path, "Opportunity.csv", line, None, match)
    if match == "UTF-16":
        assert "UTF-8" in (error.hint or "")


def test_latin1_bytes(tmp_path: Path) -> None:
    (tmp_path / "Opportunity.csv").write_bytes(
        (HEAD + GOOD + "o2,Négociation,2024-03-31,1,2024-01-01\n").encode("latin-1")
    )
    error = expect(tmp_path, "Opportunity.csv", 3, "StageName", "not valid UTF-8")
    assert "UTF-8" in (error.hint or "")


def test_zip_and_parquet_named_csv(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "Opportunity.csv", "w") as archive:
        archive.writestr("Opportunity.csv", HEAD + GOOD)
    expect(tmp_path, "Opportunity.csv", 1, None, "zip archive")
    (tmp_path / "Opportunity.csv").unlink()
    pq.write_table(pa.table({"Id": ["o1"]}), tmp_path / "Opportunity.csv")
    expect(tmp_path, "Opportunity.csv", 1, None, "Parquet file")


def test_no_opportunity_file(tmp_path: Path) -> None:
    (tmp_path / "Account.csv").write_text("Id\na1\n", encoding="utf-8")
    with pytest.raises(InputError, match="no Opportunity file"):
        read_export(tmp_path)


def test_non_strict_quarantines_and_loads_the_rest(tmp_path: Path) -> None:
    opp(
        tmp_path,
        GOOD
        + "o2,Open,not a date,1,2024-01-01\n"
        + "o3,Open,2024-03-31,-1,2024-01-01\n"
        + GOOD
        + "o4,Won,2024-02-01,5,2024-01-01,ragged\n"
        + "o5,Won,2024-02-01,5,2024-01-01\n",
    )
    (tmp_path / "OpportunityHistory.csv").write_text(
        "OpportunityId,CreatedDate,StageName\no1,2024-01-01,Open\nzz,2024-01-02,Open\n", encoding="utf-8"
    )
    (tmp_path / "Account.csv").write_text("Id,Name\n", encoding="utf-8")
    export = read_export(tmp_path, strict=False)
    # An optional object with a header and no rows has nothing to say: noted, not rejected.
    assert export.accounts.num_rows == 0
    assert "Account.csv: a header and no rows" in export.notes
    assert export.opportunities.column("opportunity_id").to_pylist() == ["o1", "o5"]
    assert export.history.num_rows == 1
    where = sorted((file, line, column) for file, line, column, _ in export.rejected)
    assert where == [
        ("Opportunity.csv", 3, "CloseDate"),
        ("Opportunity.csv", 4, "Amount"),
        ("Opportunity.csv", 5, "Id"),
        ("Opportunity.csv", 6, None),
        ("OpportunityHistory.csv", 3, "OpportunityId"),
    ]
    reasons = {line: reason for _, line, _, reason in export.rejected if line is not None}
    assert "never loaded" in reasons[3] or "cannot read date" in reasons[3]
    assert "Account.csv" in export.files
