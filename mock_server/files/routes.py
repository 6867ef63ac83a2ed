"""HTTP for `/upload-asset` (data URLs in, persistent URLs out) and the public `/assets/`."""

from __future__ import annotations

import base64
import binascii
import mimetypes

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from mock_server.errors import InvalidInput
from mock_server.http.context import Handler, HandlerContext, services_of
from mock_server.http.render import error_response


def decode_data_url(data_url: str) -> tuple[str, bytes]:
    """(media type, bytes) of a `data:<type>;base64,<data>` URL (the spec checked its form)."""
    header, _, payload = data_url.partition(",")
    mime = header.removeprefix("data:").split(";")[0]
    try:
        return mime, base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("A data URL does not hold valid base64") from exc


async def upload_asset(ctx: HandlerContext) -> Response:
    storage = ctx.services.storage
    decoded = [decode_data_url(u) for u in ctx.body["data_urls"]]  # all or nothing
    urls = [f"{ctx.base_url}{storage.put_asset(ctx.tenant, m, d)}" for m, d in decoded]
    return JSONResponse({"file_urls": urls, "message": f"{len(urls)} file(s) uploaded"})


async def asset_endpoint(request: Request) -> Response:
    """Persistent asset URLs are public, like the CDN URLs they stand for."""
    services = services_of(request)
    storage = services.storage
    try:
        found = storage.file_of(request.url.path)
    except InvalidInput:
        found = None
    if found is None:
        return error_response(None, 404, "No such asset")
    media = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
    return FileResponse(found, media_type=media)


HANDLERS: dict[str, Handler] = {"files_upload_asset": upload_asset}
