"""HTTP for the seed-004 trainer: the multipart create, the status envelope, sample files."""

from __future__ import annotations

import io
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_server.errors import NotFound
from mock_server.http.context import Handler, HandlerContext, services_of
from mock_server.http.render import error_response, rejected_response
from mock_server.inference import images
from mock_server.runtime import Runtime
from mock_server.trainer.domain import FAMILY, ImageUpload
from mock_server.trainer.render import envelope


def _parts(form: dict[str, Any]) -> list[Any]:
    files = form.pop("image_files", None) or []
    return files if isinstance(files, list) else [files]


def _not_files(parts: list[Any]) -> list[dict[str, Any]]:
    """FastAPI's complaint for every image_files part that is text, not a file."""
    return [
        {
            "path": f"image_files.{i}",
            "rule": "value_error",
            "message": f"Expected UploadFile, received: {type(part).__name__}",
        }
        for i, part in enumerate(parts)
        if not hasattr(part, "file")
    ]


async def create(ctx: HandlerContext) -> Response:
    form = dict(ctx.body or {})
    parts = _parts(form)
    problems = _not_files(parts)
    if problems:
        return rejected_response(FAMILY, 400, problems[0]["message"], problems)
    uploads = [ImageUpload(str(getattr(p, "filename", "") or "upload"), p.file) for p in parts]
    svc = ctx.services.trainer
    outbound = ctx.services.outbound
    outbound.own.note(ctx.scope.get("server"))
    # image_urls are fetched in the tenant's own fetch slots, never the shared thread pool
    job = await outbound.slots.run_sync(
        ctx.tenant, svc.submit, ctx.tenant, form, uploads, ctx.base_url
    )
    return JSONResponse(envelope(job, svc.lifecycle, ctx.runtime.clock.now()))


async def status(ctx: HandlerContext) -> Response:
    svc = ctx.services.trainer
    job = svc.get(ctx.tenant, ctx.valid.path_params["id"])
    return JSONResponse(envelope(job, svc.lifecycle, ctx.runtime.clock.now()))


async def sample_file(request: Request) -> Response:
    """Sample outputs of a finished LoRA: public like a CDN URL, real JPEGs."""
    services = services_of(request)
    svc = services.trainer
    runtime: Runtime = request.app.state.runtime
    name = request.path_params["name"]
    try:
        job = svc.get(None, request.path_params["job_id"])
    except NotFound:
        return error_response(FAMILY, 404, "Not Found")
    kind, _, rest = name.partition("_")
    done = job.state_at(runtime.clock.now()).state == svc.lifecycle.happy_path()[-1]
    if not done or kind not in ("sample", "thumb") or not rest.removesuffix(".jpg").isdigit():
        return error_response(FAMILY, 404, "Not Found")
    n = int(rest.removesuffix(".jpg"))
    trigger = job.args.get("trigger_word")
    params = {
        "finetune_id": trigger,
        "prompt": f"{trigger}, sample {n}",
        "seed": n,
        "steps": job.args.get("num_iterations"),
        "aspect_ratio": "1:1",
    }
    data = await anyio.to_thread.run_sync(images.render, params)
    if kind == "thumb":
        data = await anyio.to_thread.run_sync(_thumbnail, data)
    return Response(data, media_type="image/jpeg")


def _thumbnail(data: bytes) -> bytes:
    # Pillow is imported at the first image, not at start: most runs never open one
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail((256, 256))
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=80)
    return out.getvalue()


HANDLERS: dict[str, Handler] = {
    "lora_trainer_finetune_create": create,
    "lora_trainer_finetune_status": status,
}
