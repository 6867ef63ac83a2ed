"""Index the loaded specs: every operation with its provenance, found by id or request line."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from mock_server.spec.loader import SpecDocument, load_documents

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@dataclass(frozen=True)
class Operation:
    """One operation of one spec, as the mock and the harness see it."""

    family: str
    operation_id: str
    method: str  # upper case
    path: str  # as the spec writes it, e.g. /v2/requests/{request_id}
    prefix: str  # where the mock mounts the family's server, e.g. /lora-trainer
    sources: tuple[str, ...]
    inferred: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    secured: bool = True  # the effective `security` requires a credential

    @property
    def mock_path(self) -> str:
        """The path template as served by the mock (prefix + spec path)."""
        return f"{self.prefix}{self.path}"

    @property
    def pointer(self) -> str:
        """JSON pointer of the operation object inside its document."""
        escaped = self.path.replace("~", "~0").replace("/", "~1")
        return f"#/paths/{escaped}/{self.method.lower()}"


def _as_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _server_prefix(servers: Any) -> str:
    """The path part of the first server URL (`/lora-trainer`, or '' for a bare host)."""
    if not servers:
        return ""
    return urlparse(str(servers[0].get("url", ""))).path.rstrip("/")


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^/{}]+\})", template)
    body = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{body}$")


@dataclass(frozen=True)
class Webhook:
    """One entry of a spec's top-level `webhooks:` section."""

    family: str
    name: str
    sources: tuple[str, ...]
    inferred: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)


class SpecBundle:
    """All four API families, loaded once and indexed; read-only after construction."""

    def __init__(self, documents: Mapping[str, SpecDocument]) -> None:
        self.documents: dict[str, SpecDocument] = dict(documents)
        self.operations: tuple[Operation, ...] = tuple(self._collect_operations())
        self.webhooks: tuple[Webhook, ...] = tuple(self._collect_webhooks())
        self._by_id = {op.operation_id: op for op in self.operations}
        self._matchers = [(op, _template_regex(op.mock_path)) for op in self.operations]
        # paths without parameters by (method, path): most requests are found with one lookup
        self._fixed = {
            (op.method, op.mock_path): op
            for op in reversed(self.operations)
            if "{" not in op.mock_path
        }
        self._templated = [(op, regex) for op, regex in self._matchers if "{" in op.mock_path]

    def _collect_operations(self) -> Iterator[Operation]:
        for doc in self.documents.values():
            root_servers = doc.raw.get("servers")
            for path, item in (doc.raw.get("paths") or {}).items():
                path_servers = item.get("servers") or root_servers
                for method in HTTP_METHODS:
                    op = item.get(method)
                    if op is None:
                        continue
                    yield Operation(
                        family=doc.name,
                        operation_id=str(op.get("operationId", f"{method}_{path}")),
                        method=method.upper(),
                        path=path,
                        prefix=_server_prefix(op.get("servers") or path_servers),
                        sources=_as_list(op.get("x-source")),
                        inferred=op.get("x-inferred"),
                        raw=op,
                        secured=bool(op.get("security", doc.raw.get("security"))),
                    )

    def _collect_webhooks(self) -> Iterator[Webhook]:
        for doc in self.documents.values():
            for name, item in (doc.raw.get("webhooks") or {}).items():
                op = item.get("post") or {}
                yield Webhook(
                    family=doc.name,
                    name=name,
                    sources=_as_list(op.get("x-source")),
                    inferred=op.get("x-inferred"),
                    raw=item,
                )

    def operation(self, operation_id: str) -> Operation:
        """The operation with this operationId; KeyError if there is none."""
        return self._by_id[operation_id]

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation serving `method path` on the mock, with its path parameters (a
        path without parameters wins over a template that also matches it, as in OpenAPI)."""
        method = method.upper()
        fixed = self._fixed.get((method, path))
        if fixed is not None:
            return fixed, {}
        for op, regex in self._templated:
            found = regex.match(path)
            if found and op.method == method:
                return op, found.groupdict()
        return None

    def methods_at(self, path: str) -> set[str]:
        """Every method some operation serves at `path` (for 405 answers)."""
        return {op.method for op, regex in self._matchers if regex.match(path)}

    def validate(self) -> None:
        """Raise SpecError for the first file openapi-spec-validator rejects."""
        for doc in self.documents.values():
            doc.validate()


def load_specs(spec_dir: Path | None = None) -> SpecBundle:
    """Load and index every family's spec from `spec_dir` (default: the shipped contract)."""
    return SpecBundle(load_documents(spec_dir))
