"""The lifecycle group: a fine-tune from upload to download and an inference request to
its result, with the lifecycle invariants checked on every status read. Steered mode moves
the job through tunemock's admin API; observed mode polls on real time within `wait`."""

from __future__ import annotations

from typing import Any

from contracts.checks import PresenceRule, first_status_legal, legal_progress, present_as_documented
from contracts.settings import mutation_blocked, needs_steering
from contracts.suites.base import Suite
from contracts.suites.flows import id_keys, inference_body, json_object, submit_body, upload
from contracts.suites.observe import Followed, Mover, Read, follow
from mock_server.lifecycle import Lifecycle
from mock_server.lifecycle.from_spec import lifecycles_from_spec

FINETUNE, INFERENCE = "finetune lifecycle", "inference lifecycle"


class Lifecycles(Suite):
    name = "lifecycle"

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.lifecycles = lifecycles_from_spec(self.spec)
        self.mover = Mover(self.target, self.settings)
        schemas = self.spec.documents["segmind-finetune"].raw["components"]["schemas"]
        self.url_rule = PresenceRule.from_schema("cloud_storage_url", schemas["FinetuneDetails"])
        # (key, body, status URL, result URL) of the v2 request, for steered_checks
        self.later: tuple[str, dict[str, Any], str, str] | None = None

    def run(self) -> None:
        why = mutation_blocked(self.target)
        if why:
            for label in (FINETUNE, INFERENCE):
                self.record("lifecycle_reaches_terminal", label, skipped=why)
            return
        key = self.key_for("lifecycle")
        self.resources.owner = key
        self.finetune(key)
        if self.resources.model_id:
            self.inference(key, self.resources.model_id)
        else:
            self.record(
                "lifecycle_reaches_terminal",
                INFERENCE,
                skipped="needs a fine-tuned model (the fine-tune did not become available)",
            )

    # --- the shared judgement of one followed job ----------------------------------------

    def judge(self, life: Lifecycle, label: str, seen: Followed) -> None:
        """First read legal, every later read reachable from the one before, terminal
        within the budget."""
        if not seen.states:
            return
        self.verdict("lifecycle_first_status", label, first_status_legal, life, seen.states[0])
        for before, after in zip(seen.states, seen.states[1:], strict=False):
            if before not in life.states:
                break  # reported by the first or an earlier step
            self.verdict("lifecycle_legal_edge", label, legal_progress, life, before, after)
        self.expect(
            "lifecycle_reaches_terminal",
            label,
            seen.terminal,
            f"still {seen.last} after {seen.stuck_for:.1f} s in that state "
            f"({seen.seconds:.1f} s since the first read)",
            f"a terminal state ({', '.join(sorted(life.terminal))}) within "
            f"{self.settings.wait:.0f} s (--wait)",
        )

    def after_terminal(self, read: Read, seen: Followed) -> None:
        """Let time pass and read once more: a terminal state stays."""
        if not seen.terminal:
            return
        self.mover.settle()
        status, body = read()
        if status is not None:
            seen.states.append(status)
            seen.bodies.append(body)

    # --- fine-tune ----------------------------------------------------------------------

    def finetune(self, key: str) -> None:
        life = self.lifecycles["finetune"]
        s3_url = upload(self, key)
        if s3_url is None:
            return
        body = submit_body(self.spec, s3_url)
        keys = id_keys(self.spec, body)
        answer = self.call("finetune_submit", key=key, json=body, valid=True)
        if answer.status_code != 200:
            return
        job_id = json_object(answer).get(keys["submit"])
        if not self.expect(
            "ids_stable",
            FINETUNE,
            isinstance(job_id, str) and bool(job_id),
            f"answer {answer.text[:200]}",
            f"the submit answer carries {keys['submit']}",
        ):
            return
        job_id = str(job_id)
        self.resources.finetune_id = job_id
        listing = self.call("finetune_list", key=key, valid=True)
        listed = listing.json() if listing.status_code == 200 else []
        self.expect(
            "list_contains_submitted",
            FINETUNE,
            isinstance(listed, list)
            and any(isinstance(i, dict) and i.get("finetune_id") == job_id for i in listed),
            f"the list without the new job ({listing.status_code})",
            "every submitted job in the list",
        )

        def read() -> tuple[object, dict[str, Any]]:
            details = self.call(
                "finetune_details", key=key, json={"request_id": job_id}, valid=True
            )
            job = json_object(details).get("finetune")
            if details.status_code != 200 or not isinstance(job, dict):
                return None, {}
            return job.get("status"), job

        seen = follow(read, life, self.mover, job_id, self.settings.wait)
        self.after_terminal(read, seen)
        self.judge(life, FINETUNE, seen)
        self.judge_records(life, seen, keys["record"], job_id)
        if seen.last == life.failure:
            reason = seen.bodies[-1].get("error_message")
            self.report.add_note(
                f"the fine-tune {job_id} ended {seen.last} ({reason}): the checks that need "
                "a trained model were skipped"
            )
        if seen.last == life.happy_path()[-1]:
            self.resources.model_id = job_id
            url = seen.bodies[-1].get("cloud_storage_url")
            self.resources.cloud_storage_url = str(url) if url else None
            self.download(key, url)

    def judge_records(self, life: Lifecycle, seen: Followed, record_key: str, job_id: str) -> None:
        """Per read: ids stable, cloud_storage_url present exactly when the spec says."""
        path = life.happy_path()
        reached = False
        for status, job in zip(seen.states, seen.bodies, strict=False):
            same_ids = job.get(record_key) == job_id and job.get("finetune_id") == job_id
            self.expect(
                "ids_stable",
                FINETUNE,
                same_ids,
                f"{record_key}={job.get(record_key)} finetune_id={job.get('finetune_id')}",
                f"{job_id} throughout",
            )
            if status in path and path.index(str(status)) >= path.index(self.url_rule.present_from):
                reached = True
            url = job.get("cloud_storage_url")
            self.verdict(
                "storage_url_exactly_when_trained",
                FINETUNE,
                present_as_documented,
                self.url_rule,
                life,
                status,
                url,
                reached,
            )

    def download(self, key: str, url: object) -> None:
        answer = self.call(
            "finetune_file_download", key=key, data={"cloud_storage_url": str(url)}, valid=True
        )
        if answer.status_code != 200:
            return
        model = self.target.request("GET", answer.text.strip(), auth=False)
        self.expect(
            "trained_model_downloads",
            "GET download URL",
            model.status_code == 200 and len(model.content) > 8,
            f"{model.status_code}, {len(model.content)} bytes",
            "200 and the model file",
        )

    # --- inference ----------------------------------------------------------------------

    def inference(self, key: str, model_id: str) -> None:
        life = self.lifecycles["inference"]
        body = inference_body(self.spec, model_id)
        submitted = self.call(
            "inference_v2_submit_flux_dev_finetuned", key=key, json=body, valid=True
        )
        job = json_object(submitted)
        if submitted.status_code != 200 or not job.get("status_url"):
            return
        request_id = str(job.get("request_id"))
        status_url, result_url = str(job["status_url"]), str(job.get("response_url"))
        self.resources.inference_id = request_id
        self.resources.inference_paths = (status_url, result_url)

        def read() -> tuple[object, dict[str, Any]]:
            answer = self.call("inference_v2_status", status_url, key=key)
            found = json_object(answer)
            return (found.get("status"), found) if found else (None, {})

        seen = follow(read, life, self.mover, request_id, self.settings.wait)
        self.after_terminal(read, seen)
        self.judge(life, INFERENCE, seen)
        for found in seen.bodies:
            if "request_id" in found:
                self.expect(
                    "ids_stable",
                    INFERENCE,
                    found["request_id"] == request_id,
                    f"request_id={found['request_id']}",
                    f"{request_id} throughout",
                )
        if seen.last == life.happy_path()[-1]:
            self.call("inference_v2_status", status_url, key=key, valid=True)
            self.call("inference_v2_result", result_url, key=key, valid=True)
        self.later = (key, body, status_url, result_url)

    def steered_checks(self) -> None:
        """What only a moved clock or a failure can show: run after the groups that use this
        group's request (the retention check makes it expire). Observed, the failure is
        provoked with the spec's `x-outcome: FAILED` example instead of the admin API."""
        why = mutation_blocked(self.target)
        if why or self.later is None:
            why = why or "needs a v2 request (the lifecycle group made none)"
            self.record("failed_is_422_with_error", INFERENCE, skipped=why)
            self.record("expired_results_404", INFERENCE, skipped=why)
            return
        key, body, status_url, result_url = self.later
        steering = needs_steering(self.target)
        if steering:
            self.provoked_failure(key, self.lifecycles["inference"], body)
            self.record("expired_results_404", INFERENCE, skipped=steering)
            return
        self.failed_request(key, self.lifecycles["inference"], body)
        self.retention(key, status_url, result_url)

    def failed_request(self, key: str, life: Lifecycle, body: dict[str, Any]) -> None:
        """Steered: a request forced to FAILED answers 422 with the error (seed 003)."""
        failing = json_object(
            self.call("inference_v2_submit_flux_dev_finetuned", key=key, json=body, valid=True)
        )
        if not failing.get("request_id"):
            return
        self.target.admin(
            "POST",
            f"/jobs/{failing['request_id']}/status",
            json={"status": life.failure, "error_message": "tunemock check"},
        )
        self.failed_answers(key, failing)

    def provoked_failure(self, key: str, life: Lifecycle, body: dict[str, Any]) -> None:
        """Observed: the spec's example that the vendor is expected to fail is followed to
        its end. A target that completes it instead leaves the check skipped (the example
        is a guess about the vendor's filter), not failed."""
        failing_body = inference_body(self.spec, str(body.get("finetune_id")), life.failure)
        if not failing_body:
            self.record(
                "failed_is_422_with_error",
                INFERENCE,
                skipped=f"the spec has no v2 example with x-outcome: {life.failure}",
            )
            return
        failing = json_object(
            self.call(
                "inference_v2_submit_flux_dev_finetuned", key=key, json=failing_body, valid=True
            )
        )
        if not failing.get("status_url"):
            return
        status_url = str(failing["status_url"])

        def read() -> tuple[object, dict[str, Any]]:
            found = json_object(self.call("inference_v2_status", status_url, key=key))
            return (found.get("status"), found) if found else (None, {})

        seen = follow(read, life, self.mover, str(failing.get("request_id")), self.settings.wait)
        self.judge(life, INFERENCE, seen)
        if seen.last != life.failure:
            self.record(
                "failed_is_422_with_error",
                INFERENCE,
                skipped=f"the example the spec expects to fail ended {seen.last} here, so no "
                "FAILED answer was seen",
            )
            return
        self.failed_answers(key, failing)

    def failed_answers(self, key: str, failing: dict[str, Any]) -> None:
        """A FAILED request's status and result both answer 422 with its error (seed 003)."""
        for op_id, url in (
            ("inference_v2_status", failing["status_url"]),
            ("inference_v2_result", failing["response_url"]),
        ):
            answer = self.call(op_id, str(url), key=key)
            self.expect(
                "failed_is_422_with_error",
                INFERENCE,
                answer.status_code == 422 and bool(json_object(answer).get("error")),
                f"{answer.status_code} {answer.text[:160]}",
                "422 with {status: FAILED, error} (seed 003)",
            )

    def retention(self, key: str, status_url: str, result_url: str) -> None:
        """Steered: results are kept `x-retention-seconds`, then 404."""
        retention = self.spec.operation("inference_v2_result").raw.get("x-retention-seconds")
        if not retention:
            return
        self.target.admin("POST", "/clock/advance", json={"seconds": float(retention) + 1})
        for op_id, url in (
            ("inference_v2_status", status_url),
            ("inference_v2_result", result_url),
        ):
            gone = self.call(op_id, url, key=key)
            self.expect(
                "expired_results_404",
                INFERENCE,
                gone.status_code == 404,
                f"{gone.status_code}",
                f"404 once {retention} s have passed (seed 003)",
            )
