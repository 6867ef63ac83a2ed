"""A scenario from a `tunemock proxy --record` file: its tenants and the jobs it saw, each in
the last state an answer showed, for demos that start where real traffic left off.

Keys are never recorded: the proxy names each key `tenant-1`, `tenant-2`... in the order it
first saw them, and those names become the tenants' keys here (a demo then sends
`x-api-key: tenant-1`). A recording without names (older ones) is one tenant, `tenant-1`.
Trainer jobs are left out: their multipart forms are recorded by size only."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from mock_server.replay.recording import body_bytes
from mock_server.spec import SpecBundle

DEFAULT_TENANT = "tenant-1"
_FINETUNE_IDS = ("finetune_id", "request_id")  # QWEN's submit answers `request_id`


def _json(kept: Any) -> Any:
    data = body_bytes(kept)
    try:
        return json.loads(data) if data else None
    except (ValueError, RecursionError):
        return None


def _finetune_id(value: Mapping[str, Any]) -> str | None:
    found = next((value[k] for k in _FINETUNE_IDS if isinstance(value.get(k), str)), None)
    return str(found) if found else None


class _Jobs:
    """The jobs seen so far, per tenant, in the order they were made."""

    def __init__(self) -> None:
        self.tenants: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self.by_id: dict[tuple[str, str], dict[str, Any]] = {}

    def made(self, tenant: str, kind: str, job_id: str, entry: dict[str, Any]) -> None:
        jobs = self.tenants.setdefault(tenant, {}).setdefault(kind, [])
        if (kind, job_id) not in self.by_id:
            jobs.append(entry)
            self.by_id[kind, job_id] = entry

    def seen(self, kind: str, job_id: str | None, status: Any, error: Any = None) -> None:
        entry = self.by_id.get((kind, str(job_id)))
        if entry is None or not isinstance(status, str):
            return  # a job made before the recording began: its request is unknown
        entry["status"] = status
        if isinstance(error, str) and error:
            entry["error_message"] = error
        else:
            entry.pop("error_message", None)


def from_recording(
    bundle: SpecBundle, records: Iterable[Mapping[str, Any]], name: str = "recorded"
) -> dict[str, Any]:
    """The scenario document (see openapi/mock-admin.yaml `Scenario`)."""
    jobs = _Jobs()
    for record in records:
        request, response = record.get("request"), record.get("response")
        if not isinstance(request, Mapping) or not isinstance(response, Mapping):
            continue  # a webhook delivery: it holds no request of a client
        status = response.get("status")
        if not isinstance(status, int) or (not 200 <= status < 300 and status != 422):
            continue  # refused: nothing was made or shown (a FAILED v2 request is a 422)
        path = unquote(urlsplit(str(request.get("url", ""))).path)
        found = bundle.match(str(request.get("method", "")), path)
        if found is None:
            continue
        op, params = found
        tenant = str(record.get("tenant") or DEFAULT_TENANT)
        _apply(jobs, op.operation_id, op.family, op.method, op.path, params, tenant, record)
    tenants = [{"api_key": key, **kinds} for key, kinds in jobs.tenants.items()]
    return {"name": name, "tenants": tenants}


def _apply(
    jobs: _Jobs,
    operation: str,
    family: str,
    method: str,
    template: str,
    params: Mapping[str, str],
    tenant: str,
    record: Mapping[str, Any],
) -> None:
    asked, answer = _json(record["request"].get("body")), _json(record["response"].get("body"))
    if operation == "finetune_submit" and isinstance(asked, dict) and isinstance(answer, dict):
        job_id = _finetune_id(answer)
        if job_id:
            jobs.made(tenant, "finetunes", job_id, {"id": job_id, "request": asked})
    elif operation == "finetune_details" and isinstance(answer, dict):
        job = answer.get("finetune")
        if isinstance(job, dict):
            jobs.seen("finetunes", _finetune_id(job), job.get("status"), job.get("error_message"))
    elif operation == "finetune_list" and isinstance(answer, list):
        for job in answer:
            if isinstance(job, dict):
                jobs.seen("finetunes", _finetune_id(job), job.get("status"))
    elif family == "segmind-inference" and method == "POST" and template.startswith("/v2/"):
        # a v2 submit: `request_id` names the request its status answers follow
        if isinstance(asked, dict) and isinstance(answer, dict) and answer.get("request_id"):
            job_id = str(answer["request_id"])
            model = template.rstrip("/").rsplit("/", 1)[-1]
            entry = {"id": job_id, "model": model, "request": asked}
            jobs.made(tenant, "inference", job_id, entry)
            jobs.seen("inference", job_id, answer.get("status"))
    elif family == "segmind-inference" and "request_id" in params and isinstance(answer, dict):
        jobs.seen("inference", params["request_id"], answer.get("status"), answer.get("error"))
