"""Benchmark of the community-notes scoring engine on synthetic populations.

Usage: python bench/score.py [--sizes 100000,1000000,10000000] [--no-docs]

Each size runs in a fresh subprocess (so peak RSS is that size's own), generates its
population in memory with liveticker.scoring.synth (raters ≈ ratings/20, notes ≈
ratings/50, two brigades), times the whole pipeline, and rewrites the section
"## Scoring engine (bench/score.py)" of docs/benchmarks.md. Not a timed test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.docs_section import machine, replace_section  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
HEADING = "Scoring engine (bench/score.py)"
NOW = 1_768_000_000_000
STATUSES = ("CURRENTLY_RATED_HELPFUL", "CURRENTLY_RATED_NOT_HELPFUL", "NEEDS_MORE_RATINGS")


def run_one(n_ratings: int, with_tsv: bool) -> dict[str, object]:
    """Generate, score and measure one population (runs inside the child process)."""
    from liveticker.scoring.pipeline import score
    from liveticker.scoring.synth import PopulationSpec, generate

    start = time.perf_counter()
    population = generate(PopulationSpec(n_ratings=n_ratings, brigades=2, seed=1))
    generated = time.perf_counter() - start
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    import numpy as np

    raters = int(np.count_nonzero(np.bincount(population.data.ratings.rater)))
    start = time.perf_counter()
    result = score(population.data, now_millis=NOW, seed=0)
    wall = time.perf_counter() - start
    row: dict[str, object] = {
        "ratings": len(population.data.ratings),
        "raters": raters,
        "notes": len(population.data.notes),
        "generate_s": round(generated, 2),
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rss_after_generation_mb": round(rss_before),
        "core": result.notes["coreRatingStatus"].value_counts().to_dict(),
        "stages": {name: round(seconds, 2) for name, seconds in result.timings.items()},
        "iterations": [
            result.summary["first_fit_iterations"],
            result.summary["second_fit_iterations"],
        ],
    }
    if with_tsv:
        row["tsv_read_s"] = round(_tsv_read_seconds(population), 2)
    return row


def _tsv_read_seconds(population: object) -> float:
    from liveticker.scoring import tsv
    from liveticker.scoring.synth import to_frames
    from liveticker.scoring.tables import input_from_frames

    frames = to_frames(population)  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory() as folder:
        for name in ("notes", "ratings"):
            tsv.write_tsv(frames[name], Path(folder) / f"{name}.tsv")
        start = time.perf_counter()
        notes = tsv.read_notes(Path(folder) / "notes.tsv")
        ratings = tsv.read_ratings(Path(folder) / "ratings.tsv")
        input_from_frames(notes=notes, ratings=ratings)
        return time.perf_counter() - start


def table(rows: list[dict[str, object]]) -> str:
    lines = [
        "| ratings | raters | notes | wall s | peak RSS MB | Helpful | Not Helpful | Needs more |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        core = row["core"]
        assert isinstance(core, dict)
        counts = " | ".join(f"{core.get(status, 0):,}" for status in STATUSES)
        lines.append(
            f"| {row['ratings']:,} | {row['raters']:,} | {row['notes']:,} | {row['wall_s']} "
            f"| {row['peak_rss_mb']:,} | {counts} |"
        )
    return "\n".join(lines)


def write_section(rows: list[dict[str, object]], command: str) -> None:
    stages = "\n".join(
        f"- {row['ratings']:,} ratings: "
        + ", ".join(f"{name} {seconds} s" for name, seconds in row["stages"].items())  # type: ignore[attr-defined]
        + f"; solver sweeps {row['iterations']}"
        + (f"; reading the TSV files took {row['tsv_read_s']} s" if "tsv_read_s" in row else "")
        for row in rows
    )
    import numpy

    body = (
        "Times the whole scoring pipeline (post-selection similarity, both fits, "
        "pseudo-raters, correlated and high-volume checks, rules, result frames) on "
        "synthetic populations generated in memory (raters ≈ ratings/20, notes ≈ "
        "ratings/50, two 30-account brigades). Status counts are core statuses; a first "
        "run shows no note as Helpful yet because of stabilization. Peak RSS is the "
        "process's, generated data included, each size in a fresh process.\n\n"
        f"- Date: {dt.date.today().isoformat()}\n"
        f"- Machine: {machine('numpy ' + numpy.__version__)}\n"
        f"- Command: `{command}`\n\n"
        f"{table(rows)}\n\n"
        f"Stages:\n\n{stages}\n"
    )
    replace_section(DOC, HEADING, body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    parser.add_argument("--no-docs", action="store_true", help="print only")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--tsv", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.tsv)))
        return
    rows = []
    for size in (int(part) for part in args.sizes.split(",")):
        child = [sys.executable, __file__, "--one", str(size)]
        if size == 1_000_000:
            child.append("--tsv")
        done = subprocess.run(child, check=True, capture_output=True, text=True, cwd=ROOT)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(table(rows[-1:]).splitlines()[-1], flush=True)
    print(table(rows))
    if not args.no_docs:
        command = "python bench/score.py" + (
            f" --sizes {args.sizes}" if args.sizes != "100000,1000000,10000000" else ""
        )
        write_section(rows, command)
        print(f"updated {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
