"""Answers in each vendor's error format; the one place that knows those formats."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from starlette.responses import JSONResponse, Response

from mock_server.errors import DomainError, InsufficientCredits, TooManyRequests

#: Families whose errors are FastAPI-style `{"detail": ...}` (seed 004); all others are Segmind's.
FASTAPI_STYLE_FAMILIES = frozenset({"lora-trainer"})


def error_response(
    family: str | None,
    status: int,
    message: str,
    details: Sequence[dict[str, Any]] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """`{"error": message, "details": [...]}` for Segmind, `{"detail": message}` for seed 004."""
    if family in FASTAPI_STYLE_FAMILIES:
        body: dict[str, Any] = {"detail": list(details) if details else message}
    else:
        body = {"error": message}
        if details:
            body["details"] = list(details)
    return JSONResponse(body, status_code=status, headers=headers)


#: Where a family answers a domain error with another status than the error's own.
_FAMILY_STATUS: dict[tuple[type[DomainError], str], int] = {
    # seed 004 documents "402 Insufficient Credit"; Segmind documents 406
    (InsufficientCredits, "lora-trainer"): 402,
}


def domain_error_response(family: str | None, exc: DomainError) -> JSONResponse:
    status = _FAMILY_STATUS.get((type(exc), family or ""), exc.status)
    if isinstance(exc, TooManyRequests):  # as the rate limit's 429 (the specs' RateLimited)
        headers = {"Retry-After": str(exc.retry_after)}
        return error_response(family, status, exc.message, headers=headers)
    return error_response(family, status, exc.message)


def rejected_response(
    family: str | None, status: int, message: str, details: Sequence[dict[str, Any]]
) -> JSONResponse:
    """A request the validator refused. FastAPI-style families answer schema failures as
    422 with FastAPI's `detail` list (loc, msg, type); Segmind answers 400 with `details`."""
    if family in FASTAPI_STYLE_FAMILIES and details and status == 400:
        items = []
        for d in details:
            item = {
                "loc": ["body", *[p for p in str(d.get("path", "")).split(".") if p]],
                "msg": d.get("message", message),
                "type": d.get("rule", "value_error"),
            }
            if d.get("pointer"):
                item["pointer"] = d["pointer"]
            items.append(item)
        return JSONResponse({"detail": items}, status_code=422)
    return error_response(family, status, message, details)


class AnswerCache:
    """JSON answers kept by key while what they were rendered from is the same: `made_of` is
    compared by value, which is an identity check for decoded jobs and their transitions
    (immutable and shared, see lifecycle.stored.DecodedJobs), so a hit re-sends the same
    response instead of rendering, encoding and building one, a large share of a
    details request. A Response holds no per-request state and can be sent any
    number of times. Emptied when full."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._kept: dict[Hashable, tuple[tuple[object, ...], Response]] = {}

    def answer(
        self, key: Hashable, made_of: tuple[object, ...], render: Callable[[], Any]
    ) -> Response:
        hit = self._kept.get(key)
        if hit is not None and hit[0] == made_of:  # identity first: equal-valued ones render alike
            return hit[1]
        answer = JSONResponse(render())
        if len(self._kept) >= self._size:
            self._kept.clear()
        self._kept[key] = (made_of, answer)
        return answer
