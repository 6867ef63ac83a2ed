"""The stack's limit: a bare Starlette app answering fixed JSON on the benchmarked paths, run by
uvicorn exactly as `tunemock serve` runs the mock (same loop and HTTP choices, log level).

    python bench/bare_app.py --port N
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

DETAILS = {
    "finetune": {
        "id": "3f1c0d2e-0000-4000-8000-000000000000",
        "name": "bench",
        "status": "AVAILABLE",
        "base_model": "FLUX",
        "public_model": False,
        "error_message": None,
        "created_ts": "2025-01-01T00:00:00.000Z",
        "updated_ts": "2025-01-01T00:00:00.000Z",
    }
}


async def submit(request: Request) -> JSONResponse:
    await request.body()  # a real server reads the body; so does this one
    return JSONResponse({"message": "Finetune request created", "finetune_id": "3f1c0d2e"})


async def details(request: Request) -> JSONResponse:
    await request.body()
    return JSONResponse(DETAILS)


async def v2_status(request: Request) -> JSONResponse:
    return JSONResponse({"request_id": request.path_params["request_id"], "status": "COMPLETED"})


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/finetune/request/submit", submit, methods=["POST"]),
        Route("/finetune/request/details", details, methods=["GET"]),
        Route("/v2/requests/{request_id}/status", v2_status, methods=["GET"]),
        Route("/_mock/health", health, methods=["GET"]),
    ]
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # the same call as mock_server/cli/serve_cmd.py: loop/http "auto" (uvloop, httptools)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
