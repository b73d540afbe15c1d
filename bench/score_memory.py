"""Peak memory of the scoring engine per rating, without the cost of reading or generating.

Usage: python bench/score_memory.py [--sizes 1000000,5000000] [--stages]

Each size is generated once (liveticker.scoring.synth, two brigades, as bench/score.py)
and saved as arrays; a fresh subprocess loads them and scores, so its peak RSS minus the
RSS after loading is what scoring itself adds. `--stages` also traces numpy allocations
(tracemalloc) and prints each stage's peak above the input, which names the stage to cut.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = 1_768_000_000_000
MB = 1024 * 1024


def save(n_ratings: int, path: Path) -> None:
    """Generate one population and write its containers' arrays to `path` (.npz)."""
    import numpy as np

    from liveticker.scoring.synth import PopulationSpec, generate

    data = generate(PopulationSpec(n_ratings=n_ratings, brigades=2, seed=1)).data
    notes, ratings = data.notes, data.ratings
    np.savez(
        path,
        participants=data.participants.astype(str),
        **{f"notes_{name}": getattr(notes, name) for name in notes.__dataclass_fields__},
        **{f"ratings_{name}": getattr(ratings, name) for name in ratings.__dataclass_fields__},
    )


def measure(path: Path, stages: bool) -> dict[str, object]:
    """Load the arrays and score them (runs inside the child process)."""
    import tracemalloc

    import numpy as np

    from liveticker.scoring.data import History, Notes, Ratings, ScoringInput
    from liveticker.scoring.pipeline import score

    with np.load(path) as saved:
        arrays = {name: saved[name] for name in saved.files}
    data = ScoringInput(
        participants=arrays.pop("participants").astype(object),
        notes=Notes(**{n[6:]: a for n, a in arrays.items() if n.startswith("notes_")}),
        ratings=Ratings(**{n[8:]: a for n, a in arrays.items() if n.startswith("ratings_")}),
        history=History.empty(len(arrays["notes_note_id"])),
    )
    del arrays
    rss_loaded = _current_rss()
    per_stage: dict[str, float] = {}
    base = 0
    if stages:
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        names: list[str] = []

        def progress(name: str) -> None:
            if names:
                per_stage[names[-1]] = (tracemalloc.get_traced_memory()[1] - base) / MB
            tracemalloc.reset_peak()
            names.append(name)

    start = time.perf_counter()
    result = score(data, now_millis=NOW, seed=0, progress=progress if stages else None)
    wall = time.perf_counter() - start
    if stages:
        per_stage[names[-1]] = (tracemalloc.get_traced_memory()[1] - base) / MB
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    n = len(data.ratings)
    return {
        "ratings": n,
        "wall_s": round(wall, 2),
        "rss_input_mb": round(rss_loaded / MB),
        "rss_peak_mb": round(rss_peak / MB),
        "scoring_bytes_per_rating": round((rss_peak - rss_loaded) / n),
        "peak_bytes_per_rating": round(rss_peak / n),
        "stage_peak_mb": {name: round(mb) for name, mb in per_stage.items()},
        "statuses": result.notes["finalRatingStatus"].value_counts().to_dict(),
    }


def _current_rss() -> int:
    """Resident bytes now (ru_maxrss would keep the loading's own transient peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,5000000")
    parser.add_argument("--stages", action="store_true", help="trace allocations per stage")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(Path(args.child), args.stages)))
        return
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "population.npz"
            save(size, path)
            command = [sys.executable, __file__, "--child", str(path)]
            if args.stages:
                command.append("--stages")
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            print(out.strip(), flush=True)


if __name__ == "__main__":
    main()
