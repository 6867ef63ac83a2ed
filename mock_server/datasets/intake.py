"""Check a submitted dataset: read it from mock storage or fetch it, then inspect it."""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from mock_server.datasets.fetch import fetch_public
from mock_server.datasets.inspect import DatasetProblem, DatasetRules, inspect_zip
from mock_server.errors import InvalidInput
from mock_server.outbound import Outbound
from mock_server.storage.service import StorageService

_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def _same_server(target: SplitResult, base_url: str) -> bool:
    """Is `target` on this mock (as the client reached it, or through loopback on its port)?"""
    own = urlsplit(base_url)
    if target.netloc == own.netloc:
        return True
    return target.hostname in _LOOPBACK and own.hostname in _LOOPBACK and target.port == own.port


def parse_url(url: str, field: str = "data_source_path") -> SplitResult:
    """The parts of an http(s) URL, or InvalidInput (a 400 naming `field`) for text that
    urlsplit or httpx refuse ("http://[", a port out of range, no host): such a URL can
    neither be fetched nor fail a job later."""
    import httpx  # at the first URL, not at start (see outbound.call_errors)

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as exc:
        raise InvalidInput(f"{field} is not a usable URL: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"{field} must be an http(s) URL with a host")
    return parts


class DatasetIntake:
    """`check` returns None for a usable dataset, else the message the job fails with."""

    def __init__(self, storage: StorageService, mode: str, outbound: Outbound) -> None:
        self._storage = storage
        self._mode = mode  # "fetch" (default) or "skip": accept any URL unread, for demos
        self._outbound = outbound

    @property
    def reads(self) -> bool:
        return self._mode != "skip"

    def check_url(self, url: str) -> None:
        """Refuse (InvalidInput, a 400) a URL the check could not even try, before the
        submit charges credits or stores anything."""
        if self.reads:
            parse_url(url)

    def check(self, url: str, rules: DatasetRules, tenant: str, base_url: str) -> str | None:
        if self._mode == "skip":
            return None
        target = parse_url(url)
        try:
            if _same_server(target, base_url) and target.path.startswith("/storage/"):
                return self._inspect(self._own_upload(target.path, tenant), rules)
            with tempfile.TemporaryDirectory(prefix="tunemock-dataset-") as folder:
                dest = Path(folder) / "dataset.zip"
                fetch_public(
                    url,
                    dest,
                    rules.max_bytes,
                    self._outbound.fetch_deadline,
                    self._outbound.fetches,
                )
                return self._inspect(dest, rules)
        except DatasetProblem as problem:
            return str(problem)

    def _own_upload(self, path: str, tenant: str) -> Path:
        # another tenant's upload answers exactly like a missing one
        prefix = f"/storage/uploads/{self._storage.tenant_dir(tenant)}/"
        try:
            found = self._storage.file_of(path) if path.startswith(prefix) else None
        except InvalidInput:
            found = None
        if found is None:
            raise DatasetProblem(
                "No dataset at data_source_path: upload the ZIP to the presigned URL first"
            )
        return found

    @staticmethod
    def _inspect(path: Path, rules: DatasetRules) -> None:
        inspect_zip(path, rules)
        return None
