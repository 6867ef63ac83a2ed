"""The named drifts the self-test's proxy can apply: each says what it changes on requests,
on answers and on webhook payloads, and keeps what it needs to know in the proxy's state."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote

HOOK_PATH = "/_drift/hook"

_TEXTUAL = ("application/json", "text/", "application/xml", "application/problem+json")
_V2_POLL = re.compile(r"^/v2/requests/[^/]+(/status)?$")
_DETAILS = ("GET", "/finetune/request/details")
_SUBMIT = ("POST", "/finetune/request/submit")


@dataclass
class ProxyState:
    """What one running proxy knows: both base URLs and what it has seen so far."""

    target: str
    public: str
    seen_available: set[str] = field(default_factory=set)
    hooks: dict[str, str] = field(default_factory=dict)  # our hook URL → the client's URL
    signatures: dict[str, str] = field(default_factory=dict)  # storage path → its signed query


@dataclass
class Outgoing:
    """A request on its way to the target."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    query: str = ""  # the raw query string, without "?"


@dataclass
class Answer:
    """The target's answer on its way back to the client."""

    method: str
    path: str
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def textual(self) -> bool:
        return self.headers.get("content-type", "").startswith(_TEXTUAL)

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        if not self.headers.get("content-type", "").startswith("application/json"):
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def set_json(self, value: Any) -> None:
        self.body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()

    def is_(self, route: tuple[str, str], status: int | None = 200) -> bool:
        return (self.method, self.path) == route and status in (None, self.status)


def _nothing(_: Any, __: ProxyState) -> None:
    return None


def _same(payload: Any) -> Any:
    return payload


@dataclass(frozen=True)
class Drift:
    """One named way the target drifts: on requests, on answers, on webhook payloads."""

    on_request: Callable[[Outgoing, ProxyState], None] = _nothing
    on_answer: Callable[[Answer, ProxyState], None] = _nothing
    on_hook: Callable[[Any], Any] = _same


# --- the answer drifts ------------------------------------------------------------------


def _edit_finetune(answer: Answer, edit: Callable[[dict[str, Any]], None]) -> None:
    """Edit the `finetune` object of a 200 details answer."""
    body = answer.json() if answer.is_(_DETAILS) else None
    finetune = body.get("finetune") if isinstance(body, dict) else None
    if isinstance(finetune, dict):
        edit(finetune)
        answer.set_json(body)


def rename_finetune_id(answer: Answer, _: ProxyState) -> None:
    body = answer.json() if answer.is_(_SUBMIT) else None
    if isinstance(body, dict) and "finetune_id" in body:
        body["finetuneId"] = body.pop("finetune_id")
        answer.set_json(body)


def public_model_as_string(answer: Answer, _: ProxyState) -> None:
    _edit_finetune(answer, lambda finetune: finetune.update(public_model="false"))


def drop_list_names(answer: Answer, _: ProxyState) -> None:
    body = answer.json() if answer.is_(("GET", "/finetune/request/list")) else None
    if isinstance(body, list):
        for item in body:
            if isinstance(item, dict):
                item.pop("name", None)
        answer.set_json(body)


def status_outside_enum(answer: Answer, _: ProxyState) -> None:
    _edit_finetune(answer, lambda finetune: finetune.update(status="TRAINING_STARTED"))


def submit_as_201(answer: Answer, _: ProxyState) -> None:
    if answer.is_(_SUBMIT):
        answer.status = 201


def failed_as_200(answer: Answer, _: ProxyState) -> None:
    if answer.method == "GET" and _V2_POLL.match(answer.path) and answer.status == 422:
        answer.status = 200


def skip_to_available(answer: Answer, _: ProxyState) -> None:
    def edit(finetune: dict[str, Any]) -> None:
        if finetune.get("status") in ("TRAINING", "TRAINING_COMPLETED", "INFERENCE_QUEUED"):
            finetune["status"] = "AVAILABLE"

    _edit_finetune(answer, edit)


def back_to_training(answer: Answer, state: ProxyState) -> None:
    def edit(finetune: dict[str, Any]) -> None:
        job_id = str(finetune.get("finetune_id") or finetune.get("request_id"))
        if job_id in state.seen_available:
            finetune["status"] = "TRAINING"
        elif finetune.get("status") == "AVAILABLE":
            state.seen_available.add(job_id)

    _edit_finetune(answer, edit)


def expired_put_accepted(answer: Answer, _: ProxyState) -> None:
    if answer.method == "PUT" and answer.path.startswith("/storage/") and answer.status == 403:
        answer.status, answer.body = 200, b""
        answer.headers.pop("content-type", None)


# --- the webhook drift: hooks registered through the proxy come back through it --------


