"""Command start benchmark: how long `liveticker` commands take as whole processes.

Each command runs as a fresh subprocess, as an operator types it: interpreter start,
imports, the work, exit. `--help` answers measure the start alone; `token create` and
`audit list` add a temporary SQLite database's schema check and one transaction. The
commands run from a temporary folder with the `liveticker` that `import liveticker` finds
there, so `--baseline` can time another checkout (put first on PYTHONPATH) in the same
session, run for run in turn with this one:

    .venv/bin/python bench/cli_start.py                              # this checkout
    .venv/bin/python bench/cli_start.py --baseline /tmp/base-cli     # and another, paired
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ENTRY_POINT = Path(sys.executable).parent / "liveticker"
# How each case is launched: `python -m liveticker` or the installed entry point.
CASES: list[tuple[str, list[str]]] = [
    ("python -m liveticker --help", [sys.executable, "-m", "liveticker", "--help"]),
    ("liveticker --help", [str(ENTRY_POINT), "--help"]),
    ("liveticker notes score --help", [str(ENTRY_POINT), "notes", "score", "--help"]),
    ("liveticker token create bench", [str(ENTRY_POINT), "token", "create", "bench"]),
    (
        "liveticker audit list --as bench",
        [str(ENTRY_POINT), "audit", "list", "--limit", "5", "--as", "bench"],
    ),
]


@dataclass(frozen=True)
class Tree:
    """One `liveticker` to time: its environment and a database of its own."""

    label: str
    env: dict[str, str]
    folder: Path

    def run(self, argv: list[str], *, stdin: str = "") -> float:
        started = time.perf_counter()
        done = subprocess.run(
            argv,
            input=stdin.encode(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=self.env,
            cwd=self.folder,  # outside any checkout: `-m` puts the working folder first
            timeout=60,
            check=False,
        )
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"{self.label}: {' '.join(argv[1:])} failed: {done.stderr.decode()}")
        return elapsed


def make_tree(label: str, *, pythonpath: str | None, folder: Path) -> Tree:
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVETICKER_")}
    env.pop("PYTHONPATH", None)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    env["LIVETICKER_DATABASE_URL"] = f"sqlite:///{folder}/bench.db"
    tree = Tree(label=label, env=env, folder=folder)
    found = subprocess.run(
        [sys.executable, "-c", "import liveticker.cli as c; print(c.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=folder,
        check=True,
    ).stdout.strip()
    print(f"{label}: {found}", file=sys.stderr)
    tree.run(
        [str(ENTRY_POINT), "user", "create", "bench", "--role", "admin", "--password-stdin"],
        stdin="bench-password-123\n",
    )
    return tree


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="counted runs of each command")
    parser.add_argument("--baseline", type=Path, help="another checkout to time alongside")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cli-start-") as scratch:
        trees = [
            make_tree("this", pythonpath=os.environ.get("PYTHONPATH"), folder=Path(scratch, "this"))
        ]
        if args.baseline:
            trees.insert(
                0,
                make_tree(
                    "baseline",
                    pythonpath=str(args.baseline.resolve()),
                    folder=Path(scratch, "baseline"),
                ),
            )
        print(f"{machine()}; {args.runs} runs of each command after one warm-up, median (min–max)")
        header = "| command | " + " | ".join(f"{t.label} s" for t in trees)
        header += " | this / baseline |" if args.baseline else " |"
        print(header)
        print("|---" * (len(trees) + 1 + bool(args.baseline)) + "|")
        for name, argv in CASES:
            for tree in trees:
                tree.run(argv)  # warm-up: the page cache and .pyc files
            times: dict[str, list[float]] = {t.label: [] for t in trees}
            for _ in range(args.runs):
                for tree in trees:  # in turn, so a drift of the machine hits both alike
                    times[tree.label].append(tree.run(argv))
            cells = [
                f"{statistics.median(v):.3f} ({min(v):.3f}–{max(v):.3f})" for v in times.values()
            ]
            if args.baseline:
                ratios = [a / b for a, b in zip(times["this"], times["baseline"], strict=True)]
                cells.append(f"{statistics.median(ratios):.2f}")
            print(f"| `{name}` | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
