"""Presigned upload/download URLs over the blob store; no HTTP types here."""

from __future__ import annotations

import hmac
import re
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from hashlib import sha256
from pathlib import Path
from urllib.parse import urlencode

from mock_server.runtime import Runtime
from mock_server.storage import scratch
from mock_server.storage.blobs import BlobStore
from mock_server.storage.signing import Signer
from mock_server.tenancy import SECRET_META, ensure_secret

PREFIX = "/storage/"


def storage_root(state: Path | str | None, configured: Path | None) -> Path:
    """Where blobs live: the configured folder, beside the SQLite file, or a temp dir (also
    with a database: instances sharing uploads need --storage-dir on a shared folder)."""
    if configured is not None:
        return configured
    if isinstance(state, Path):
        return state.with_name(state.name + ".blobs")
    return scratch.make()


def tenant_dir(secret: bytes, tenant: str) -> str:
    """The folder that stands for a tenant in URLs: a short HMAC of its id under the
    server's secret (the id starts with the masked key, which URLs need not show)."""
    return hmac.new(secret, b"tenant-dir\n" + tenant.encode(), sha256).hexdigest()[:16]


class StorageService:
    def __init__(self, rt: Runtime, root: Path, upload_ttl: int, download_ttl: int) -> None:
        self._rt = rt
        self.blobs = BlobStore(root)
        self._secret = ensure_secret(rt.store)
        self.signer = Signer(self._secret)
        self._upload_ttl = upload_ttl
        self._download_ttl = download_ttl

    def close(self) -> None:
        """The app stops: a scratch folder of the memory mode goes with it."""
        if scratch.owned(self.blobs.root):
            scratch.remove(self.blobs.root)

    def tenant_dir(self, tenant: str) -> str:
        return tenant_dir(self._secret, tenant)

    def after_reset(self) -> None:
        """A reset forgets uploads and artifacts, but keeps the signing secret."""
        self._rt.store.set_meta(SECRET_META, self._secret.hex())
        self.blobs.clear()

    def presign_upload(self, base_url: str, tenant: str, name: str) -> Mapping[str, str]:
        """{presigned_url, s3_url} for a PUT of one file, as the docs' pre-signed-url answers."""
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or "dataset"
        if not safe.lower().endswith(".zip"):
            safe += ".zip"
        path = f"{PREFIX}uploads/{self.tenant_dir(tenant)}/{uuid.uuid4().hex[:12]}-{safe}"
        self.blobs.path_of(self.key_of(path))  # InvalidInput now, not when the PUT comes
        query = self.signer.upload_query("PUT", path, self._rt.clock.now(), self._upload_ttl)
        return {"presigned_url": f"{base_url}{path}?{urlencode(query)}", "s3_url": base_url + path}

    def presign_download(self, base_url: str, path: str) -> str:
        query = self.signer.download_query(path, self._rt.clock.now(), self._download_ttl)
        return f"{base_url}{path}?{urlencode(query)}"

    def put_asset(self, tenant: str, mime: str, data: bytes) -> str:
        """Keep an uploaded asset; its public path (`/assets/...`), the same for the same bytes."""
        digest = sha256(data).hexdigest()[:24]
        extension = re.sub(r"[^a-z0-9]", "", mime.split("/")[-1].split("+")[0].lower())[:8]
        key = f"assets/{self.tenant_dir(tenant)}/{digest}.{extension or 'bin'}"
        if not self.blobs.exists(key):
            self.blobs.write_bytes(key, data)
        return f"/{key}"

    def key_of(self, path: str) -> str:
        """The blob key of a URL path (/storage/x -> x, /assets/x -> assets/x)."""
        return path[len(PREFIX) :] if path.startswith(PREFIX) else path.lstrip("/")

    def ensure(self, path: str, make: Callable[[], bytes]) -> None:
        """Create the blob at `path` with `make()` unless it exists (artifacts on demand)."""
        key = self.key_of(path)
        if not self.blobs.exists(key):
            self.blobs.write_bytes(key, make())

    def verify(self, method: str, path: str, query: Mapping[str, str]) -> None:
        """Raise SignatureProblem unless the presigned query holds for this request now."""
        self.signer.verify(method, path, query, self._rt.clock.now())

    async def receive(
        self, path: str, chunks: AsyncIterator[bytes], limit: int, expected: int
    ) -> int:
        return await self.blobs.write_stream(self.key_of(path), chunks, limit, expected)

    def file_of(self, path: str) -> Path | None:
        target = self.blobs.path_of(self.key_of(path))
        return target if target.is_file() else None
