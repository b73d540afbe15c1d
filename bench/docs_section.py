"""Rewrite one `## ` section of docs/benchmarks.md, leaving the others as they are."""

from __future__ import annotations

from pathlib import Path


def replace_section(path: Path, heading: str, body: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    marker = f"## {heading}"
    block = f"{marker}\n\n{body.strip()}\n"
    if marker in text:
        start = text.index(marker)
        end = text.find("\n## ", start + len(marker))
        text = text[:start] + block + ("" if end == -1 else "\n" + text[end + 1 :])
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text, encoding="utf-8")
