"""Append a benchmark's table to docs/benchmarks.md with the date, the machine and the exact
command that produced it (shared by the benchmark scripts)."""

from __future__ import annotations

import datetime
import json
import os
import shlex
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def command_line() -> str:
    """The command this script was started with, relative to the repository root."""
    script = os.path.relpath(os.path.abspath(sys.argv[0]), ROOT)
    return "python " + shlex.join([script, *sys.argv[1:]])


def append_section(title: str, body: str, machine: str | None = None, note: str = "") -> None:
    """``### title, date — machine``, then `command` + ``note``, then ``body``."""
    heading = f"{title}, {datetime.date.today()}" + (f" — {machine}" if machine else "")
    with open(os.path.join(ROOT, "docs", "benchmarks.md"), "a") as fh:
        fh.write(f"\n### {heading}\n\n`{command_line()}`{note}\n\n{body}\n")


def publish(title: str, table: str, machine: str, raw: dict, json_out: str | None,
            append: bool, note: str = "") -> None:
    """Print machine + table; optionally save ``raw`` as JSON and append the section."""
    print(machine)
    print(table)
    if json_out:
        with open(json_out, "w") as fh:
            json.dump(raw, fh, indent=1)
    if append:
        append_section(title, table, machine, note)
