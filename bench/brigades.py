"""The largest coordinated group each defence withstands, on the engine and in the product.

    .venv/bin/python bench/brigades.py                  # seeds 1-10, sizes 5 … 80
    .venv/bin/python bench/brigades.py --seeds 1 --sizes 5,10,20 --defences engine

The community is the issue's (brigades.live_blog: 60 honest readers in two camps, 36
notes on 12 posts, ~1,300 ratings), every note's ratings landing within 10 minutes of it
("burst") or within a day ("day"). Brigades of growing size attack it in three styles
(lockstep, mimic, aged; liveticker/scoring/brigades.py) with two goals: "promote" the
three latest one-sided notes to Helpful, or "bury" the three latest bridging notes the
honest community makes Helpful (intercept ≥ 0.45). A size is withstood when no promoted
note is Helpful, or every buried note still is (core status). Per seed, the largest
size withstood together with every smaller size tried; the table gives the smallest and
the median over the seeds.

Defences are switched off by patching their constants, in this script only: "none" is
X's scorer below 200 notes (no post-selection similarity, no co-deviating groups), "X
PSS" adds post-selection similarity with X's fixed 20-minute window, "burst window"
measures co-rating against the population's own burst, "engine" adds co-deviating
groups (Liveticker's default), "engine + age" also passes first_activity_millis, and
"product" is that after the service holds back ratings of accounts younger than a day.
Not a timed test; about two minutes on two cores.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import cache
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from liveticker.scoring import constants as k  # noqa: E402
from liveticker.scoring.brigades import (  # noqa: E402
    GOALS,
    STYLES,
    BrigadeSpec,
    add_brigade,
    live_blog,
    pick_targets,
    young_accounts_wait,
)
from liveticker.scoring.pipeline import score  # noqa: E402
from liveticker.scoring.synth import DAY, Population, generate  # noqa: E402

NOW = 1_768_000_000_000
HELPFUL = "CURRENTLY_RATED_HELPFUL"
TIMINGS = {"burst": 10.0, "day": 1440.0}  # minutes within which each note's ratings land
SIZES = (5, 10, 15, 20, 25, 30, 40, 60, 80)
PRODUCT_MIN_ACCOUNT_AGE = DAY
OFF = 10**9  # a threshold nobody reaches
DEFENCES: dict[str, dict[str, float]] = {
    "none": {"PSS_MIN_UNIQUE_POSTS": OFF, "CODEV_MIN_SHARED": OFF},
    "X PSS": {"PSS_BASELINE_NEAR_SHARE": 1.0, "CODEV_MIN_SHARED": OFF},
    "burst window": {"CODEV_MIN_SHARED": OFF},
    "engine": {},
    "engine + age": {},
    "product": {},
}
WITH_ACCOUNT_AGE = ("engine + age", "product")  # the scorer is given first_activity_millis


@cache
def community(seed: int, rating_minutes: float) -> Population:
    return generate(live_blog(seed=seed, rating_minutes=rating_minutes))


@contextmanager
def defence(name: str) -> Iterator[None]:
    """Patch the constants that switch the other defences off, for the `with` block."""
    saved = {key: getattr(k, key) for key in DEFENCES[name]}
    try:
        for key, value in DEFENCES[name].items():
            setattr(k, key, value)
        yield
    finally:
        for key, value in saved.items():
            setattr(k, key, value)


@cache
def truth(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Core status and intercept of each note of the honest community spread over a day."""
    notes = score(community(seed, TIMINGS["day"]).data, now_millis=NOW).notes
    return notes["coreRatingStatus"].to_numpy(), notes["coreNoteIntercept"].to_numpy()


def core_status(population: Population, defence_name: str) -> np.ndarray:
    if defence_name == "product":
        population = young_accounts_wait(population, PRODUCT_MIN_ACCOUNT_AGE)
    data = population.data
    if defence_name in WITH_ACCOUNT_AGE:
        data = replace(data, first_activity_millis=population.first_activity)
    with defence(defence_name):
        result = score(data, now_millis=NOW)
    return result.notes["coreRatingStatus"].to_numpy()


def withstood(
    defence_name: str,
    style: str,
    goal: str,
    timing: str,
    seed: int,
    sizes: list[int],
    targets: int = 3,
) -> int:
    """The largest size withstood together with all smaller sizes (0: the smallest won)."""
    honest_population = community(seed, TIMINGS[timing])
    status, intercept = truth(seed)
    chosen = pick_targets(
        honest_population, goal, status=status, intercept=intercept, count=targets
    )
    best = 0
    for size in sizes:
        spec = BrigadeSpec(size=size, style=style, goal=goal, target_notes=chosen, seed=seed)
        status = core_status(add_brigade(honest_population, spec), defence_name)[list(chosen)]
        if goal == "promote" and (status == HELPFUL).any():
            return best
        if goal == "bury" and (status != HELPFUL).any():
            return best
        best = size
    return best


