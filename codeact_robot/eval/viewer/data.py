"""What the viewer's JSON API answers, read from the results store (read-only).

Requests arrive as query parameters from a browser, so every parameter is checked here:
filters name columns from a fixed table, sorting from a fixed list, numbers are bounded,
and SQL only ever receives them as bound values. Whatever the store holds is returned
as data for the page to show as text; a row that does not parse is reported, not fatal.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeact_robot.eval.results.rows import check_row
from codeact_robot.eval.results.store import ResultsStore
from codeact_robot.localweb import is_number

FILTERS = {
    "suite": "suite_hash",
    "agent": "agent",
    "task": "task",
    "split": "split",
    "kind": "failure_kind",
    "outcome": "outcome",
    "model": "model",
    "mode": "mode",
}
"""Query parameter -> the column it must equal."""

SORTS = ("id", "agent", "task", "seed", "split", "outcome", "failure_kind", "turns", "wall_s", "finished_at")
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_SEARCH_CHARS = 200
MAX_RECORD_CHARS = 64 * 2**20  # a transcript larger than this is not sent to the browser
VIDEO_TYPES = {".mp4": "video/mp4", ".webm": "video/webm"}


class BadRequest(ValueError):
    """A request the viewer cannot answer: the message says what is valid (HTTP 400)."""


class NotFound(LookupError):
    """Nothing at that address (HTTP 404)."""


@dataclass(frozen=True)
class EpisodeQuery:
    """A page of the episode list.

    Attributes:
        filters: column -> the value it must equal.
        text: free text the episode's code, output, error or instruction must contain.
        sort: the column to order by; ``descending`` its direction.
        offset, limit: the page.
    """

    filters: Mapping[str, str]
    text: str = ""
    sort: str = "id"
    descending: bool = True
    offset: int = 0
    limit: int = PAGE_SIZE

    @classmethod
    def from_params(cls, params: Mapping[str, Sequence[str]]) -> EpisodeQuery:
        """Parse ``/api/episodes`` query parameters.

        Raises:
            BadRequest: an unknown parameter, sort column or direction, or a bad number.
        """
        valid = {*FILTERS, "q", "sort", "order", "offset", "limit"}
        unknown = sorted(set(params) - valid)
        if unknown:
            raise BadRequest(f"unknown parameter {unknown[0]!r}; parameters are: {', '.join(sorted(valid))}")
        one = {name: values[-1] for name, values in params.items() if values}
        sort = one.get("sort", "id")
        if sort not in SORTS:
            raise BadRequest(f"cannot sort by {sort!r}; sort by one of: {', '.join(SORTS)}")
        order = one.get("order", "desc")
        if order not in ("asc", "desc"):
            raise BadRequest(f"order must be asc or desc, not {order!r}")
        text = one.get("q", "")
        if len(text) > MAX_SEARCH_CHARS:
            raise BadRequest(f"the search text has {len(text)} characters; at most {MAX_SEARCH_CHARS} are allowed")
        return cls(
            filters={FILTERS[name]: value for name, value in one.items() if name in FILTERS and value},
            text=text.strip(),
            sort=sort,
            descending=order == "desc",
            offset=_bounded(one, "offset", 0, 0, 10**9),
            limit=_bounded(one, "limit", PAGE_SIZE, 1, MAX_PAGE_SIZE),
        )

    def condition(self) -> tuple[str, list[Any]]:
        """The SQL condition (column names from the fixed tables only) and its bound values."""
        clauses = [f"{column} = ?" for column in self.filters]
        values: list[Any] = list(self.filters.values())
        if self.text:
            pattern = "%" + self.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            clauses.append("(search_text LIKE ? ESCAPE '\\' OR instruction LIKE ? ESCAPE '\\')")
            values += [pattern, pattern]
        return " AND ".join(clauses), values


class ViewerData:
    """The store behind the viewer: one read-only connection, one query at a time.

    Args:
        folder: the evaluation folder.

    Raises:
        UsageError: the folder holds no results store.
    """

    def __init__(self, folder: str | Path) -> None:
        self.store = ResultsStore(folder, read_only=True)
        self.folder = self.store.folder.resolve()
        self._lock = threading.Lock()  # the server answers requests on several threads

    def overview(self) -> dict[str, Any]:
        """The suites and runs, and each filterable column's values with their episode counts."""
        with self._lock:
            suites = self.store.suites()
            runs = self.store.runs()
            facets = {column: self.store.distinct(column) for column in FILTERS.values()}
        counts = facets["suite_hash"]
        total = sum(counts.values())  # every episode has one suite hash
        return {
            "folder": str(self.folder),
            "episodes": total,
            "suites": [
                {
                    "suite_hash": s["suite_hash"],
                    "name": s["name"],
                    "heldout": s["heldout"],
                    "created_at": s["created_at"],
                    "episodes": counts.get(s["suite_hash"], 0),
                }
                for s in suites
            ],
            "runs": [{**run, "settings": _parsed(run.get("settings"))} for run in runs],
            "facets": {
                name: [[_text(value), count] for value, count in facets[column].items()]
                for name, column in FILTERS.items()
            },
        }

    def episodes(self, query: EpisodeQuery) -> dict[str, Any]:
        """One page of episode summaries (never transcripts) and how many match in all."""
        where, values = query.condition()
        order = f"{query.sort} {'DESC' if query.descending else 'ASC'}, id DESC"
        with self._lock:
            total = self.store.count(where, values)
            rows = list(self.store.summaries(where, values, order_by=order, limit=query.limit, offset=query.offset))
        episodes, unreadable = [], []
        for row in rows:
            checked = check_row(row)
            if isinstance(checked, str):
                unreadable.append(checked)
            else:
                episodes.append(checked.model_dump(mode="json"))
        return {
            "total": total,
            "offset": query.offset,
            "limit": query.limit,
            "episodes": episodes,
            "unreadable": unreadable,
        }

    def episode(self, episode_id: int) -> dict[str, Any]:
        """One episode: its summary, its transcript, its images' addresses and its video's.

        Raises:
            NotFound: no episode has that id.
        """
        with self._lock:
            rows = list(self.store.summaries("id = ?", [episode_id]))
            if not rows:
                raise NotFound(f"no episode {episode_id}")
            record = self.store.record(episode_id, max_chars=MAX_RECORD_CHARS)
            images = self.store.image_index(episode_id)
        checked = check_row(rows[0])
        summary = checked.model_dump(mode="json") if not isinstance(checked, str) else None
        return {
            "id": episode_id,
            "summary": summary,
            "problem": checked if isinstance(checked, str) else None,
            "record": record,
            "record_problem": None if record is not None else "the transcript is missing, unreadable or too large",
            "images": [
                {"turn": turn, "camera": camera, "url": f"/api/episodes/{episode_id}/images/{turn}/{camera}"}
                for turn, camera in images
            ],
            "video": f"/api/episodes/{episode_id}/video" if self._video_file(rows[0].get("video")) else None,
        }

    def image(self, episode_id: int, turn: int, camera: str) -> bytes:
        """A camera image's JPEG bytes.

        Raises:
            NotFound: there is no such image.
        """
        with self._lock:
            image = self.store.image(episode_id, turn, camera)
        if image is None:
            raise NotFound(f"episode {episode_id} has no {camera} image after turn {turn}")
        return image

    def video_path(self, episode_id: int) -> Path | None:
        """The episode's video file, only if it is a video inside the store's folder."""
        with self._lock:
            rows = list(self.store.summaries("id = ?", [episode_id]))
        return self._video_file(rows[0].get("video")) if rows else None

    def _video_file(self, video: Any) -> Path | None:
        """A row's ``video`` value as a file, only if it is a video inside the store's folder."""
        if not isinstance(video, str) or not video or "\x00" in video:
            return None
        path = (self.folder / video).resolve()
        if not path.is_relative_to(self.folder) or path.suffix.lower() not in VIDEO_TYPES or not path.is_file():
            return None
        return path

    def close(self) -> None:
        """Close the store."""
        self.store.close()


def _bounded(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = params.get(name)
    if text is None or text == "":
        return default
    if not is_number(text) or not low <= int(text) <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}, not {text[:20]!r}")
    return int(text)


def _parsed(settings: Any) -> Any:
    try:
        return json.loads(settings) if isinstance(settings, str) else None
    except (json.JSONDecodeError, RecursionError):
        return None


def _text(value: Any) -> str | None:
    """A column value as text for the filter lists (SQLite may hold anything in any column)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
