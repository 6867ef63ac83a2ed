"""The admin surface's guard at the edge (`/_mock`, the dashboard included): the Host
allow-list, the admin token, and no state change from a body a web page can send unasked.

Why each rule, against whom:
- A page the developer opens can POST to 127.0.0.1 with `mode: 'no-cors'`: the browser
  sends it without asking, if its body is text/plain, a form or empty (the CORS-safelisted
  kinds). Any other content type (JSON, YAML) makes the browser ask first (a preflight the
  mock never grants), so state-changing admin routes take only the media types their spec
  operation declares, and application/json. A valid token header passes as well.
- DNS rebinding sends the page's own host name in `Host`; the allow-list refuses it before
  anything is read or changed. It covers the admin surface only: the vendor routes need a
  tenant's key (a rebinding page has none), and presigned URLs, the drift proxy (it
  forwards the client's Host) and clients behind other names must keep working there.
- `--admin-token` closes the admin surface to anyone without it: header
  (`Authorization: Bearer`, `x-admin-token`) or the cookie the dashboard's login sets. Wrong
  tokens are counted per client address (token_tries.py): after a few, every try from that
  address answers 429 for a while."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Collection
from urllib.parse import urlsplit

from starlette.requests import cookie_parser
from starlette.responses import Response
from starlette.types import Scope

from mock_server.http.call import Call
from mock_server.http.render import error_response
from mock_server.http.token_tries import TokenTries

ADMIN_PREFIX = "/_mock"
ADMIN_FAMILY = "mock-admin"
COOKIE = "tunemock_admin"
LOGIN_PATH = "/_mock/ui/login"
#: what the login page needs before anyone has logged in (styles; no state, no secrets)
_OPEN_PATHS = (LOGIN_PATH, "/_mock/ui/static/")
#: the methods that carry a body. DELETE carries none in the admin API, and like PUT and PATCH
#: a browser never sends it cross-site without a preflight (which the mock never grants); it
#: is listed for the body rule's sake only where a page could send it unasked: POST
_CHANGING = frozenset({"POST", "PUT", "PATCH"})
#: what a page may send cross-site without asking (the Fetch standard's CORS-safelisted
#: content types, and none at all): refused whatever an operation declares
_UNASKED = frozenset({"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"})
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
_WILDCARDS = ("0.0.0.0", "::", "")

#: The dashboard's answer to a page asked for without the token: its login page (status 401).
LoginPage = Callable[[Scope, str | None], Response]


def cookie_value(token: str) -> str:
    """What the login cookie holds: derived from the token, so the cookie is not the token
    (a cookie leaks more easily: browser profiles, proxies' logs)."""
    return hmac.new(token.encode(), b"tunemock-admin-cookie", hashlib.sha256).hexdigest()


def client_address(scope: Scope) -> str:
    """The address a request came from ("" when the server gives none)."""
    client = scope.get("client")
    return str(client[0]) if client else ""


def is_loopback(host: str) -> bool:
    return host.strip("[]").lower() in LOOPBACK_NAMES or host.startswith("127.")


def default_allowed_hosts(bound: str) -> tuple[str, ...] | None:
    """The Host names the admin surface answers for a bind: the bound name, plus the
    loopback names when bound to loopback. None (any Host) for a wildcard bind: every name
    of the machine reaches it, and such a bind has a token (or --insecure-admin), which a
    rebinding page does not have."""
    if bound in _WILDCARDS:
        return None
    if is_loopback(bound):
        return (*LOOPBACK_NAMES, bound.strip("[]").lower())
    return (bound.strip("[]").lower(),)


def _host_name(host_header: str) -> str:
    """The name in a Host header, without its port (`[::1]:8000` -> `::1`)."""
    parsed = urlsplit(f"//{host_header}")
    try:
        return (parsed.hostname or "").lower()
    except ValueError:  # a malformed bracket: no name we allow
        return ""


def declared_media_types(call: Call) -> Collection[str]:
    """The body media types the request's spec operation declares (the scenario takes YAML)."""
    if call.found is None:
        return ()
    body = call.found[0].raw.get("requestBody") or {}
    return tuple(body.get("content") or ())


class AdminGuard:
    """`refusal` answers a request to `/_mock` that must not go on, or returns None."""

    def __init__(
        self,
        token: str | None,
        allowed_hosts: Collection[str] | None,
        login_page: LoginPage,
        tries: TokenTries | None = None,
    ) -> None:
        self.token = token or None
        self.tries = tries or TokenTries()
        self.cookie = cookie_value(token) if token else None
        self.allowed = None if allowed_hosts is None else {h.lower() for h in allowed_hosts}
        if self.allowed is not None and "*" in self.allowed:
            self.allowed = None
        self.login_page = login_page

    def _host_ok(self, call: Call) -> bool:
        return self.allowed is None or _host_name(call.headers.get("host", "")) in self.allowed

    def _token_header(self, call: Call) -> str | None:
        given = call.headers.get("x-admin-token")
        if given is None:
            scheme, _, value = call.headers.get("authorization", "").partition(" ")
            given = value.strip() if scheme.lower() == "bearer" else None
        return given

    def _token_ok(self, given: str | None) -> bool:
        return (
            self.token is not None
            and given is not None
            and hmac.compare_digest(given.encode(), self.token.encode())
        )

    def _cookie_ok(self, call: Call) -> bool:
        if self.cookie is None:
            return False
        value = cookie_parser(call.headers.get("cookie", "")).get(COOKIE, "")
        return hmac.compare_digest(value.encode(), self.cookie.encode())

    def refusal(self, scope: Scope, call: Call) -> Response | None:
        path = call.path
        if not (path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")):
            return None
        if not self._host_ok(call):
            return error_response(
                ADMIN_FAMILY,
                403,
                "This Host is not one the admin API answers for (DNS rebinding guard); "
                "add it with --allowed-hosts",
            )
        given = self._token_header(call)
        if self.token is not None and (
            given is not None or (call.method == "POST" and path.startswith(LOGIN_PATH))
        ):
            wait = self.tries.wait(client_address(scope))
            if wait:
                return self._too_many(scope, call, wait)
        header_ok = self._token_ok(given)
        if given is not None and self.token is not None and not header_ok:
            self.tries.failed(client_address(scope))
        locked = self.token is not None and not path.startswith(_OPEN_PATHS)
        if locked and not (header_ok or self._cookie_ok(call)):
            return self._unauthorized(scope, call)
        if call.method in _CHANGING and not header_ok and not path.startswith(LOGIN_PATH):
            kind = call.headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if kind in _UNASKED or (
                kind != "application/json" and kind not in declared_media_types(call)
            ):
                return error_response(
                    ADMIN_FAMILY,
                    415,
                    f"{call.method} {path} takes a JSON body (content-type: application/json, "
                    f"{{}} when there is nothing to say), not {kind or 'no content type'}: "
                    "a web page can send the other kinds without asking",
                )
        return None

    def _too_many(self, scope: Scope, call: Call, wait: int) -> Response:
        message = f"Too many wrong admin tokens from this address: retry after {wait} s"
        headers = {"retry-after": str(wait)}
        if call.path.startswith(LOGIN_PATH):  # the dashboard's form: its page, saying why
            page = self.login_page(scope, message)
            page.status_code = 429
            page.headers.update(headers)
            return page
        return error_response(ADMIN_FAMILY, 429, message, headers=headers)

    def _unauthorized(self, scope: Scope, call: Call) -> Response:
        if call.method == "GET" and call.path.startswith("/_mock/ui"):
            return self.login_page(scope, None)
        return error_response(
            ADMIN_FAMILY,
            401,
            "The admin API needs the admin token: Authorization: Bearer <token> or "
            "x-admin-token: <token>",
            headers={"www-authenticate": 'Bearer realm="tunemock admin"'},
        )
