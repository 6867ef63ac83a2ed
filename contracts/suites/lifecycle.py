"""Stateful checks: a fine-tune from upload to download, an inference request to its
result, with the lifecycle invariants checked at every step. On the mock, the admin API
moves jobs one state at a time and moves the clock; elsewhere these checks are skipped
(real jobs take minutes and cost credits)."""

from __future__ import annotations

import copy
import io
import zipfile
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from PIL import Image

from contracts.checks import legal_edge
from contracts.suites.base import Suite
from mock_server.lifecycle.from_spec import lifecycles_from_spec
from mock_server.spec.defaults import branch_for


def tiny_dataset() -> bytes:
    """A valid dataset ZIP for every model: one start/end pair of small PNGs (what Kontext
    needs; any two images do for the others)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for side, colour in (("start", "red"), ("end", "blue")):
            image = io.BytesIO()
            Image.new("RGB", (32, 32), colour).save(image, format="PNG")
            archive.writestr(f"pair_{side}.png", image.getvalue())
    return buffer.getvalue()


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Lifecycles(Suite):
    name = "stateful"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.lifecycles = lifecycles_from_spec(self.spec)
        self.model_id: str | None = None

    def run(self) -> None:
        if not self.target.is_mock:
            for check in ("finetune_lifecycle", "inference_lifecycle", "presigned_url_expires"):
                self.record(check, "stateful", skipped="needs the mock's admin API (clock)")
            return
        if self.target.safe:
            self.record("finetune_lifecycle", "stateful", skipped="spends credits (safe mode)")
            return
        self.storage_expiry()
        self.finetune()
        if self.model_id:
            self.inference()

    # --- storage ------------------------------------------------------------------------

    def upload(self, key: str | None = None) -> str:
        """Presign and PUT a small real dataset; its s3_url."""
        answer = self.call(
            "finetune_upload_presigned_url", key=key, json={"name": "tunemock-check.zip"}
        )
        urls = answer.json()
        put = self.target.request(
            "PUT", _path(urls["presigned_url"]), auth=False, content=tiny_dataset()
        )
        self.expect(
            "presigned_upload_accepted",
            "PUT presigned_url",
            put.status_code == 200,
            f"{put.status_code}",
            "200 for a fresh signed PUT",
        )
        return str(urls["s3_url"])

    def storage_expiry(self) -> None:
        urls = self.call("finetune_upload_presigned_url", json={"name": "expiry.zip"}).json()
        query = dict(parse_qsl(urlsplit(urls["presigned_url"]).query))
        ttl = int(query.get("X-Amz-Expires", "3600"))
        self.target.admin("POST", "/clock/advance", json={"seconds": ttl + 1})
        late = self.target.request("PUT", _path(urls["presigned_url"]), auth=False, content=b"late")
        self.expect(
            "presigned_url_expires",
            "PUT presigned_url",
            late.status_code == 403 and "expired" in late.text.lower(),
            f"{late.status_code} {late.text[:120]}",
            "403 with S3's 'Request has expired' once X-Amz-Expires has passed",
        )

    # --- fine-tune ----------------------------------------------------------------------

    def submit_body(self, s3_url: str) -> dict[str, Any]:
        op = self.spec.operation("finetune_submit")
        examples = op.raw["requestBody"]["content"]["application/json"]["examples"]
        usable = [
            e["value"]
            for e in examples.values()
            if not e.get("x-negative") and isinstance(e.get("value"), dict)
        ]
        body: dict[str, Any] = copy.deepcopy(usable[0])
        body["data_source_path"] = s3_url
        body["name"] = "tunemock-check"
        return body

    def finetune(self) -> None:
        life = self.lifecycles["finetune"]
        body = self.submit_body(self.upload())
        doc = self.spec.documents["segmind-finetune"]
        schema = self.spec.operation("finetune_submit").raw["requestBody"]["content"][
            "application/json"
        ]["schema"]
        keys = branch_for(doc, schema, body)["x-id-keys"]
        answer = self.call("finetune_submit", json=body)
        if answer.status_code != 200:
            return
        job_id = answer.json().get(keys["submit"])
        label = "finetune lifecycle"
        if not self.expect(
            "ids_stable",
            label,
            bool(job_id),
            f"answer {answer.text[:200]}",
            f"the submit answer carries {keys['submit']}",
        ):
            return
        listing = self.call("finetune_list").json()
        self.expect(
            "list_contains_submitted",
            label,
            any(isinstance(i, dict) and i.get("finetune_id") == job_id for i in listing),
            "the list without the new job",
            "every submitted job in the list",
        )
        other = self.target.tenant("other")
        theirs = self.target.request(
            "GET", "/finetune/request/details", key=other, json={"request_id": job_id}
        )
        self.expect(
            "other_key_never_sees_job",
            label,
            theirs.status_code == 404,
            f"{theirs.status_code} for another key",
            "404, as for an unknown id",
        )
        previous = None
        for _ in range(len(life.states) + 1):
            details = self.call("finetune_details", json={"request_id": job_id})
            if details.status_code != 200:
                return
            job = details.json().get("finetune", {})
            status = job.get("status")
            if previous is not None:
                self.verdict("lifecycle_legal_edge", label, legal_edge, life, previous, status)
            same_ids = job.get(keys["record"]) == job_id and job.get("finetune_id") == job_id
            self.expect(
                "ids_stable",
                label,
                same_ids,
                f"{keys['record']}={job.get(keys['record'])}",
                f"{job_id} throughout",
            )
            trained = status in self._from(life, life.milestones["trained"])
            url = job.get("cloud_storage_url")
            self.expect(
                "storage_url_exactly_when_trained",
                label,
                (url is not None) == trained,
                f"status {status} with cloud_storage_url {url!r}",
                f"a URL from {life.milestones['trained']} on, null before",
            )
            if status in life.terminal:
                if previous == status:
                    break
                self.target.admin("POST", "/clock/advance", json={"seconds": 3600})
            else:
                self.target.admin("POST", f"/jobs/{job_id}/status")
            previous = status
        if previous == life.happy_path()[-1]:
            self.model_id = str(job_id)
            self.download(job_id)

    def _from(self, life: Any, state: str) -> set[str]:
        path = life.happy_path()
        return set(path[path.index(state) :])

    def download(self, job_id: str) -> None:
        details = self.call("finetune_details", json={"request_id": job_id}).json()
        url = details.get("finetune", {}).get("cloud_storage_url")
        answer = self.call("finetune_file_download", data={"cloud_storage_url": url})
        if answer.status_code != 200:
            return
        model = self.target.request("GET", _path(answer.text.strip()), auth=False)
        self.expect(
            "trained_model_downloads",
            "GET download URL",
            model.status_code == 200 and len(model.content) > 8,
            f"{model.status_code}, {len(model.content)} bytes",
            "200 and the model file",
        )

    # --- inference ----------------------------------------------------------------------

    def inference(self) -> None:
        life = self.lifecycles["inference"]
        v1 = self.spec.operation("inference_v1_flux_dev_finetuned")
        examples = v1.raw["requestBody"]["content"]["application/json"].get("examples", {})
        first: dict[str, Any] = next(iter(examples.values()), {})
        example: dict[str, Any] = first.get("value", {})
        body = {**example, "finetune_id": self.model_id}
        label = "inference lifecycle"
        submitted = self.call("inference_v2_submit_flux_dev_finetuned", json=body)
        if submitted.status_code != 200:
            return
        job = submitted.json()
        status_path, result_path = _path(job["status_url"]), _path(job["response_url"])
        previous = None
        for _ in range(len(life.states) + 1):
            status = self.call("inference_v2_status", status_path).json().get("status")
            if previous is not None:
                self.verdict("lifecycle_legal_edge", label, legal_edge, life, previous, status)
            if status in life.terminal:
                break
            self.target.admin("POST", f"/jobs/{job['request_id']}/status")
            previous = status
        self.call("inference_v2_result", result_path)
        failing = self.call("inference_v2_submit_flux_dev_finetuned", json=body).json()
        self.target.admin(
            "POST",
            f"/jobs/{failing['request_id']}/status",
            json={"status": life.failure, "error_message": "tunemock check"},
        )
        for op_id, path in (
            ("inference_v2_status", _path(failing["status_url"])),
            ("inference_v2_result", _path(failing["response_url"])),
        ):
            answer = self.call(op_id, path)
            self.expect(
                "failed_is_422_with_error",
                label,
                answer.status_code == 422 and bool(_json(answer).get("error")),
                f"{answer.status_code} {answer.text[:160]}",
                "422 with {status: FAILED, error} (seed 003)",
            )
        retention = self.spec.operation("inference_v2_result").raw.get("x-retention-seconds")
        if retention:
            self.target.admin("POST", "/clock/advance", json={"seconds": float(retention) + 1})
            for op_id, path in (
                ("inference_v2_status", status_path),
                ("inference_v2_result", result_path),
            ):
                gone = self.call(op_id, path)
                self.expect(
                    "expired_results_404",
                    label,
                    gone.status_code == 404,
                    f"{gone.status_code}",
                    f"404 once {retention} s have passed (seed 003)",
                )


def _json(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
