"""HTTP for /storage/...: presigned PUT uploads and GET/HEAD downloads, S3-style XML errors."""

from __future__ import annotations

from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from mock_server.errors import InvalidInput
from mock_server.http.context import services_of
from mock_server.storage.blobs import Incomplete, TooLarge
from mock_server.storage.service import StorageService
from mock_server.storage.signing import SignatureProblem


def s3_error(status: int, code: str, message: str, resource: str) -> Response:
    """The XML error document S3 answers with."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"<Resource>{escape(resource)}</Resource><RequestId>tunemock</RequestId></Error>"
    )
    return Response(body, status_code=status, media_type="application/xml")


async def storage_endpoint(request: Request) -> Response:
    services = services_of(request)
    storage = services.storage
    path = request.url.path
    if request.method not in ("GET", "HEAD", "PUT"):
        return s3_error(
            405,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
            path,
        )
    try:
        storage.blobs.path_of(storage.key_of(path))
        storage.verify(
            request.method if request.method != "HEAD" else "GET", path, dict(request.query_params)
        )
    except InvalidInput as exc:
        return s3_error(400, "InvalidArgument", exc.message, path)
    except SignatureProblem as exc:
        return s3_error(403, exc.code, exc.message, path)
    if request.method == "PUT":
        return await _upload(request, storage, path)
    found = storage.file_of(path)
    if found is None:
        return s3_error(404, "NoSuchKey", "The specified key does not exist.", path)
    return FileResponse(found, media_type=_media_type(path))


async def _upload(request: Request, storage: StorageService, path: str) -> Response:
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit():
        return s3_error(
            411, "MissingContentLength", "You must provide the Content-Length HTTP header.", path
        )
    limit = request.app.state.config.max_upload_bytes
    if int(declared) > limit:
        return s3_error(
            400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", path
        )
    try:
        written = await storage.receive(path, request.stream(), limit, int(declared))
    except (TooLarge, Incomplete):
        return s3_error(
            400,
            "IncompleteBody",
            "You did not provide the number of bytes specified by the Content-Length HTTP header.",
            path,
        )
    return Response(status_code=200, headers={"ETag": f'"{written:x}"'})


def _media_type(path: str) -> str:
    return "application/zip" if path.endswith(".zip") else "application/octet-stream"
