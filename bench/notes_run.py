"""Benchmark of the service's scoring run (live.notes_runner.run_once) on PostgreSQL.

Usage: python bench/notes_run.py [--ratings 1000000] [--readers 50000] [--notes 20000]
       [--admin-url postgresql://postgres@127.0.0.1:5432/test] [--keep] [--docs]

Builds a throw-away database (`liveticker_bench_notes`) from a synthetic population
(liveticker.scoring.synth: two camps, lenient, harsh and random raters, one note per
post) with bulk inserts (COPY for the ratings), then times in a fresh process: a cold run
(reading, scoring, writing every status), a run when nothing changed (skipped after the
check), and a run after 100 new ratings. Drops the database unless --keep. With --docs
it rewrites the section "## Community notes run (bench/notes_run.py)" of
docs/benchmarks.md. Not a timed test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.docs_section import machine, replace_section  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
HEADING = "Community notes run (bench/notes_run.py)"
NAME = "liveticker_bench_notes"
LEVELS = ("NOT_HELPFUL", "SOMEWHAT_HELPFUL", "HELPFUL")


def database_url(admin_url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(admin_url).set(database=NAME).render_as_string(hide_password=False)


def create_database(admin_url: str) -> None:
    from sqlalchemy import create_engine, text

    from liveticker.storage.database import normalize_url

    admin = create_engine(normalize_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{NAME}"'))
    admin.dispose()


def drop_database(admin_url: str) -> None:
    from sqlalchemy import create_engine, text

    from liveticker.storage.database import normalize_url

    admin = create_engine(normalize_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)'))
    admin.dispose()


def build(url: str, *, n_ratings: int, n_readers: int, n_notes: int) -> dict[str, Any]:
    """Fill the schema: readers, one live blog, a post per note, notes and ratings."""
    import numpy as np
    import pandas as pd
    from sqlalchemy import insert, text

    from liveticker.domain.notes_run import TAGS
    from liveticker.scoring.synth import PopulationSpec, generate
    from liveticker.storage.database import Database
    from liveticker.storage.models import Blog, Note, Post, User

    start = time.perf_counter()
    spec = PopulationSpec(n_ratings=n_ratings, n_raters=n_readers, n_notes=n_notes, seed=1)
    data = generate(spec).data
    notes, ratings = data.notes, data.ratings
    database = Database(url)
    database.upgrade()
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def moment(millis: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(millis / 1000, tz=dt.UTC)

    with database.engine.begin() as connection:
        connection.execute(
            insert(User.__table__),
            [
                {
                    "id": i + 1,
                    "username": f"reader{i}",
                    "display_name": f"reader{i}",
                    "role": "reader",
                    "password_hash": "-",
                    "is_active": True,
                    "created_at": base - dt.timedelta(days=30),
                    "participant_id": str(data.participants[i]),
                    "writing_granted": False,
                }
                for i in range(len(data.participants))
            ],
        )
        connection.execute(
            insert(Blog.__table__).values(
                id=1, slug="bench", short_code="bench001", title="Bench", status="live"
            )
        )
        connection.execute(
            insert(Post.__table__),
            [
                {
                    "id": i + 1,
                    "blog_id": 1,
                    "short_code": f"p{i:07d}",
                    "body": "A post.",
                    "body_html": "<p>A post.</p>",
                    "status": "published",
                    "published_at": base,
                }
                for i in range(len(notes))
            ],
        )
        connection.execute(
            insert(Note.__table__),
            [
                {
                    "id": i + 1,
                    "post_id": i + 1,
                    "blog_id": 1,
                    "author_id": int(notes.author[i]) + 1,
                    "classification": "MISINFORMED_OR_POTENTIALLY_MISLEADING"
                    if notes.misleading[i]
                    else "NOT_MISLEADING",
                    "reasons": ["misleadingFactualError"]
                    if notes.misleading[i]
                    else ["notMisleadingFactuallyCorrect"],
                    "text": f"Synthetic note {i}",
                    "sources": ["https://example.org/"],
                    "created_at": moment(int(notes.created_at[i])),
                }
                for i in range(len(notes))
            ],
        )
        for table in ("users", "blogs", "posts", "notes"):
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                )
            )
    # The ratings (the bulk of it) go in with COPY.
    masks = ratings.helpful_tags.astype(np.int64) | (ratings.not_helpful_tags.astype(np.int64) << 9)
    codes, distinct = pd.factorize(masks)
    tag_text = np.array(
        [json.dumps([TAGS[b] for b in range(len(TAGS)) if m >> b & 1]) for m in distinct],
        dtype=object,
    )
    stamps = pd.to_datetime(ratings.created_at, unit="ms", utc=True)
    frame = pd.DataFrame(
        {
            "note_id": ratings.note.astype(np.int64) + 1,
            "rater_id": ratings.rater.astype(np.int64) + 1,
            "helpfulness": np.array(LEVELS, dtype=object)[
                np.rint(ratings.helpful_num * 2).astype(int)
            ],
            "tags": tag_text[codes],
            "created_at": stamps,
            "updated_at": stamps,
        }
    )
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, date_format="%Y-%m-%d %H:%M:%S.%f+00")
    raw = database.engine.raw_connection()
    try:
        cursor = raw.cursor()
        columns = ", ".join(frame.columns)
        with cursor.copy(f"COPY note_ratings ({columns}) FROM STDIN (FORMAT csv)") as copy:  # type: ignore[attr-defined]
            copy.write(buffer.getvalue())
        raw.commit()
    finally:
        raw.close()
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("VACUUM ANALYZE"))
    database.dispose()
    now = int(max(ratings.created_at.max(), notes.created_at.max())) + 3_600_000
    return {
        "build_s": round(time.perf_counter() - start, 1),
        "ratings": len(frame),
        "readers": len(data.participants),
        "notes": len(notes),
        "now_millis": now,
    }


def measure(url: str, *, now_millis: int) -> dict[str, Any]:
    """Time the cold run, the unchanged run and a run after a few new ratings."""
    from sqlalchemy import insert, select

    from liveticker.live.notes_runner import run_once
    from liveticker.settings import Settings
    from liveticker.storage.database import Database
    from liveticker.storage.models import NoteRating, User

    settings = Settings(database_url=url)
    database = Database(url)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    cold = run_once(database, settings=settings, now_millis=now_millis)
    cold_wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert cold.ran, cold.summary()
    start = time.perf_counter()
    unchanged = run_once(database, settings=settings, now_millis=now_millis + 60_000)
    unchanged_wall = time.perf_counter() - start
    assert not unchanged.ran, unchanged.summary()
    # 100 new ratings: readers rate notes they had not rated.
    moment = dt.datetime.fromtimestamp((now_millis + 90_000) / 1000, tz=dt.UTC)
    with database.transaction() as session:
        raters = session.scalars(select(User.id).order_by(User.id).limit(100)).all()
        rated = set(
            session.execute(
                select(NoteRating.note_id, NoteRating.rater_id).where(
                    NoteRating.rater_id.in_(raters)
                )
            ).all()
        )
        rows = []
        note = 1
        for rater in raters:
            while (note, rater) in rated:
                note += 1
            rows.append(
                {
                    "note_id": note,
                    "rater_id": rater,
                    "helpfulness": "HELPFUL",
                    "tags": ["helpfulClear"],
                    "created_at": moment,
                    "updated_at": moment,
                }
            )
        session.execute(insert(NoteRating), rows)
    start = time.perf_counter()
    again = run_once(database, settings=settings, now_millis=now_millis + 120_000)
    again_wall = time.perf_counter() - start
    assert again.ran, again.summary()
    # Half an hour after the cold run: the notes that qualified then are shown now, each
    # post's change an event in the blog's log.
    start = time.perf_counter()
    shown = run_once(database, settings=settings, now_millis=now_millis + 31 * 60_000)
    shown_wall = time.perf_counter() - start
    assert shown.ran, shown.summary()
    database.dispose()
    return {
        "cold": {"wall_s": round(cold_wall, 2), "summary": cold.summary(), **_split(cold)},
        "unchanged": {
            "wall_s": round(unchanged_wall, 3),
            "summary": unchanged.summary(),
        },
        "after_100": {"wall_s": round(again_wall, 2), "summary": again.summary(), **_split(again)},
        "stabilized": {"wall_s": round(shown_wall, 2), "summary": shown.summary(), **_split(shown)},
        "shown": {"changes": shown.changes, "posts": shown.posts},
        "statuses": cold.statuses,
        "changes": cold.changes,
        "peak_rss_mb": round(peak),
        "rss_before_mb": round(rss_before),
    }


def _split(outcome: Any) -> dict[str, float]:
    return {f"{stage}_s": round(seconds, 2) for stage, seconds in outcome.timings.items()}


def postgres_version(admin_url: str) -> str:
    from sqlalchemy import create_engine, text

    from liveticker.storage.database import normalize_url

    engine = create_engine(normalize_url(admin_url))
    with engine.connect() as connection:
        version = str(connection.execute(text("SHOW server_version")).scalar())
    engine.dispose()
    return version


def child(stage: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Run one stage in a fresh process (so that its peak memory is its own)."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", stage, "--payload", json.dumps(payload)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def section(build_row: dict[str, Any], rows: dict[str, Any], command: str, admin: str) -> str:
    statuses = ", ".join(f"{status} {count:,}" for status, count in rows["statuses"].items())

    def line(label: str, name: str, rss: str = "") -> str:
        row = rows[name]
        split = " | ".join(str(row.get(f"{stage}_s", "")) for stage in ("read", "score", "write"))
        return f"| {label} | {row['wall_s']} | {split} | {rss} |"

    shown = rows["shown"]
    table = "\n".join(
        [
            "| run | wall s | read s | score s | write s | peak RSS MB |",
            "|---|---:|---:|---:|---:|---:|",
            line(
                f"cold: {build_row['ratings']:,} ratings, {build_row['readers']:,} readers, "
                f"{build_row['notes']:,} notes",
                "cold",
                f"{rows['peak_rss_mb']:,}",
            ),
            line("nothing changed: skipped after the check", "unchanged"),
            line("after 100 new ratings", "after_100"),
            line(
                f"31 minutes later: {shown['changes']:,} notes shown, an event for each of "
                f"{shown['posts']:,} posts",
                "stabilized",
            ),
        ]
    )
    return (
        "The service's whole scoring run (`liveticker notes run`, the server's periodic "
        "run, docs/notes-service.md): read every note, rating, status history row and "
        "reader from PostgreSQL in one snapshot, score, and write every note's status and "
        "scores, the status history, every reader's viewpoint, impact and enrollment, and "
        "the events, in one transaction. The population is synthetic "
        "(liveticker.scoring.synth: two camps, lenient, harsh and random raters), one note "
        "per post in one live blog, loaded with bulk inserts (not timed). The four runs "
        "follow each other in one fresh process (not the one that built the database); "
        "peak RSS is that process's, after the cold run.\n\n"
        f"- Date: {dt.date.today().isoformat()}\n"
        f"- Machine: {machine()}, PostgreSQL {postgres_version(admin)} on the same host\n"
        f"- Command: `{command}`\n\n"
        f"{table}\n\n"
        f"The cold run's final statuses: {statuses} (a first run shows no note as "
        "Helpful yet: stabilization). The last run shows what dominates when thousands of "
        "posts change at once: each post's event is a few statements of its own. Building "
        f"the database took {build_row['build_s']} s.\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--readers", type=int, default=50_000)
    parser.add_argument("--notes", type=int, default=20_000)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    parser.add_argument("--docs", action="store_true", help="Rewrite the docs section.")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--payload", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        payload = json.loads(args.payload)
        if args.child == "build":
            out = build(
                payload["url"],
                n_ratings=payload["ratings"],
                n_readers=payload["readers"],
                n_notes=payload["notes"],
            )
        else:
            out = measure(payload["url"], now_millis=payload["now_millis"])
        print(json.dumps(out))
        return
    url = database_url(args.admin_url)
    create_database(args.admin_url)
    try:
        built = child(
            "build",
            {"url": url, "ratings": args.ratings, "readers": args.readers, "notes": args.notes},
        )
        print(f"built: {built}", flush=True)
        rows = child("measure", {"url": url, "now_millis": built["now_millis"]})
    finally:
        if not args.keep:
            drop_database(args.admin_url)
    for name in ("cold", "unchanged", "after_100", "stabilized"):
        print(f"{name}: {rows[name]['wall_s']} s — {rows[name]['summary']}")
    print(f"peak RSS {rows['peak_rss_mb']} MB")
    if args.docs:
        command = "python " + " ".join(["bench/notes_run.py", *sys.argv[1:]])
        replace_section(DOC, HEADING, section(built, rows, command, args.admin_url))
        print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