def wrap_webhook_url(request: Outgoing, state: ProxyState) -> None:
    """POST /webhook/add: register our hook in place of the client's URL."""
    if (request.method, request.path) != ("POST", "/webhook/add"):
        return
    with contextlib.suppress(ValueError):
        body = json.loads(request.body)
        if isinstance(body, dict) and isinstance(body.get("webhook_url"), str):
            original = body["webhook_url"]
            hook = f"{state.public}{HOOK_PATH}?to={quote(original, safe='')}"
            state.hooks[hook] = original
            body["webhook_url"] = hook
            request.body = json.dumps(body).encode()


def unwrap_webhook_urls(answer: Answer, state: ProxyState) -> None:
    """Answers show the client the URL it registered, not our hook."""
    if answer.textual:
        for hook, original in state.hooks.items():
            answer.body = answer.body.replace(hook.encode(), original.encode())


def drop_trained_model_url(payload: Any) -> Any:
    if isinstance(payload, dict) and payload.get("event") == "TRAINING_COMPLETED":
        payload.pop("trained_model_url", None)
    return payload


# --- the drifts of plausible but wrong servers -----------------------------------------


def server_error(answer: Answer, _: ProxyState) -> None:
    """500 to every request, in each family's documented error shape (so only the status is
    wrong: a valid request must succeed, even where the spec documents a 500)."""
    detail = "detail" if answer.path.startswith("/lora-trainer") else "error"
    answer.status = 500
    answer.headers["content-type"] = "application/json"
    answer.set_json({detail: "Internal Server Error"})


def _edit_statuses(answer: Answer, edit: Callable[[str], str]) -> None:
    """Edit the fine-tune status of a 200 details answer and of every job a 200 list holds."""
    _edit_finetune(answer, lambda finetune: finetune.update(status=edit(finetune["status"])))
    body = answer.json() if answer.is_(("GET", "/finetune/request/list")) else None
    if isinstance(body, list):
        for item in body:
            if isinstance(item, dict) and isinstance(item.get("status"), str):
                item["status"] = edit(item["status"])
        answer.set_json(body)


def stuck_in_requested(answer: Answer, _: ProxyState) -> None:
    _edit_statuses(answer, lambda status: "REQUESTED")


def lower_case_status(answer: Answer, _: ProxyState) -> None:
    _edit_statuses(answer, str.lower)


SHARED_KEY = "drift-every-key-is-this-one"


def one_shared_key(request: Outgoing, _: ProxyState) -> None:
    """Every non-empty key becomes one key: every key sees every job (a missing key is still
    refused, so only tenancy is broken)."""
    if request.headers.get("x-api-key"):
        request.headers["x-api-key"] = SHARED_KEY


#: A download URL's S3 v2 query auth (AWSAccessKeyId, Signature, Expires), on storage URLs.
_SIGNED_DOWNLOAD = re.compile(rb"(/storage/[^\s\"?]+)\?([^\s\"]*Signature=[^\s\"]*)")


def strip_download_signatures(answer: Answer, state: ProxyState) -> None:
    """Download URLs reach the client neither signed nor expiring; the proxy remembers each
    one's signed query to put it back on the way in (see `resign_downloads`)."""
    if not answer.textual:
        return

    def strip(match: re.Match[bytes]) -> bytes:
        query = match.group(2).decode("latin-1")
        if "X-Amz-" in query:  # an upload URL: left signed
            return match.group(0)
        state.signatures[match.group(1).decode("latin-1")] = query
        return match.group(1)

    answer.body = _SIGNED_DOWNLOAD.sub(strip, answer.body)


def resign_downloads(request: Outgoing, state: ProxyState) -> None:
    """The target accepts the unsigned URLs: a storage GET/HEAD without a signature gets the
    signed query the proxy stripped from it (one sent with a signature stays as sent)."""
    if (
        request.method in ("GET", "HEAD")
        and request.path in state.signatures
        and "Signature" not in dict(parse_qsl(request.query))
    ):
        request.query = state.signatures[request.path]


MUTATIONS: dict[str, Drift] = {
    "field_renamed": Drift(on_answer=rename_finetune_id),
    "type_changed": Drift(on_answer=public_model_as_string),
    "required_dropped": Drift(on_answer=drop_list_names),
    "enum_added": Drift(on_answer=status_outside_enum),
    "status_changed": Drift(on_answer=submit_as_201),
    "failed_as_200": Drift(on_answer=failed_as_200),
    "lifecycle_skipped": Drift(on_answer=skip_to_available),
    "lifecycle_reversed": Drift(on_answer=back_to_training),
    "webhook_field_missing": Drift(
        on_request=wrap_webhook_url,
        on_answer=unwrap_webhook_urls,
        on_hook=drop_trained_model_url,
    ),
    "expired_url_accepted": Drift(on_answer=expired_put_accepted),
    "server_error": Drift(on_answer=server_error),
    "stuck_in_requested": Drift(on_answer=stuck_in_requested),
    "lower_case_status": Drift(on_answer=lower_case_status),
    "tenancy_ignored": Drift(on_request=one_shared_key),
    "download_unsigned": Drift(on_request=resign_downloads, on_answer=strip_download_signatures),
}
