"""HTTP of the dashboard (/_mock/ui): server-rendered pages, their live fragments, the event
stream and the assets. Reads through mock_server/ui/views.py; every change a page makes is
a fetch to the /_mock JSON API (static/ui.js)."""

from __future__ import annotations

import functools
import hmac
import importlib.util
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import anyio.to_thread
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from mock_server.errors import NotFound
from mock_server.finetune.domain import artifact_path_of, artifact_spec
from mock_server.http.admin_guard import COOKIE, client_address, cookie_value
from mock_server.http.context import services_of
from mock_server.spec.loader import FAMILIES
from mock_server.storage.artifacts import lora_safetensors
from mock_server.ui import events, jobs, views

if TYPE_CHECKING:
    from starlette.templating import Jinja2Templates

HERE = Path(__file__).resolve().parent
_ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
PREFIX = "/_mock/ui"


@functools.cache
def templates() -> Jinja2Templates:
    """The pages' templates, loaded at the first page asked for: Jinja is not imported by a
    mock whose dashboard nobody opens (importing it is a good part of a start)."""
    from starlette.templating import Jinja2Templates

    return Jinja2Templates(directory=HERE / "templates")


NAV = [
    ("overview", "Overview", f"{PREFIX}/"),
    ("jobs", "Jobs", f"{PREFIX}/jobs"),
    ("requests", "Requests", f"{PREFIX}/requests"),
    ("webhooks", "Webhooks", f"{PREFIX}/webhooks"),
    ("faults", "Faults & credits", f"{PREFIX}/faults"),
    ("contract", "Contract", f"{PREFIX}/contract"),
]


def swagger_dir() -> Path:
    """Swagger UI's files, from the `swagger-ui-py` package (found without importing it)."""
    found = importlib.util.find_spec("swagger_ui")
    if found is None or not found.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is missing (a tunemock dependency)")
    return Path(next(iter(found.submodule_search_locations))) / "static"


def _services(request: Request) -> views.Pages:
    return views.Pages(request.app.state.runtime, services_of(request))


def _render(request: Request, page: str, data: dict[str, Any], status: int = 200) -> Response:
    """The page, or only its live part when the page's script asks (`?fragment=1`)."""
    spec = request.app.state.spec
    context = {
        "section": page,
        "nav": NAV,
        "prefix": PREFIX,
        "export": any(op.operation_id == "admin_scenario_export" for op in spec.operations),
        "query": request.url.query,
        **data,
    }

    def page_link(number: int) -> str:
        url = request.url.include_query_params(page=number).remove_query_params("fragment")
        return f"{url.path}?{url.query}"

    context["page_link"] = page_link
    fragment = request.query_params.get("fragment") == "1"
    name = f"{page}_live.html" if fragment else f"{page}.html"
    return templates().TemplateResponse(request, name, context, status_code=status)


async def _read(request: Request, view: Any, *args: Any) -> dict[str, Any]:
    data: dict[str, Any] = await anyio.to_thread.run_sync(view, _services(request), *args)
    return data


def _int(request: Request, name: str) -> int:
    try:
        return int(request.query_params.get(name, "1"))
    except ValueError:
        return 1


async def overview(request: Request) -> Response:
    return _render(request, "overview", await _read(request, views.overview))


async def job_list(request: Request) -> Response:
    q = request.query_params
    chosen = jobs.JobFilter(q.get("tenant"), q.get("kind"), q.get("state"), _int(request, "page"))
    data = await _read(request, jobs.job_rows, chosen)
    return _render(request, "jobs", {**data, "filter": chosen})


async def job(request: Request) -> Response:
    kind, job_id = request.path_params["kind"], request.path_params["id"]
    try:
        data = await _read(request, jobs.job_page, kind, job_id)
    except NotFound as exc:
        return _render(request, "missing", {"message": str(exc)}, status=404)
    return _render(request, "job", data)


async def model_file(request: Request) -> Response:
    """A trained job's .safetensors: made on first ask (as the download API does), then a
    redirect to its signed storage URL."""
    s = _services(request)
    job_id = request.path_params["id"]
    try:
        found = s.services.finetune.get(None, job_id)
        view = await _read(request, jobs.job_page, "finetune", job_id)
    except NotFound as exc:
        return _render(request, "missing", {"message": str(exc)}, status=404)
    if not view["artifacts"]:
        return _render(request, "missing", {"message": "Not trained yet"}, status=404)
    path = artifact_path_of(found)
    rank, metadata = artifact_spec(found)
    storage = s.services.storage
    storage.ensure(path, lambda: lora_safetensors(found.id, rank, metadata))
    return RedirectResponse(storage.presign_download("", path), status_code=303)


