"""``saleslead --help`` lists the commands without importing them; the list is the commands' own."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import cast

import typer

from saleslead.cli.app import COMMANDS, MODULES, LazyGroup, app


def test_the_listed_commands_are_the_modules_own() -> None:
    root = cast("LazyGroup", typer.main.get_command(app))
    real = root.commands  # loads every module
    assert list(real) == list(COMMANDS)
    for name, command in real.items():
        module, summary = COMMANDS[name]
        assert command.callback is None or command.callback.__module__ == f"saleslead.cli.{module}" or module, name
        assert (command.help or "").strip().splitlines()[0] == summary, f"update COMMANDS[{name!r}]"
    assert {m for m, _ in COMMANDS.values()} == set(MODULES)


def test_help_imports_no_command_module() -> None:
    code = (
        "import sys\nfrom saleslead.cli.app import main\nsys.argv=['saleslead','--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('saleslead.cli.', 'saleslead.seat', 'ibis'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "ingest" in out
    assert out.strip().splitlines()[-1] == "['saleslead.cli.app']"


def test_a_command_imports_its_own_module_alone() -> None:
    code = (
        "import sys\nfrom saleslead.cli.app import main\nsys.argv=['saleslead','forecast','--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('saleslead.cli.', 'saleslead.seat', 'ibis'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "--by" in out
    assert out.strip().splitlines()[-1] == str(
        [
            "saleslead.cli.app",
            "saleslead.cli.common",
            "saleslead.cli.forecast",
            "saleslead.cli.meeting",
            "saleslead.cli.output",
        ]
    )


def test_a_stored_reads_modules_import_no_engine() -> None:
    """What a warm read from the CLI or MCP imports before it finds its answer: no Arrow, NumPy, Ibis or seat
    (the settings included: the ingest's settings load without the export's engine)."""
    code = (
        "import sys\nimport saleslead.stored, saleslead.cli.forecast, saleslead.cli.targets\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith(('numpy', 'pyarrow', 'pandas', 'ibis'))}"
        " | {m for m in sys.modules if m.startswith(('saleslead.seat', 'saleslead.ingest.canonical'))}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_stalls_table_prints_its_risks_without_an_engine() -> None:
    """A stored stalls answer is printed with each risk in a few words, and printing it loads no engine."""
    code = (
        "import sys\nfrom datetime import date\n"
        "from saleslead.cli.meeting import print_stalls\n"
        "from saleslead.evidence import Evidence\n"
        "from saleslead.forecast.schemas import RiskSignal, StallItem, StallsResult\n"
        "risks=[RiskSignal(kind='quiet', text='no touch', value=41, threshold=14),"
        " RiskSignal(kind='pushed', text='pushed', value=1, beyond_norm=False)]\n"
        "item=StallItem(opportunity_id='006A', name='Acme renewal', owner_id='005B', segment='Mid', stage='Proposal',"
        " amount=12000.0, days_in_stage=50, stage_p90_days=30.0, pushes=1, days_since_activity=41,"
        " quiet_span_days=14.0, reasons=['quiet'], owner_name='Maya Smith', risks=risks)\n"
        "print_stalls(StallsResult(as_of=date(2026, 12, 3), items=[item],"
        " evidence=Evidence(method='m', sample_size=1, thin=True)), '')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith(('numpy', 'pyarrow', 'pandas', 'ibis'))}"
        " | {m for m in sys.modules if m.startswith(('saleslead.seat', 'saleslead.forecast.risk'))}))"
    )
    env = {**os.environ, "COLUMNS": "200"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    words = " ".join(out.split())  # the why column is the last: a wrapped cell reads on as words
    assert "quiet 41d (norm 14); pushed 1× (normal)" in words
    assert "Maya Smith" in words
    assert out.strip().splitlines()[-1] == "[]"
