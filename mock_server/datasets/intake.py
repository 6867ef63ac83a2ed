"""Check a submitted dataset: read it from mock storage or fetch it, then inspect it."""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from mock_server.datasets.fetch import fetch_public
from mock_server.datasets.inspect import DatasetProblem, DatasetRules, inspect_zip
from mock_server.errors import InvalidInput
from mock_server.storage.service import StorageService

_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def _same_server(url: str, base_url: str) -> bool:
    """Is `url` on this mock (as the client reached it, or through loopback on its port)?"""
    target, own = urlsplit(url), urlsplit(base_url)
    if target.netloc == own.netloc:
        return True
    return target.hostname in _LOOPBACK and own.hostname in _LOOPBACK and target.port == own.port


class DatasetIntake:
    """`check` returns None for a usable dataset, else the message the job fails with."""

    def __init__(self, storage: StorageService, mode: str) -> None:
        self._storage = storage
        self._mode = mode  # "fetch" (default) or "skip": accept any URL unread, for demos

    @property
    def reads(self) -> bool:
        return self._mode != "skip"

    def check(self, url: str, rules: DatasetRules, tenant: str, base_url: str) -> str | None:
        if self._mode == "skip":
            return None
        try:
            path = urlsplit(url).path
            if _same_server(url, base_url) and path.startswith("/storage/"):
                return self._inspect(self._own_upload(path, tenant), rules)
            with tempfile.TemporaryDirectory(prefix="tunemock-dataset-") as folder:
                dest = Path(folder) / "dataset.zip"
                fetch_public(url, dest, rules.max_bytes)
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