async def journal(request: Request) -> Response:
    return _render(
        request, "requests", await _read(request, views.journal_rows, _int(request, "page"))
    )


async def webhooks(request: Request) -> Response:
    chosen = request.query_params.get("outcome")
    return _render(request, "webhooks", await _read(request, views.webhooks_page, chosen))


async def faults(request: Request) -> Response:
    return _render(request, "faults", await _read(request, views.faults_page))


async def contract(request: Request) -> Response:
    chosen = request.query_params.get("spec", FAMILIES[0])
    if chosen not in FAMILIES:
        chosen = FAMILIES[0]
    return _render(request, "contract", {"specs": FAMILIES, "chosen": chosen})


async def spec_json(request: Request) -> Response:
    """A family's spec for Swagger UI, its servers pointed at this mock (so "Try it out"
    stays local)."""
    name = request.path_params["name"]
    docs = request.app.state.spec.documents
    if name not in docs:
        return Response("No such spec", status_code=404, media_type="text/plain")
    ops = [op for op in request.app.state.spec.operations if op.family == name]
    prefix = ops[0].prefix if ops else ""
    raw = {**docs[name].raw, "servers": [{"url": prefix or "/"}]}
    return Response(json.dumps(raw, default=str), media_type="application/json")


async def event_stream(request: Request) -> Response:
    once = request.query_params.get("once") == "1"
    return StreamingResponse(
        events.stream(_services(request), once=once),
        media_type="text/event-stream",
        headers={"cache-control": "no-store"},
    )


_LOGIN_BODY_LIMIT = 4096  # a token, not a document


def login_page(scope: Scope, problem: str | None) -> Response:
    """The page asking for the admin token (401): what the edge's admin guard answers to a
    dashboard page asked for without it."""
    context = {"section": "login", "nav": [], "prefix": PREFIX, "export": False}
    return templates().TemplateResponse(
        Request(scope), "login.html", {**context, "problem": problem}, status_code=401
    )


async def _form_token(request: Request) -> str:
    # read by hand, to a bound: Starlette's form parser keeps a url-encoded field of any size
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _LOGIN_BODY_LIMIT:
            return ""
    values = parse_qs(body.decode("utf-8", "replace"), max_num_fields=4)
    return (values.get("token") or [""])[0]


async def login(request: Request) -> Response:
    """GET: the token form; POST: the token checked, then a cookie holding a value derived
    from it (HttpOnly; SameSite=Lax: a cross-site fetch or form post never carries it)."""
    token: str | None = request.app.state.config.admin_token
    if token is None:
        return RedirectResponse(f"{PREFIX}/", status_code=303)
    if request.method != "POST":
        return login_page(request.scope, None)
    given = await _form_token(request)
    if not hmac.compare_digest(given.encode(), token.encode()):
        # counted: the edge's admin guard answers 429 to an address with too many
        request.app.state.token_tries.failed(client_address(request.scope))
        return login_page(request.scope, "That is not the admin token.")
    answer = RedirectResponse(f"{PREFIX}/", status_code=303)
    answer.set_cookie(COOKIE, cookie_value(token), path="/_mock", httponly=True, samesite="lax")
    return answer


async def unknown_page(request: Request) -> Response:
    """Any other path under the dashboard: a page saying so, in the dashboard's frame (the
    vendor API's unknown paths stay JSON, in the vendor's format). A method other than GET
    or HEAD is no browser's visit: the app's 404 handler answers it like any unknown path."""
    if request.method not in ("GET", "HEAD"):
        raise HTTPException(404)
    message = f"The dashboard has no page at {request.url.path}."
    return _render(request, "missing", {"message": message}, status=404)


async def to_overview(request: Request) -> Response:
    return RedirectResponse(f"{PREFIX}/", status_code=307)


def routes() -> list[BaseRoute]:
    """What app.create_app mounts before its catch-all route."""
    inner = [
        Route("/", overview),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/jobs", job_list),
        Route("/jobs/finetune/{id}/model.safetensors", model_file),
        Route("/jobs/{kind}/{id}", job),
        Route("/requests", journal),
        Route("/webhooks", webhooks),
        Route("/faults", faults),
        Route("/contract", contract),
        Route("/specs/{name}.json", spec_json),
        Route("/events", event_stream),
        Mount("/static", StaticFiles(directory=HERE / "static")),
        Mount("/swagger", StaticFiles(directory=swagger_dir())),
        Route("/{rest:path}", unknown_page, methods=_ANY_METHOD),
    ]
    return [Route(PREFIX, to_overview), Mount(PREFIX, routes=inner)]
