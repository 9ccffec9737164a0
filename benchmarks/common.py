"""Shared by the benchmark scripts: print a result with the machine and the exact command that
produced it. Nothing is written anywhere unless the user names a JSON file (``--json FILE``);
the printed markdown section can be pasted into the documentation by hand.

The scripts import it as ``from common import ...``: ``python benchmarks/X.py`` puts
benchmarks/ on ``sys.path``.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shlex
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def command_line() -> str:
    """The command this script was started with, relative to the repository root."""
    script = os.path.relpath(os.path.abspath(sys.argv[0]), ROOT)
    return "python " + shlex.join([script, *sys.argv[1:]])


def machine_description() -> str:
    """CPU, cores, RAM, GPU and torch version of this machine, one line
    (``sasview_saxsim_plugin.fft.bench.machine_description``; without the package or torch:
    CPU and cores only)."""
    try:
        from sasview_saxsim_plugin.fft.bench import machine_description as describe
        return describe()
    except ImportError:
        return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"


def header(title: str, machine: str, note: str = "") -> str:
    """``### title, date — machine``, then the exact command (+ ``note``), as markdown."""
    return (f"### {title}, {datetime.date.today()} — {machine}\n\n"
            f"`{command_line()}`{note}\n")


def save_json(raw, json_out: str | None) -> None:
    """Write ``raw`` as JSON to ``json_out``; nothing when ``json_out`` is None or empty."""
    if not json_out:
        return
    with open(json_out, "w") as fh:
        json.dump(raw, fh, indent=1, default=float)
    print(f"wrote {json_out}", file=sys.stderr)


def publish(title: str, table: str, machine: str, raw=None, json_out: str | None = None,
            note: str = "") -> None:
    """Print the title, the machine, the exact command (+ ``note``) and the table (markdown,
    on stdout); write ``raw`` as JSON to ``json_out`` only when the user gave one (``raw``
    None: the printed section's parts)."""
    print(header(title, machine, note))
    print(table)
    if raw is None:
        raw = {"title": title, "machine": machine, "command": command_line(), "table": table}
    save_json(raw, json_out)


def fresh_process_json(code: str, *args, env: dict | None = None) -> dict:
    """Run Python ``code`` with ``args`` in a new interpreter (as a new SasView session
    would start) and return the JSON object it prints last."""
    import subprocess
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], env=env, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])
