"""`liveticker notes …`: score X-format TSV files, write synthetic populations, draw a picture.

The group is wired into the main command by `main.add_command(notes)`. User errors come
out as `file:line:column: message` with a non-zero exit code, never as a traceback.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from liveticker.clipaths import OutputDir, OutputFile, os_error_line
from liveticker.scoring.errors import ScoringInputError

EXISTING = click.Path(exists=True, path_type=Path)


# The same help options as the main command, also when this group is invoked on its own.
@click.group(name="notes", context_settings={"help_option_names": ["-h", "--help"]})
def notes() -> None:
    """Community notes: the bridging scoring engine and its tools."""


@notes.command()
@click.option("--notes", "notes_path", required=True, type=EXISTING, help="notes TSV (X format).")
@click.option(
    "--ratings",
    "ratings_path",
    required=True,
    type=EXISTING,
    help="ratings TSV, or a directory of ratings TSV files.",
)
@click.option("--status", "status_path", type=EXISTING, help="noteStatusHistory TSV (optional).")
@click.option("--enrollment", "enrollment_path", type=EXISTING, help="userEnrollment TSV.")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=OutputDir(must_be_empty=False),
    help="Output folder (its files of the same names are replaced).",
)
@click.option("--now", "now_millis", type=int, help="Scoring time, epoch millis [default: now].")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the solver.")
@click.option(
    "--timings",
    is_flag=True,
    help="Print each stage's seconds and the peak memory so far, at the end.",
)
def score(
    notes_path: Path,
    ratings_path: Path,
    status_path: Path | None,
    enrollment_path: Path | None,
    out_dir: Path,
    now_millis: int | None,
    seed: int,
    timings: bool,
) -> None:
    """Score notes from TSV files in X's public format (.tsv or .tsv.gz).

    Writes scored_notes.tsv, helpfulness_scores.tsv and note_status_history.tsv to OUT;
    pass that history as --status to the next run so that it continues. Shows progress
    on a terminal.
    """
    from liveticker.scoring import tsv
    from liveticker.scoring.pipeline import score as score_input
    from liveticker.scoring.tables import input_from_frames

    now = now_millis if now_millis is not None else int(time.time() * 1000)
    with _Stages(interactive=sys.stderr.isatty()) as stages:
        try:
            stages.start("read notes")
            notes_frame = tsv.read_notes(notes_path)
            files = tsv.ratings_files(ratings_path)
            stages.start("read ratings", total=sum(file.stat().st_size for file in files))
            ratings_frame = tsv.read_ratings(
                ratings_path, file_done=lambda file: stages.advance(file.stat().st_size)
            )
            history = enrollment = None
            if status_path:
                stages.start("read status history")
                history = tsv.read_status_history(status_path)
            if enrollment_path:
                stages.start("read enrollment")
                enrollment = tsv.read_enrollment(enrollment_path)
            stages.start("prepare input")
            data = input_from_frames(
                notes=notes_frame,
                ratings=ratings_frame,
                status_history=history,
                enrollment=enrollment,
            )
            del notes_frame, ratings_frame  # the containers hold what scoring needs
            result = score_input(data, now_millis=now, seed=seed, progress=stages.start)
        except ScoringInputError as error:
            raise click.ClickException(str(error)) from None
        stages.start("write results")
        try:
            out_dir.mkdir(exist_ok=True)
            tsv.write_tsv(result.notes, out_dir / "scored_notes.tsv")
            tsv.write_tsv(result.raters, out_dir / "helpfulness_scores.tsv")
            tsv.write_tsv(result.status_history, out_dir / "note_status_history.tsv")
        except OSError as error:
            raise click.ClickException(os_error_line(error)) from None
        stages.end()
    click.echo(f"scored {len(result.notes)} notes from {result.summary['ratings_in']} ratings")
    # A first run shows no note as Helpful yet (stabilization), while `notes plot` colours
    # by the core status: both counts, named, so that the two never seem to disagree.
    click.echo("final statuses (finalRatingStatus, what readers are shown):")
    _echo_counts(result.notes["finalRatingStatus"])
    click.echo("core statuses (coreRatingStatus, before stabilization; `notes plot` draws these):")
    _echo_counts(result.notes["coreRatingStatus"])
    click.echo(f"wrote {out_dir}")
    if timings:
        click.echo("timings:")
        # The peak so far after each stage: the stage where it jumps is the one to look at.
        for stage, seconds in stages.timings.items():
            click.echo(f"  {stage}: {seconds:.2f} s, peak {stages.peak_mb[stage]:,.0f} MB")
        click.echo(f"  total: {sum(stages.timings.values()):.2f} s")


def _echo_counts(statuses: Any) -> None:
    from liveticker.scoring.data import STATUS_NAMES

    counts = statuses.value_counts()
    for status in STATUS_NAMES:
        click.echo(f"  {status}: {int(counts.get(status, 0))}")


@notes.command()
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=OutputDir(must_be_empty=False),
    help="Output folder (its files of the same names are replaced).",
)
@click.option("--ratings", "n_ratings", type=int, default=48_000, show_default=True)
@click.option("--raters", "n_raters", type=int, help="[default: ratings / 20]")
@click.option("--notes", "n_notes", type=int, help="[default: ratings / 50]")
@click.option("--camp-a-share", type=float, default=0.6, show_default=True)
@click.option("--random-share", type=float, default=0.05, show_default=True)
@click.option("--brigades", type=int, default=0, show_default=True, help="Coordinated groups.")
@click.option("--brigade-size", type=int, default=30, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
def synth(
    out_dir: Path,
    n_ratings: int,
    n_raters: int | None,
    n_notes: int | None,
    camp_a_share: float,
    random_share: float,
    brigades: int,
    brigade_size: int,
    seed: int,
) -> None:
    """Write a synthetic population with its ground truth.

    notes.tsv, ratings.tsv and userEnrollment.tsv are in X's public format;
    truth_notes.tsv and truth_raters.tsv say what each note and rater really is.
    """
    from liveticker.scoring import tsv
    from liveticker.scoring.synth import PopulationSpec, generate, to_frames

    if not 0 < camp_a_share < 1:
        raise click.UsageError("--camp-a-share must be between 0 and 1")
    spec = PopulationSpec(
        n_ratings=n_ratings,
        n_raters=n_raters,
        n_notes=n_notes,
        camp_a_share=camp_a_share,
        random_share=random_share,
        brigades=brigades,
        brigade_size=brigade_size,
        seed=seed,
    )
    try:
        frames = to_frames(generate(spec))
    except ValueError as error:
        raise click.UsageError(f"cannot build this population: {error}") from None
    try:
        out_dir.mkdir(exist_ok=True)
        for name, frame in frames.items():
            tsv.write_tsv(frame, out_dir / f"{name}.tsv")
    except OSError as error:
        raise click.ClickException(os_error_line(error)) from None
    click.echo(
        f"wrote {len(frames['notes'])} notes, {len(frames['ratings'])} ratings, "
        f"{len(frames['userEnrollment'])} raters to {out_dir}"
    )


@notes.command()
@click.option(
    "--scored",
    "scored_path",
    required=True,
    type=EXISTING,
    help="Output directory of `notes score` (or its scored_notes.tsv).",
)
@click.option(
    "--out",
    "out_path",
    required=True,
    type=OutputFile(allow_existing=True),
    help="PNG file to write (a new one, unless --force).",
)
@click.option("--force", is_flag=True, help="Replace the PNG file if it exists.")
@click.option(
    "--status",
    "status_kind",
    type=click.Choice(["core", "final"]),
    default="core",
    show_default=True,
    help="Colour by the core model's status or the final one.",
)
def plot(scored_path: Path, out_path: Path, force: bool, status_kind: str) -> None:
    """Draw notes on the intercept × factor plane with the status thresholds."""
    if out_path.exists() and not force:
        raise click.ClickException(f"{out_path} exists already; pass --force to replace it")
    import pandas as pd

    from liveticker.scoring.plot import plot_notes

    file = scored_path / "scored_notes.tsv" if scored_path.is_dir() else scored_path
    needed = ["coreNoteIntercept", "coreNoteFactor1", "coreRatingStatus", "finalRatingStatus"]
    try:
        frame = pd.read_csv(file, sep="\t", usecols=needed)
    except FileNotFoundError:
        raise click.ClickException(f"{file}:0:0: file not found") from None
    except (ValueError, pd.errors.ParserError) as error:
        raise click.ClickException(f"{file}:1:0: not a scored_notes.tsv file ({error})") from None
    if frame.dropna(subset=["coreNoteIntercept", "coreNoteFactor1"]).empty:
        raise click.ClickException(f"{file}: no note has a core score; nothing to draw")
    try:
        count = plot_notes(frame, out_path, status_column=f"{status_kind}RatingStatus")
    except OSError as error:
        raise click.ClickException(os_error_line(error)) from None
    click.echo(f"drew {count} notes to {out_path}")


def _peak_rss_mb() -> float:
    """The process's peak resident memory so far, in MB (ru_maxrss: KB on Linux)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class _Stages:
    """The stages of one run, timed; on a terminal also drawn by rich as they go (a line
    per stage with its elapsed time, a bar over the bytes of the ratings files)."""

    def __init__(self, *, interactive: bool) -> None:
        self.timings: dict[str, float] = {}
        self.peak_mb: dict[str, float] = {}  # the process's peak RSS when each stage ended
        self._name: str | None = None
        self._started = 0.0
        self._display: Any = None
        self._task: Any = None
        if interactive:  # rich is imported only when there is someone to show it to
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                SpinnerColumn,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._display = Progress(
                SpinnerColumn(finished_text="✓"),
                TextColumn("{task.description:<34}"),
                BarColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
            )

    def __enter__(self) -> _Stages:
        if self._display is not None:
            self._display.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._display is not None:
            self._display.stop()

    def start(self, name: str, total: float | None = None) -> None:
        """End the running stage, if any, and start `name` (`total`: units of advance)."""
        self.end()
        self._name, self._started = name, time.perf_counter()
        if self._display is not None:
            self._task = self._display.add_task(name, total=total)

    def advance(self, amount: float) -> None:
        """Progress within the running stage; safe from the reader's threads."""
        if self._display is not None and self._task is not None:
            self._display.advance(self._task, amount)

    def end(self) -> None:
        if self._name is None:
            return
        self.timings[self._name] = time.perf_counter() - self._started
        self.peak_mb[self._name] = _peak_rss_mb()
        if self._display is not None and self._task is not None:
            total = self._display.tasks[self._task].total or 1
            self._display.update(self._task, total=total, completed=total)
        self._name = self._task = None
