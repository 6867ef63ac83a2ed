"""The app factory: one Starlette app serving every API family of the contract plus `/_mock`."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server import scenario
from mock_server.admin import dashboard_ops
from mock_server.admin import routes as admin_routes
from mock_server.config import Config
from mock_server.config_check import check_groups
from mock_server.errors import ConfigError, DomainError, StateUnavailable
from mock_server.files import routes as files_routes
from mock_server.finetune import routes as finetune_routes
from mock_server.http.admin_guard import AdminGuard
from mock_server.http.auth import ApiKeyAuth
from mock_server.http.capture import register_codec
from mock_server.http.context import Handler
from mock_server.http.cors import VendorCors
from mock_server.http.disk import full_disk
from mock_server.http.dispatch import Dispatcher
from mock_server.http.edge import EdgeParts, MockApp
from mock_server.http.faults import ConnectionAbort, FaultInjection, InjectedDrop
from mock_server.http.journal import RequestJournal
from mock_server.http.ratelimit import RateLimit
from mock_server.http.render import error_response
from mock_server.http.replay import Replayer
from mock_server.http.token_tries import TokenTries
from mock_server.http.validation import RequestValidator
from mock_server.inference import routes as inference_routes
from mock_server.inference.domain import FAMILY as INFERENCE_FAMILY
from mock_server.replay import ReplayBook, read_recording
from mock_server.runtime import Runtime
from mock_server.scenario import ScenarioServices
from mock_server.scenario import routes as scenario_routes
from mock_server.services import build_services
from mock_server.spec import load_specs
from mock_server.storage.routes import storage_endpoint
from mock_server.store import Store
from mock_server.trainer import routes as trainer_routes
from mock_server.ui import routes as dashboard
from mock_server.webhooks import routes as webhook_routes

log = logging.getLogger("tunemock")

_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

#: Handlers of every family, by operationId (operations without one answer 501).
HANDLERS: Mapping[str, Handler] = {
    **finetune_routes.HANDLERS,
    **inference_routes.HANDLERS,
    **trainer_routes.HANDLERS,
    **files_routes.HANDLERS,
    **webhook_routes.HANDLERS,
    **admin_routes.HANDLERS,
    **dashboard_ops.HANDLERS,
    **scenario_routes.HANDLERS,
}


def _load_scenario(services: ScenarioServices, config: Config) -> None:
    assert config.scenario is not None
    try:
        document = scenario.read_file(services.rt.spec, config.scenario)
        scenario.ScenarioLoader(services).load(document, f"http://{config.host}:{config.port}")
    except DomainError as exc:
        raise ConfigError(f"--scenario {config.scenario}: {exc.message}") from exc


def _replayer(config: Config) -> Replayer | None:
    if config.replay is None:
        return None
    try:
        return Replayer(ReplayBook(read_recording(config.replay)))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--replay {config.replay}: {exc}") from exc


def _prefixes(routes: list[BaseRoute]) -> tuple[str, ...]:
    """Where each route's path starts (the text before its first parameter)."""
    return tuple(str(getattr(route, "path", "")).split("{", 1)[0] for route in routes)


