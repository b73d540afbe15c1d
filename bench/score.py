"""Benchmark of the community-notes scoring engine on synthetic populations.

Usage: python bench/score.py [--sizes 100000,1000000,10000000] [--no-docs]
       python bench/score.py --end-to-end [--sizes 1000000,10000000] [--gzip] [--repeat 3]
                             [--baseline-tree DIR]

Each size runs in a fresh subprocess (so peak RSS is that size's own), generates its
population in memory with liveticker.scoring.synth (raters ≈ ratings/20, notes ≈
ratings/50, two brigades), times the whole pipeline, and rewrites the section
"## Scoring engine (bench/score.py)" of docs/benchmarks.md. Not a timed test.

--end-to-end writes the population as X's files, every column, ratings split into
ratings-00000.tsv… (one file per million ratings, optionally gzipped) plus notes.tsv and
userEnrollment.tsv, then times the command a user runs, `python -m liveticker notes score
… --timings`, as a subprocess (start-up and imports included): wall time, peak RSS, and
the split between reading, scoring and writing. --baseline-tree runs another checkout's
code the same way (PYTHONPATH, from a folder outside any checkout), for a before/after.
Its results go to the subsection "### End to end" of the scoring section. 100M is opt-in:
--sizes 100000000.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
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
BIG_SIZE = 20_000_000  # end to end: sizes above this run once, whatever --repeat says
END_TO_END = "### End to end from X's TSV files (--end-to-end)"
RATINGS_PER_FILE = 1_000_000


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
    kept = _subsection(DOC.read_text(encoding="utf-8"))
    replace_section(DOC, HEADING, body + ("\n" + kept if kept else ""))


def _subsection(text: str) -> str:
    """The end-to-end subsection of the scoring section, if the document has one."""
    start = text.find(END_TO_END)
    if start == -1:
        return ""
    end = text.find("\n## ", start)
    return text[start : None if end == -1 else end].strip() + "\n"


def write_end_to_end(body: str) -> None:
    """Replace (or add) the end-to-end subsection, leaving the rest of the section."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"## {HEADING}")
    end = text.find("\n## ", start + 3)
    section = text[start : None if end == -1 else end].rstrip("\n")
    old = _subsection(section)
    block = f"{END_TO_END}\n\n{body.strip()}\n"
    section = section.replace(old.strip(), block.strip()) if old else f"{section}\n\n{block}"
    DOC.write_text(
        text[:start] + section.rstrip("\n") + "\n" + ("" if end == -1 else text[end:]),
        encoding="utf-8",
    )


def write_x_files(n_ratings: int, folder: Path, *, gzipped: bool) -> dict[str, int]:
    """A synthetic population as X's public files, every column (runs in a child)."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    from liveticker.scoring.synth import PopulationSpec, generate, ratings_frame, to_frames

    population = generate(PopulationSpec(n_ratings=n_ratings, brigades=2, seed=1))
    n_ratings_written = len(population.data.ratings)
    # Ratings are turned into X's frame one file at a time: a frame of 100M ratings with
    # every column would not fit beside the population.
    frames = to_frames(population, with_ratings=False)
    ratings_folder = folder / "ratings"
    ratings_folder.mkdir(parents=True, exist_ok=True)
    suffix = ".tsv.gz" if gzipped else ".tsv"

    def write(frame: object, path: Path) -> None:
        import pandas as pd

        assert isinstance(frame, pd.DataFrame)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        sink = (
            pa.CompressedOutputStream(str(path), "gzip") if gzipped else pa.OSFile(str(path), "wb")
        )
        with sink:
            sink.write(("\t".join(frame.columns) + "\n").encode())
            options = pa_csv.WriteOptions(
                include_header=False, delimiter="\t", quoting_style="none"
            )
            pa_csv.write_csv(table, sink, options)

    n_files = max(2, -(-n_ratings_written // RATINGS_PER_FILE))
    bounds = [n_ratings_written * part // n_files for part in range(n_files + 1)]
    for part in range(n_files):
        write(
            ratings_frame(population, bounds[part], bounds[part + 1]),
            ratings_folder / f"ratings-{part:05d}{suffix}",
        )
    write(frames["notes"], folder / f"notes{suffix}")
    write(frames["userEnrollment"], folder / f"userEnrollment{suffix}")
    return {"ratings": n_ratings_written, "notes": len(frames["notes"]), "files": n_files}


def measure(command: list[str], env: dict[str, str], cwd: Path) -> dict[str, object]:
    """Run one command as this process's only child: wall time, peak RSS, its output."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd)
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"wall_s": wall, "peak_rss_mb": peak, "stdout": done.stdout}


def split_timings(stdout: str) -> dict[str, float]:
    """read / score / write seconds from `notes score --timings` (empty without it)."""
    split = {"read": 0.0, "score": 0.0, "write": 0.0}
    if "timings:" not in stdout:
        return {}
    for line in stdout.split("timings:", 1)[1].splitlines():
        name, _, figures = line.strip().partition(": ")  # "stage: 1.23 s, peak 456 MB"
        if not figures or name == "total":
            continue
        kind = (
            "read" if name.startswith("read") else "write" if name.startswith("write") else "score"
        )
        split[kind] += float(figures.split(" s")[0])
    return split


