"""Secrets out of what the proxy records: keys in headers, signatures and credentials in URLs,
bearer tokens, key-looking fields of JSON bodies. A recording is shared with maintainers and
attached to issues: it must be safe to publish as it is."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[redacted]"

#: Headers that carry a credential, whole.
SECRET_HEADERS = frozenset(
    {
        "x-api-key",
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-amz-security-token",
        "webhook-signature",
    }
)

#: Name fragments of query parameters and JSON fields that hold a credential (S3's
#: X-Amz-Signature / X-Amz-Credential / X-Amz-Security-Token, the older Signature and
#: AWSAccessKeyId, and the usual api_key / token / secret / password fields).
_SECRET_NAME = re.compile(
    r"signature|credential|security-?token|accesskeyid|api[-_]?key|apikey|secret|password|"
    r"(^|[-_])token$|^token|^key$",
    re.IGNORECASE,
)

#: `name=value` in a URL (or any text holding one) whose name looks secret.
_QUERY_PAIR = re.compile(r"(?P<name>[A-Za-z0-9_.-]+)=(?P<value>[^&\s\"'<>#]*)")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")


def secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def _pair(match: re.Match[str]) -> str:
    if secret_name(match.group("name")) and match.group("value"):
        return f"{match.group('name')}={REDACTED}"
    return match.group(0)


def text(value: str, secrets: Iterable[str] = ()) -> str:
    """`value` with secret query parameters, bearer tokens and the given literal secrets
    (the client's own key, wherever an answer echoes it) replaced."""
    for secret in secrets:
        if len(secret) >= 4:  # a 1-3 character "key" would blank out ordinary text
            value = value.replace(secret, REDACTED)
    value = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", value)
    return _QUERY_PAIR.sub(_pair, value)


def headers(pairs: Iterable[tuple[str, str]], secrets: Iterable[str] = ()) -> list[list[str]]:
    kept = list(secrets)
    return [
        [name, REDACTED if name.lower() in SECRET_HEADERS else text(value, kept)]
        for name, value in pairs
    ]


def json_value(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A JSON value with key-looking fields blanked and every string redacted as text."""
    kept = list(secrets)
    if isinstance(value, Mapping):
        return {
            k: REDACTED if secret_name(str(k)) and value[k] else json_value(value[k], kept)
            for k in value
        }
    if isinstance(value, list):
        return [json_value(item, kept) for item in value]
    if isinstance(value, str):
        return text(value, kept)
    return value


def _secret_field(value: Any) -> bool:
    """True when some field of a JSON value has a key-looking name and a value."""
    if isinstance(value, Mapping):
        return any((secret_name(str(k)) and v) or _secret_field(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_secret_field(item) for item in value)
    return False


def body(data: bytes, media_type: str | None, secrets: Iterable[str] = ()) -> Any:
    """What a recording keeps of a body: its text, byte for byte but for the secrets in it
    (so a replay can answer the very bytes); parsed JSON when a key-looking field must be
    blanked; for binary bodies only their size."""
    kept = list(secrets)
    if not data:
        return None
    if media_type and "json" in media_type:
        try:
            value = json.loads(data)
        except ValueError:
            value = None
        if _secret_field(value):
            return {"json": json_value(value, kept)}
    if media_type and media_type.startswith(("multipart/", "application/octet-stream")):
        return {"bytes": len(data)}
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        return {"bytes": len(data)}
    return {"text": text(decoded, kept)}
