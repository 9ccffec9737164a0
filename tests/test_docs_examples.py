"""Every command and Python example of the README and the docs runs as written, with grids
shrunk so the suite stays short (``shrink``); GUI and training commands are only parsed."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
PAGES = [p for p in PAGES if "_build" not in p.parts and "```" in p.read_text()]
#: grid points per axis the examples run with here
SMALL_N = 64
#: parsed only: they start SasView or train for an hour
PARSE_ONLY = {"gui", "train", "make-training-set"}


def blocks(page: Path) -> list[tuple[str, str]]:
    """(language, text) of the fenced code blocks of a markdown page, in order."""
    return re.findall(r"^```(bash|python)\n(.*?)^```", page.read_text(), flags=re.M | re.S)


def commands(text: str) -> list[str]:
    """Shell commands of a bash block (comments dropped, continuations joined, && split)."""
    joined = re.sub(r"\\\n\s*", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.split(" #")[0].strip() if not line.lstrip().startswith("#") else ""
        out += [part.strip() for part in line.split("&&") if part.strip()]
    return out


def shrink(command: str) -> str:
    """The command with an n³ grid above SMALL_N³ made SMALL_N³, the physical box kept in
    proportion (--box scaled down, or --spacing scaled up for a crystallite), benchmark
    sizes cut."""
    words = shlex.split(command, posix=False)

    def value(flag):
        return float(words[words.index(flag) + 1]) if flag in words else None

    n = value("--n")
    if n is not None and n > SMALL_N:
        factor = SMALL_N / n
        words[words.index("--n") + 1] = str(SMALL_N)
        if "--box" in words:
            words[words.index("--box") + 1] = f"{value('--box') * factor:g}"
        elif "--ensemble" in words:               # the default box edge
            from sasview_saxsim_plugin.cli.commands import ENSEMBLE_DEFAULTS
            words += ["--box", f"{ENSEMBLE_DEFAULTS['box'] * factor:g}"]
        elif "--spacing" in words:
            words[words.index("--spacing") + 1] = f"{value('--spacing') / factor:g}"
    if "--sizes" in words:
        i = words.index("--sizes") + 1
        while i < len(words) and words[i].isdigit():
            words.pop(i)
        words.insert(words.index("--sizes") + 1, "32")
    return " ".join(words)


def test_shrink_keeps_the_box_in_proportion():
    assert shrink("saxsim simulate --box 4096 --n 2048 -o x.h5") == \
        "saxsim simulate --box 128 --n 64 -o x.h5"
    assert shrink("saxsim simulate --crystal c.cif --n 192 --spacing 0.5") == \
        "saxsim simulate --crystal c.cif --n 64 --spacing 1.5"
    assert shrink("saxsim bench --sizes 256 512 --json") == "saxsim bench --sizes 32 --json"


def _check_benchmark_flags(page: Path, command: str) -> None:
    """A benchmark command of the docs names a script that exists and only flags its
    ``--help`` lists (running them is what the Validation page is for: minutes to hours)."""
    words = shlex.split(command)
    script = ROOT / words[1]
    assert script.exists(), f"{page.name}: {words[1]} does not exist"
    sub = [w for w in words[2:3] if not w.startswith("-")]       # a subcommand (local/dask)
    p = subprocess.run([sys.executable, str(script), *sub, "--help"], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, f"{page.name}: {command}\n{p.stderr[-2000:]}"
    for flag in (w for w in words[2:] if w.startswith("--")):
        assert flag in p.stdout, f"{page.name}: {words[1]} has no option {flag}"


def _parse_only(command: str) -> bool:
    words = shlex.split(command)
    return words[0] == "sasview-saxsim" or (words[0] == "saxsim" and words[1] in PARSE_ONLY)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_examples_run_as_written(page, tmp_path):
    from sasview_saxsim_plugin.cli import build_parser

    env = dict(os.environ, HOME=str(tmp_path / "home"), SAXSIM_CACHE=str(tmp_path / "cache"),
               XDG_DATA_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "cfg"),
               MPLBACKEND="Agg", QT_QPA_PLATFORM="offscreen")
    python_code = []
    for language, text in blocks(page):
        if language == "python":
            python_code.append(text)
            continue
        for command in commands(text):
            if command.startswith(("pip ", "python -m pytest", "python -m sphinx")):
                continue                          # what CI itself runs
            if command.startswith("python benchmarks/"):
                _check_benchmark_flags(page, command)   # the figures' commands: hours each
                continue
            if command.split()[0] not in ("saxsim", "sasview-saxsim"):
                pytest.fail(f"{page.name}: unknown command in an example: {command}")
            if _parse_only(command):
                if command.split()[1:2] != ["gui"] and command.split()[0] == "saxsim":
                    build_parser().parse_args(shlex.split(command)[1:])
                continue
            p = subprocess.run(["bash", "-c", shrink(command)], cwd=tmp_path, env=env,
                               capture_output=True, text=True, timeout=600)
            assert p.returncode == 0, f"{page.name}: {command}\n{p.stderr[-3000:]}"
    if python_code:
        script = tmp_path / "examples.py"
        script.write_text("\n".join(python_code))
        p = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, f"{page.name} python examples:\n{p.stderr[-3000:]}"
