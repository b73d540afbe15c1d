"""Reference docs generated from the code itself, so they cannot drift from it.

`python -m liveticker.docs` rewrites docs/cli.md (from every command's --help) and the
configuration table in README.md (from the Settings fields); tests check both are current.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from liveticker.cli import main
from liveticker.settings import documented_settings

ROOT = Path(__file__).resolve().parent.parent
CONFIG_START = "<!-- settings:start -->"
CONFIG_END = "<!-- settings:end -->"


def cli_reference() -> str:
    lines = [
        "# Command-line reference",
        "",
        "Generated from `--help` by `python -m liveticker.docs`; do not edit by hand.",
        "",
    ]

    def walk(command: click.Command, path: list[str]) -> None:
        context = click.Context(
            command,
            info_name=" ".join(path),
            terminal_width=100,
            max_content_width=100,
            help_option_names=["-h", "--help"],  # as `main` declares them
        )
        lines.extend(
            [f"## `{' '.join(path)}`", "", "```text", command.get_help(context), "```", ""]
        )
        if isinstance(command, click.Group):
            for name in sorted(command.list_commands(context)):
                sub = command.get_command(context, name)
                if sub is not None:
                    walk(sub, [*path, name])

    walk(main, ["liveticker"])
    return "\n".join(lines)


def settings_table() -> str:
    rows = ["| Variable | Default | What it does |", "| --- | --- | --- |"]
    for variable, default, description in documented_settings():
        rows.append(
            f"| `{variable}` | `{default}` | {description} |"
            if default
            else f"| `{variable}` | (empty) | {description} |"
        )
    return "\n".join(rows)


def with_settings_table(readme: str) -> str:
    pattern = re.compile(re.escape(CONFIG_START) + ".*?" + re.escape(CONFIG_END), re.DOTALL)
    return pattern.sub(f"{CONFIG_START}\n{settings_table()}\n{CONFIG_END}", readme)


def write_all() -> None:
    (ROOT / "docs" / "cli.md").write_text(cli_reference(), encoding="utf-8")
    readme = ROOT / "README.md"
    readme.write_text(with_settings_table(readme.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    write_all()
    sys.exit(0)