def create_app(config: Config | None = None, store: Store | None = None) -> Starlette:
    """Build the mock for `config` (defaults: in-memory state, real clock, fast timing)."""
    config = config or Config()
    spec = load_specs(config.spec_dir)
    groups = [op.operation_id for op in spec.operations if op.operation_id]
    check_groups(config.rate_limits, config.key_settings, [*groups, *spec.documents])
    register_codec()  # the journal's entries, packed into a SQLite file, read back as such
    rt = Runtime.build(config, spec, store)
    services = build_services(rt)
    if config.scenario is not None:  # a bad file stops the start (ConfigError)
        _load_scenario(services.scenario, config)
    handlers = dict(HANDLERS)
    for op in spec.operations:  # every /v1/<model> and /v2/<model> the spec lists
        found = inference_routes.handler_for_model_path(op.method, op.path)
        if found is not None and op.family == INFERENCE_FAMILY:
            handlers.setdefault(op.operation_id, found)
    dispatcher = Dispatcher(rt, handlers, services, RequestValidator(spec, config.max_json_bytes))

    own_routes = [
        Route("/storage/{key:path}", storage_endpoint, methods=_ALL_METHODS),
        Route("/outputs/{name}", inference_routes.output_endpoint, methods=["GET", "HEAD"]),
        Route("/assets/{key:path}", files_routes.asset_endpoint, methods=["GET", "HEAD"]),
        Route("/lora-trainer/files/{job_id}/{name}", trainer_routes.sample_file, methods=["GET"]),
        *dashboard.routes(),  # /_mock/ui: the dashboard (pages, events, assets)
    ]
    # the edge sends every other path to the dispatcher; the catch-all serves what starts like
    # an own route but is none (/_mock/uiX)
    routes = [*own_routes, Route("/{path:path}", dispatcher.unrouted, methods=_ALL_METHODS)]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        webhooks = services.webhooks
        # deliveries a stopped or killed process left queued past their lease go out now
        await anyio.to_thread.run_sync(webhooks.recover)
        async with anyio.create_task_group() as background:
            background.start_soon(webhooks.run, config.dispatch_interval)
            yield
            background.cancel_scope.cancel()
        await webhooks.sender.aclose()
        services.storage.close()  # the memory mode's scratch folder
        # a stop loses nothing: the journal's last batch is written, and SQLite's log is
        # checkpointed into the file as its last connection closes (kill -9 still loses at
        # most the journal's last batch interval, and no job). A store given to create_app
        # is its caller's to close.
        if store is None:
            rt.store.close()

    async def unroutable(request: Request, exc: Exception) -> Response:
        # a path under an own route's prefix that no own route's pattern holds (a newline in
        # a parameter): the dispatcher answers it like any unknown path, in the vendor's format
        return await dispatcher.unrouted(request)

    async def crashed(request: Request, exc: Exception) -> Response:
        # a bug of the mock: logged with its traceback, answered in the vendor's format
        # (the journal records the 500), never as a bare text page; a full disk is no bug
        full = full_disk(exc)
        if full is not None:
            services.disk.saw(full, datetime.now(UTC))
            log.warning("disk full on %s %s: %s", request.method, request.url.path, full)
            family = dispatcher.family_for_path(request.url.path)
            return error_response(family, 507, f"Insufficient storage on the mock: {full}")
        if isinstance(exc, StateUnavailable):  # no bug either: the database is down
            log.warning("%s %s: %s", request.method, request.url.path, exc.message)
            family = dispatcher.family_for_path(request.url.path)
            return error_response(family, 503, exc.message, headers={"Retry-After": "1"})
        if not isinstance(exc, InjectedDrop):
            log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        family = dispatcher.family_for_path(request.url.path)
        return error_response(family, 500, "Internal server error (a tunemock bug; see its log)")

    token_tries = TokenTries()  # wrong admin tokens: the guard's headers, the login form
    parts = EdgeParts(
        spec=spec,
        app_prefixes=_prefixes(own_routes),
        journal=RequestJournal(rt.store, rt.tenants, config.journal_size),
        # faults act on everything a vendor route does (admin routes exempt)
        faults=FaultInjection(services.faults, dispatcher.family_for_path),
        limits=RateLimit(config.rate_limits, rt.store),
        keys=ApiKeyAuth(rt.tenants, frozenset(config.api_keys), config.key_settings),
        admin=AdminGuard(
            config.admin_token, config.allowed_hosts, dashboard.login_page, token_tries
        ),
        dispatcher=dispatcher,
        crashed=crashed,
        view=rt.store.view,
        replay=_replayer(config),
    )
    # around the edge, outermost first: the connection's abort (drop and truncate faults;
    # it needs the server's own `send`), then CORS (a preflight is answered before any key,
    # limit or fault applies)
    outer = [Middleware(ConnectionAbort)]
    if config.cors:
        outer.append(Middleware(VendorCors, origins=config.cors))
    app = MockApp(
        parts,
        outer=outer,
        routes=routes,
        lifespan=lifespan,
        exception_handlers={404: unroutable, Exception: crashed},
    )
    app.state.config = config
    app.state.spec = spec
    app.state.runtime = rt
    app.state.services = services
    app.state.dispatcher = dispatcher
    app.state.token_tries = token_tries
    return app
