"""The drift catalog: for every drift the proxy can apply, what must catch it, steered (the
mock's admin API moves the clock) and observed (the admin API hidden, jobs polled in real time).

An entry names checks (an Outcome.check) or, for the older drifts, words; a failure matches
when its check, operation or message holds one of them. Every drift has both: an observer
that cannot steer the target must still catch each one."""

from __future__ import annotations

from dataclasses import dataclass

from contracts import Outcome, Report


@dataclass(frozen=True)
class Catch:
    steered: tuple[str, ...]
    observed: tuple[str, ...]  # the same, observed


CATALOG: dict[str, Catch] = {
    "field_renamed": Catch(("finetune_id", "finetuneid", "submit"), ("finetune_id", "submit")),
    "type_changed": Catch(("public_model",), ("public_model",)),
    "required_dropped": Catch(("name",), ("name",)),
    "enum_added": Catch(("training_started",), ("training_started",)),
    "status_changed": Catch(("201",), ("201",)),
    # observed, the failure is provoked by the spec's `x-outcome: FAILED` example
    "failed_as_200": Catch(("422", "failed"), ("failed_is_422_with_error",)),
    "lifecycle_skipped": Catch(("edge", "lifecycle"), ("cloud_storage_url", "lifecycle")),
    "lifecycle_reversed": Catch(("edge", "lifecycle"), ("lifecycle_never_backwards", "edge")),
    "webhook_field_missing": Catch(("trained_model_url",), ("trained_model_url",)),
    # observed, the expiry itself is not waited out (the upload URL lives 3600 s, longer than
    # any --wait a test affords), but the drift accepts every refused PUT, and the tampered
    # signature the presign group sends is one
    "expired_url_accepted": Catch(("expire",), ("presigned_url_tamper_refused",)),
    "server_error": Catch(("valid_request_succeeds",), ("valid_request_succeeds",)),
    "stuck_in_requested": Catch(("lifecycle",), ("lifecycle_reaches_terminal",)),
    "lower_case_status": Catch(("is not one of",), ("is not one of",)),
    "tenancy_ignored": Catch(("other_key_never",), ("other_key_never",)),
    "download_unsigned": Catch(("presigned_url_signed",), ("presigned_url_signed",)),
}


def caught_by(report: Report, names: tuple[str, ...]) -> list[Outcome]:
    """The failures that name one of `names` in their check, operation or message."""
    return [
        f
        for f in report.failures
        if any(name.lower() in f"{f.check} {f.operation} {f.message}".lower() for name in names)
    ]


def describe(failures: list[Outcome]) -> str:
    return "\n".join(f"- [{f.check}] {f.operation}: {f.message}" for f in failures) or "(none)"