def honest_burst(defence_name: str, seeds: list[int]) -> str:
    """Notes whose status differs between the burst and the day, and the burst's outcome."""
    differ, bridges, bridges_helpful, bad, bad_not_helpful, one_sided = 0, 0, 0, 0, 0, 0
    for seed in seeds:
        burst = community(seed, TIMINGS["burst"])
        spread = core_status(community(seed, TIMINGS["day"]), defence_name)
        status = core_status(burst, defence_name)
        differ += int((status != spread).sum())
        kind = burst.note_kind
        bridges += int((kind == "both").sum())
        bridges_helpful += int(((kind == "both") & (status == HELPFUL)).sum())
        bad += int((kind == "neither").sum())
        bad_not_helpful += int(
            ((kind == "neither") & (status != HELPFUL) & (status != "NEEDS_MORE_RATINGS")).sum()
        )
        one_sided += int((np.isin(kind, ("camp_a", "camp_b")) & (status == HELPFUL)).sum())
    return (
        f"{differ} differ; bridging Helpful {bridges_helpful}/{bridges}, "
        f"bad Not Helpful {bad_not_helpful}/{bad}, one-sided Helpful {one_sided}"
    )


def failures(seed: int) -> None:
    """The two failures of the issue, on one community: statuses by note kind, intercepts."""
    print(f"Failures, seed {seed}: core statuses (Helpful / Not Helpful / Needs more) by kind\n")
    for name in ("X PSS", "engine"):
        for minutes in (60.0, 360.0):
            spec = replace(live_blog(seed=seed, rating_minutes=minutes), note_span_minutes=10)
            population = generate(spec)
            status = core_status(population, name)
            times = population.data.ratings.created_at
            counts = ", ".join(
                f"{kind} {_counts(status[population.note_kind == kind])}"
                for kind in ("both", "camp_a", "camp_b", "neither")
            )
            span = (times.max() - times.min()) / 60_000
            print(f"- {name}, every rating within {span:.0f} min: {counts}")
    status, intercept = truth(seed)
    honest = community(seed, TIMINGS["burst"])
    chosen = pick_targets(honest, "promote", status=status, intercept=intercept)
    for name in ("none", "engine"):
        for style in STYLES:
            spec = BrigadeSpec(size=40, style=style, goal="promote", target_notes=chosen, seed=seed)
            attacked = add_brigade(honest, spec)
            with defence(name):
                notes = score(attacked.data, now_millis=NOW).notes.iloc[list(chosen)]
            print(
                f"- {name}, 40 {style} accounts promoting notes {list(chosen)}: intercepts "
                f"{[round(float(v), 2) for v in notes['coreNoteIntercept']]}, statuses "
                f"{_counts(notes['coreRatingStatus'].to_numpy())}"
            )
    print()


def _counts(status: np.ndarray) -> str:
    return "/".join(
        str(int((status == name).sum()))
        for name in (HELPFUL, "CURRENTLY_RATED_NOT_HELPFUL", "NEEDS_MORE_RATINGS")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="1,2,3,4,5,6,7,8,9,10", help="population seeds")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="brigade sizes")
    parser.add_argument("--defences", default=",".join(DEFENCES), help="defences to run")
    parser.add_argument("--targets", type=int, default=3, help="notes each brigade attacks")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    sizes = [int(s) for s in args.sizes.split(",")]
    names = args.defences.split(",")
    start = time.perf_counter()
    print(
        f"seeds {seeds}, sizes {sizes}, {args.targets} target notes; honest community: "
        "60 readers, 36 notes, 12 posts\n"
    )
    failures(seeds[0])
    print("| defence | honest burst (10 min) vs day |")
    print("|---|---|")
    for name in names:
        print(f"| {name} | {honest_burst(name, seeds)} |")
    print()
    print(
        "Largest brigade withstood, in accounts, with every smaller size tried: the smallest"
        " over the seeds / the median ('< n': the smallest size tried already won; '≥ n': the"
        " largest tried was withstood)\n"
    )
    print("| goal | style | timing | " + " | ".join(names) + " |")
    print("|---|---|---|" + "---:|" * len(names))
    for goal in GOALS:
        for style in STYLES:
            for timing in TIMINGS:
                cells = []
                for name in names:
                    values = [
                        withstood(name, style, goal, timing, seed, sizes, args.targets)
                        for seed in seeds
                    ]
                    low, middle = min(values), int(np.median(values))
                    cells.append(f"{_size(low, sizes)} / {_size(middle, sizes)}")
                print(f"| {goal} | {style} | {timing} | " + " | ".join(cells) + " |", flush=True)
    print(f"\n{time.perf_counter() - start:.0f} s")


def _size(value: int, sizes: list[int]) -> str:
    if value == 0:
        return f"< {sizes[0]}"
    return f"≥ {value}" if value == sizes[-1] else str(value)


if __name__ == "__main__":
    main()
