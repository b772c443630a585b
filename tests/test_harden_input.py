"""Hostile exports: every one ends in a clean accept or a clean error naming file, line and column.

Strict ingest refuses; ``strict=False`` (``--quarantine``) loads the good rows and names the bad ones;
odd-but-real rows are accepted with a note naming their lines. A property test feeds generated and
mutated CSV bytes and checks that nothing ever escapes as a traceback and a refusal never changes the store.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from saleslead.cli.app import app
from saleslead.errors import InputError, SalesLeadError
from saleslead.ingest import read_export
from saleslead.seat import IngestRequest, open_seat
from saleslead.store import Store
from saleslead.store.schema import TABLES

HEAD = "Id,StageName,CloseDate,Amount,CreatedDate,IsClosed,IsWon,OwnerId,Probability,LastModifiedDate\n"
STAMP = "2024-06-01T00:00:00Z"
GOOD = (
    f"o1,Prospecting,2024-09-30,100,2024-01-01,false,false,u1,10,{STAMP}\n"
    f"o2,Closed Won,2024-03-31,250,2024-01-02,true,true,u1,100,{STAMP}\n"
    f"o3,Closed Lost,2024-04-30,90,2024-01-03,true,false,u1,0,{STAMP}\n"
)
USERS = "Id,Name\nu1,Ann\n"
HISTORY_HEAD = "OpportunityId,CreatedDate,StageName,Amount\n"
HISTORY = "o1,2024-01-01T10:00:00Z,Prospecting,100\no2,2024-01-02T10:00:00Z,Prospecting,250\n"


def bad_row(**values: str) -> str:
    row = {
        "Id": "o9",
        "StageName": "Prospecting",
        "CloseDate": "2024-09-30",
        "Amount": "100",
        "CreatedDate": "2024-01-01",
        "IsClosed": "false",
        "IsWon": "false",
        "OwnerId": "u1",
        "Probability": "10",
        "LastModifiedDate": STAMP,
    }
    row.update(values)
    return ",".join(row.values()) + "\n"


def folder(tmp: Path, opportunities: bytes | str, *, history: str = HISTORY, users: str = USERS) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    data = opportunities.encode() if isinstance(opportunities, str) else opportunities
    (tmp / "Opportunity.csv").write_bytes(data)
    (tmp / "OpportunityHistory.csv").write_text(HISTORY_HEAD + history, encoding="utf-8")
    (tmp / "User.csv").write_text(users, encoding="utf-8")
    return tmp


# (case, Opportunity.csv body, expected line, expected column, message fragment)
REFUSED: list[tuple[str, str | bytes, int, str | None, str]] = [
    ("impossible date", HEAD + GOOD + bad_row(CloseDate="2026-02-30"), 5, "CloseDate", "cannot read date '2026-02-30'"),
    ("duplicated header", HEAD.replace("Probability", "Amount") + GOOD, 1, "Amount", "names the column 'Amount' twice"),
    ("header differing in case", HEAD.replace("Probability", "amount") + GOOD, 1, "amount", "'Amount' and 'amount'"),
    ("CR-only line ends", (HEAD + GOOD).replace("\n", "\r"), 1, None, "bare CR"),
    ("NUL byte", (HEAD + GOOD * 400 + bad_row(Id="o\x009")).encode(), 1202, "Id", "NUL byte"),
    (
        "bare quote",
        HEAD + GOOD + 'o9,"Prosp"ecting",2024-09-30,100,2024-01-01,false,false,u1,10,x\n',
        5,
        "StageName",
        "bare quote",
    ),
    (
        "10 MB field",
        HEAD + GOOD + bad_row(StageName='"' + "x" * 10_000_000 + '"'),
        5,
        "StageName",
        "fields are limited",
    ),
    ("Amount inf", HEAD + GOOD + bad_row(Amount="inf"), 5, "Amount", "'inf' is not a finite number"),
    ("Amount 1e400", HEAD + GOOD + bad_row(Amount="1e400"), 5, "Amount", "'1e400' is not a finite number"),
    ("Amount NaN", HEAD + GOOD + bad_row(Amount="NaN"), 5, "Amount", "'NaN' is not a finite number"),
    ("Amount 1e20", HEAD + GOOD + bad_row(Amount="1e20"), 5, "Amount", "out of range"),
    ("CloseDate 1900-01-01", HEAD + GOOD + bad_row(CloseDate="1900-01-01"), 5, "CloseDate", "outside 1970-01-01"),
    ("CloseDate 9999-12-31", HEAD + GOOD + bad_row(CloseDate="9999-12-31"), 5, "CloseDate", "outside 1970-01-01"),
    ("CloseDate far ahead", HEAD + GOOD + bad_row(CloseDate="2150-01-01"), 5, "CloseDate", "more than 20 years"),
    (
        "CreatedDate after export",
        HEAD + GOOD + bad_row(CreatedDate="2031-01-01"),
        5,
        "CreatedDate",
        "after the export's date",
    ),
    ("IsWon on an open deal", HEAD + GOOD + bad_row(IsWon="true"), 5, "IsWon", "IsWon is true but IsClosed is false"),
    (
        "IsWon contradicting a won stage",
        HEAD
        + GOOD
        + GOOD.replace("o", "p")
        + bad_row(StageName="Closed Won", IsClosed="true", IsWon="false", Probability="100"),
        8,
        "IsWon",
        "the stage 'Closed Won' is a won stage",
    ),
    ("Probability 150", HEAD + GOOD + bad_row(Probability="150"), 5, "Probability", "'150' is out of range"),
]


@pytest.mark.parametrize(("case", "body", "line", "column", "message"), REFUSED, ids=[c[0] for c in REFUSED])
def test_strict_refuses_with_file_line_and_column(
    tmp_path: Path, case: str, body: str | bytes, line: int, column: str | None, message: str
) -> None:
    with pytest.raises(InputError) as caught:
        read_export(folder(tmp_path, body))
    error = caught.value
    assert message in error.message, case
    assert (error.file, error.line, error.column) == ("Opportunity.csv", line, column)
    assert error.hint


ROW_LEVEL = [c for c in REFUSED if c[2] > 1 and c[0] not in ("NUL byte", "bare quote", "10 MB field")]


@pytest.mark.parametrize(("case", "body", "line", "column", "message"), ROW_LEVEL, ids=[c[0] for c in ROW_LEVEL])
def test_quarantine_loads_the_rest_and_names_the_row(
    tmp_path: Path, case: str, body: str, line: int, column: str | None, message: str
) -> None:
    export = read_export(folder(tmp_path, body), strict=False)
    assert [(f, ln, c) for f, ln, c, _ in export.rejected] == [("Opportunity.csv", line, column)], case
    assert message in export.rejected[0][3]
    assert "o9" not in export.opportunities.column("opportunity_id").to_pylist()
    assert export.opportunities.num_rows >= 3


def test_history_event_after_the_export_is_refused_or_quarantined(tmp_path: Path) -> None:
    path = folder(tmp_path, HEAD + GOOD, history=HISTORY + "o1,2031-05-01T00:00:00Z,Prospecting,100\n")
    with pytest.raises(InputError, match="after the export's date") as caught:
        read_export(path)
    assert (caught.value.file, caught.value.line, caught.value.column) == ("OpportunityHistory.csv", 4, "CreatedDate")
    export = read_export(path, strict=False)
    assert export.history.num_rows == 2
    assert [r[:3] for r in export.rejected] == [("OpportunityHistory.csv", 4, "CreatedDate")]


def test_odd_but_real_rows_are_kept_with_a_note_naming_them(tmp_path: Path) -> None:
    body = HEAD + GOOD + bad_row(CloseDate="2023-12-01") + bad_row(Id="o10", OwnerId="u404")
    export = read_export(folder(tmp_path, body))
    assert export.opportunities.num_rows == 5
    notes = "\n".join(export.notes)
    assert "CloseDate before CreatedDate on 1 deal(s), lines 5" in notes
    assert "OwnerId not in the User file on 1 deal(s), lines 6 (owners u404)" in notes


def test_text_values_that_look_like_null_are_values(tmp_path: Path) -> None:
    body = HEAD + GOOD.replace("o3,Closed Lost", "NA,Closed Lost")
    export = read_export(folder(tmp_path, body))
    assert "NA" in export.opportunities.column("opportunity_id").to_pylist()


def test_cli_exit_2_with_the_error_shape_and_the_store_unchanged(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    good = folder(tmp_path / "good", HEAD + GOOD)
    with open_seat(store) as seat:
        seat.ingest(IngestRequest(path=good))
    before = content(store)
    bad = folder(tmp_path / "bad", HEAD + GOOD + bad_row(Amount="inf"))
    result = CliRunner().invoke(app, ["ingest", str(bad), "--store", str(store), "--json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert (error["file"], error["line"], error["column"]) == ("Opportunity.csv", 5, "Amount")
    assert content(store) == before
    result = CliRunner().invoke(app, ["ingest", str(bad), "--store", str(store), "--quarantine", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["rejected"][0]["line"] == 5


def content(path: Path | Store) -> str:
    """A digest of every table's rows, computed in the engine."""
    store = path if isinstance(path, Store) else Store.open(path, read_only=True)
    try:
        con = store.backend.con
        query = "SELECT count(*), sum(hash(t)::HUGEINT) FROM {} t"
        sums = [con.execute(query.format(name)).fetchone() for name in sorted(TABLES)]
        return hashlib.sha256(repr(sums).encode()).hexdigest()
    finally:
        if store is not path:
            store.close()


_CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            "inf",
            "-inf",
            "NaN",
            "1e400",
            "1e-400",
            "-1",
            "150",
            "2026-02-30",
            "1900-01-01",
            "9999-12-31",
            "2031-01-01",
            "0000-00-00",
            '"',
            '""',
            'a"b',
            "\x00",
            "\r",
            "\n",
            ",",
            ";",
            "\t",
            "=1+1",
            "true",
            "TRUE",
            "maybe",
            "12/31/24",
            "2024-13-01",
            "2024-06-01T25:00:00Z",
            "NA",
            "null",
            "\ufeff",
            "é",
        ]
    ),
    st.text(max_size=6),
)


@st.composite
def mutated_exports(draw: st.DrawFn) -> bytes:
    """A valid export with a few cells replaced, bytes cut or inserted, or rows duplicated."""
    rows = [line.split(",") for line in (HEAD + GOOD).splitlines()]
    for _ in range(draw(st.integers(1, 3))):
        row = draw(st.integers(0, len(rows) - 1))
        column = draw(st.integers(0, len(rows[0]) - 1))
        rows[row][column] = draw(_CELLS)
    text = "\n".join(",".join(row) for row in rows) + "\n"
    data = text.encode("utf-8", errors="surrogatepass")
    action = draw(st.sampled_from(["cells", "cut", "insert", "duplicate"]))
    if action == "cut":
        start = draw(st.integers(0, len(data)))
        data = data[:start] + data[start + draw(st.integers(1, 20)) :]
    elif action == "insert":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    elif action == "duplicate":
        data += data.split(b"\n", 1)[-1]
    return data


def test_every_mutated_export_is_accepted_or_refused_cleanly(tmp_path: Path) -> None:
    store_path = tmp_path / "s.duckdb"
    export = tmp_path / "x"
    with open_seat(store_path) as seat:
        seat.ingest(IngestRequest(path=folder(tmp_path / "base", HEAD + GOOD)))

        @settings(max_examples=60, deadline=None, database=None)
        @given(data=mutated_exports())
        def one(data: bytes) -> None:
            folder(export, data)
            before = content(seat.store)
            for strict in (True, False):
                try:
                    seat.ingest(IngestRequest(path=export, strict=strict))
                except SalesLeadError as error:
                    refused: SalesLeadError | None = error
                else:
                    refused = None
                if refused is not None:
                    assert refused.message
                    assert content(seat.store) == before
                before = content(seat.store)

        one()