def end_to_end_one(size: int, args: argparse.Namespace, tree: Path | None) -> dict[str, object]:
    """Median of --repeat runs of the command on one size's files (written once, cached)."""
    import statistics

    folder = Path(args.data) / f"{size}{'-gz' if args.gzip else ''}"
    info_file = folder / "info.json"
    if not info_file.exists():
        writer = [sys.executable, __file__, "--write-x-files", str(size), "--data", str(folder)]
        if args.gzip:
            writer.append("--gzip")
        subprocess.run(writer, check=True, cwd=ROOT)
    info = json.loads(info_file.read_text())
    suffix = ".tsv.gz" if args.gzip else ".tsv"
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["PYTHONPATH"] = str(tree or ROOT)
    runs = []
    runs_wanted = args.baseline_repeat or args.repeat if tree else args.repeat
    if size > BIG_SIZE:
        runs_wanted = 1  # a 100M run takes minutes: once
    for _ in range(runs_wanted):
        with tempfile.TemporaryDirectory() as work:  # outside any checkout
            command = [
                sys.executable, "-m", "liveticker", "notes", "score",
                "--notes", str(folder / f"notes{suffix}"),
                "--ratings", str(folder / "ratings"),
                "--enrollment", str(folder / f"userEnrollment{suffix}"),
                "--out", str(Path(work) / "out"), "--now", str(NOW),
            ]  # fmt: skip
            if tree is None:
                command.append("--timings")
            child = [sys.executable, __file__, "--measure", json.dumps(command)]
            done = subprocess.run(
                child, check=True, capture_output=True, text=True, env=env, cwd=work
            )
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    splits = [split_timings(str(run["stdout"])) for run in runs]
    row: dict[str, object] = {
        "code": "before" if tree else "now",
        "ratings": info["ratings"],
        "notes": info["notes"],
        "files": info["files"],
        "wall_s": round(statistics.median(float(run["wall_s"]) for run in runs), 1),
        "peak_rss_mb": round(statistics.median(float(run["peak_rss_mb"]) for run in runs)),
        "runs": len(runs),
    }
    if all(splits):
        for kind in ("read", "score", "write"):
            row[f"{kind}_s"] = round(statistics.median(split[kind] for split in splits), 1)
    return row


def end_to_end_table(rows: list[dict[str, object]]) -> str:
    lines = [
        "| code | ratings | files | wall s | read s | score s | write s | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        parts = [str(row.get(f"{kind}_s", "–")) for kind in ("read", "score", "write")]
        lines.append(
            f"| {row['code']} | {row['ratings']:,} | {row['files']} | {row['wall_s']} | "
            + " | ".join(parts)
            + f" | {row['peak_rss_mb']:,} |"
        )
    return "\n".join(lines)


def end_to_end(args: argparse.Namespace) -> None:
    rows = []
    trees = [None] + ([Path(args.baseline_tree)] if args.baseline_tree else [])
    for size in (int(part) for part in args.sizes.split(",")):
        for tree in trees:
            if tree is not None and size > args.baseline_max_size:
                continue  # the baseline's memory or time would not fit (see the table)
            rows.append(end_to_end_one(size, args, tree))
            print(end_to_end_table(rows[-1:]).splitlines()[-1], flush=True)
    print(end_to_end_table(rows))
    if args.no_docs:
        return
    import numpy
    import pyarrow

    command = f"python bench/score.py --end-to-end --sizes {args.sizes} --repeat {args.repeat}"
    command += " --gzip" if args.gzip else ""
    if args.baseline_tree:
        command += " --baseline-tree DIR"
        command += f" --baseline-repeat {args.baseline_repeat}" if args.baseline_repeat else ""
        if args.baseline_max_size < max(int(part) for part in args.sizes.split(",")):
            command += f" --baseline-max-size {args.baseline_max_size}"
    body = (
        "The command a user runs on X's files, timed as a subprocess: start-up and imports, "
        "reading notes, ratings (split into files of a million, every one of X's 35 "
        "columns) and userEnrollment, scoring, writing the three result files. Median of "
        f"{args.repeat} runs (baseline: {args.baseline_repeat or args.repeat}; above "
        f"{BIG_SIZE:,} ratings one run); peak RSS of "
        "the command's process. read / score / write come "
        "from its `--timings` (prepare input counts as scoring; the rest of the wall time "
        'is start-up). "before" is the code this change started from (HEAD checked out '
        "into a worktree, run with PYTHONPATH from a folder outside any checkout), which has "
        "no --timings; it runs in the same virtualenv, where pandas 3 now finds pyarrow "
        "and stores its text columns there, so it reads faster than it did without it.\n\n"
        f"- Date: {dt.date.today().isoformat()}\n"
        f"- Machine: {machine('numpy ' + numpy.__version__, 'pyarrow ' + pyarrow.__version__)}\n"
        f"- Command: `{command}`\n\n"
        f"{end_to_end_table(rows)}\n"
    )
    write_end_to_end(body)
    print(f"updated {DOC.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    parser.add_argument("--no-docs", action="store_true", help="print only")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--tsv", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--end-to-end", action="store_true", help="time `notes score` on files")
    parser.add_argument("--gzip", action="store_true", help="end to end: .tsv.gz files")
    parser.add_argument("--repeat", type=int, default=3, help="end to end: runs per size")
    parser.add_argument("--data", default=str(Path(tempfile.gettempdir()) / "liveticker-score"))
    parser.add_argument("--baseline-tree", help="end to end: also time this checkout's code")
    parser.add_argument("--baseline-repeat", type=int, help="runs of the baseline [--repeat]")
    parser.add_argument(
        "--baseline-max-size",
        type=int,
        default=10**12,
        help="end to end: time the baseline only up to this many ratings",
    )
    parser.add_argument("--write-x-files", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        result = measure(json.loads(args.measure), dict(os.environ), Path.cwd())
        print(json.dumps(result))
        return
    if args.write_x_files:
        info = write_x_files(args.write_x_files, Path(args.data), gzipped=args.gzip)
        (Path(args.data) / "info.json").write_text(json.dumps(info))
        return
    if args.end_to_end:
        if args.sizes == parser.get_default("sizes"):
            args.sizes = "1000000,10000000"
        end_to_end(args)
        return
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
