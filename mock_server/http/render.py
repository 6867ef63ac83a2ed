"""Answers in each vendor's error format; the one place that knows those formats."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.responses import JSONResponse

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
