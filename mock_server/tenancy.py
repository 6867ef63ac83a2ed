"""Tenants as the store knows them: a salted id of the API key, never the key itself, worked
out once where a key comes in (the edge, the admin API, a scenario). Jobs, credits, webhooks,
deliveries, fault rules and the journal hold the id, so a `--state` file holds no key.

An id reads `<masked key>~<16 hex>`: the masked part lets a person tell tenants apart (the
dashboard, the journal), the hex is an HMAC-SHA256 of the key under the server's secret
(created once, kept in the store, shared by its workers, surviving a reset). A plain hash
would not do: a short or guessable key is looked up in a table, and matches across servers.
What the id cannot do is hide a guessable key from someone holding the file and its secret.

The keys a process has seen stay in its memory (a bounded number), so the admin API can name
a tenant by the key a user knows, and export it on request. No HTTP here."""

from __future__ import annotations

import hmac
import re
import secrets
import threading
from hashlib import sha256

from mock_server.store import Store

SECRET_META = "storage.secret"  # the name it had when only storage URLs used it
_ID = re.compile(r"~[0-9a-f]{16}\Z")
_MASKED = re.compile(r"\A[^…]{0,4}…[^…]{0,2}\Z")  # what mask_secret makes
_SEPARATOR = "~"


def ensure_secret(store: Store) -> bytes:
    """The per-server secret, created once and kept in the store (shared by workers)."""
    stored = store.update_meta(SECRET_META, lambda old: old or secrets.token_hex(32))
    return bytes.fromhex(str(stored))


def mask_secret(secret: str) -> str:
    """Enough of a key to tell keys apart, never enough to use or guess one: at most a quarter
    of a key under 16 characters (nothing of one under 4), 6 of a longer one. A masked value
    stays as it is (the journal masks at capture, and its pages mask what they show)."""
    if not secret or _MASKED.match(secret):
        return secret
    if len(secret) < 16:
        return secret[: len(secret) // 4] + "…"
    return f"{secret[:4]}…{secret[-2:]}"


def is_tenant_id(text: str) -> bool:
    """Whether `text` has an id's shape (the admin API takes an id wherever it takes a key)."""
    return _ID.search(text) is not None


def label(tenant: str) -> str:
    """A short name for a tenant on a page: its masked key and the start of its id."""
    if not is_tenant_id(tenant):  # not an id: never shown whole
        return mask_secret(tenant)
    return tenant[:-12]


class TenantIds:
    """Key -> tenant id, and back for the keys this process has seen (at most `remember`,
    the oldest forgotten first: any string is a key, and a flood of them costs no memory)."""

    def __init__(self, secret: bytes, remember: int = 10_000) -> None:
        self._secret = secret
        self._remember = remember
        self._ids: dict[str, str] = {}
        self._keys: dict[str, str] = {}
        self._lock = threading.Lock()

    def of(self, key: str) -> str:
        """The tenant id of an API key (remembering the key)."""
        found = self._ids.get(key)
        if found is not None:
            return found
        digest = hmac.new(self._secret, b"tenant\n" + key.encode(), sha256).hexdigest()[:16]
        tenant = f"{mask_secret(key)}{_SEPARATOR}{digest}"
        with self._lock:
            if len(self._ids) >= self._remember:
                oldest = next(iter(self._ids))
                self._keys.pop(self._ids.pop(oldest), None)
            self._ids[key] = tenant
            self._keys[tenant] = key
        return tenant

    def given(self, text: str) -> str:
        """The tenant the admin API is given: an id as it showed one, else a key's id."""
        return text if is_tenant_id(text) else self.of(text)

    def key_of(self, tenant: str) -> str | None:
        """The key of a tenant, if this process has seen it."""
        return self._keys.get(tenant)

    def shown(self, tenant: str) -> str:
        """How the admin API names a tenant: by its key when this process has seen it (the
        name a user knows), else by its id."""
        return self._keys.get(tenant, tenant)
