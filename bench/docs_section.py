"""What the benchmarks share: the machine they ran on, and rewriting one `## ` section of
docs/benchmarks.md while leaving the others as they are."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def machine(*extras: str) -> str:
    """Cores, CPU model, memory and Python, plus what a benchmark adds (library versions)."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    parts = [
        f"{os.cpu_count()} cores ({model})",
        f"{memory:.0f} GiB",
        f"Python {platform.python_version()}",
    ]
    return ", ".join([*parts, *extras])


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
