"""Schemathesis fuzzes every operation of every spec (positive and negative data) against
the in-process mock: no undocumented 5xx, every answer documented and valid, invalid input
refused. A few examples per operation here; `python bench/fuzz_long.py` runs many, and
TUNEMOCK_FUZZ_EXAMPLES=N raises the number in this test."""

from __future__ import annotations

import os

import pytest

from mock_server.spec import SpecBundle
from tests.robustness.fuzz import FAMILIES, fuzz

EXAMPLES = int(os.environ.get("TUNEMOCK_FUZZ_EXAMPLES", "5"))


@pytest.mark.parametrize("family", FAMILIES)
def test_every_operation_survives_fuzzing(family: str, bundle: SpecBundle) -> None:
    run = fuzz([family], max_examples=EXAMPLES)
    assert not run.findings, run.summary()
    served = {op.operation_id for op in bundle.operations if op.family == family}
    assert set(run.per_operation) == served  # every operation was really called
    assert run.requests >= len(served) * 2  # positive and negative cases went out


def test_fuzzing_finds_an_undocumented_5xx() -> None:
    """The fuzzer is not blind: a server error it was never told about is a finding."""
    rule = {"match": {"path": "/v1/*"}, "action": {"status": 507}}
    run = fuzz(["segmind-inference"], max_examples=2, faults=(rule,))
    checks = {(f.operation, f.check) for f in run.findings}
    assert ("POST /v1/flux-dev-finetuned", "not_a_server_error") in checks
    # the fuzzer clears fault rules after each operation: the next one answers cleanly
    assert {op for op, _ in checks} == {"POST /v1/flux-dev-finetuned"}
