"""The public download of community notes data, as X publishes its own: one zip a day.

The server's scoring loop writes the files (`live.notes_runner.publish_open_data`); these
routes only serve them: the newest at a stable address, each day's by its date, and a
list. What the files hold is public by construction (see docs/notes-service.md).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from liveticker.exceptions import NotFound
from liveticker.live.notes_runner import archives, open_data_folder
from liveticker.web.services import services_of

PREFIX = "/open-data/notes"
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CACHE = "public, max-age=3600"  # a new file appears once a day

router = APIRouter(include_in_schema=False)


def _folder(request: Request) -> Path:
    return open_data_folder(services_of(request).settings)


def _file(day: str, path: Path) -> FileResponse:
    return FileResponse(
        path,
        media_type="application/zip",
        filename=f"notes-{day}.zip",
        headers={"Cache-Control": CACHE},
    )


@router.get(f"{PREFIX}/")
def listing(request: Request) -> dict[str, Any]:
    """The downloads present, newest first."""
    found = archives(_folder(request))
    return {
        "latest": f"{PREFIX}/latest.zip" if found else None,
        "files": [
            {"date": day, "url": f"{PREFIX}/{day}.zip", "bytes": path.stat().st_size}
            for day, path in found
        ],
        "format": "X's Community Notes TSV files: notes, ratings, noteStatusHistory, "
        "userEnrollment",
    }


@router.get(f"{PREFIX}/latest.zip")
def latest(request: Request) -> FileResponse:
    found = archives(_folder(request))
    if not found:
        raise NotFound("no notes data has been published yet")
    return _file(*found[0])


@router.get(PREFIX + "/{day}.zip")
def by_day(request: Request, day: str) -> FileResponse:
    if DAY.match(day):  # the date alone names the file: nothing else reaches the folder
        for found_day, path in archives(_folder(request)):
            if found_day == day:
                return _file(day, path)
    raise NotFound(f"no notes data for {day}")
