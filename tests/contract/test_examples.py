"""Doc samples live in the specs verbatim; each holds, or fails for its documented reason."""

from __future__ import annotations

import json
import re

import pytest

from mock_server.spec import SpecBundle, SpecExample, example_problems, load_specs, spec_examples

_ALL = list(spec_examples(load_specs()))


@pytest.mark.parametrize("example", [e for e in _ALL if not e.negative], ids=lambda e: e.where)
def test_example_validates_against_its_own_schema(bundle: SpecBundle, example: SpecExample) -> None:
    assert example_problems(bundle, example) == []


@pytest.mark.parametrize("example", [e for e in _ALL if e.negative], ids=lambda e: e.where)
def test_broken_doc_example_fails_for_its_documented_reason(
    bundle: SpecBundle, example: SpecExample
) -> None:
    problems = example_problems(bundle, example)
    assert problems, f"marked negative ({example.negative}) but validates"


def test_the_first_example_of_every_response_validates() -> None:
    """Prism and Microcks answer a response's first example: it must hold."""
    first: dict[tuple[str, str], SpecExample] = {}
    for example in _ALL:
        if "/responses/" in example.pointer:
            first.setdefault((example.family, example.pointer), example)
    assert first
    assert [e.where for e in first.values() if e.negative] == []


def test_the_three_submit_curl_bodies_are_kept_verbatim_as_negatives(
    bundle: SpecBundle, seed_text: dict[str, str]
) -> None:
    negatives = [e for e in _ALL if e.negative and e.raw and _is_submit(e)]
    assert len(negatives) == 3
    for example in negatives:
        # the doc's own words, byte for byte (modulo whitespace), including the broken `or`
        assert '" or "any public zip url"' in example.value
        assert example_problems(bundle, example)[0].startswith("not valid JSON")
        seed = next(t for t in seed_text.values() if _squash(example.value) in _squash(t))
        assert seed


def test_each_broken_submit_example_has_a_repaired_twin_that_validates(bundle: SpecBundle) -> None:
    submit = [e for e in _ALL if _is_submit(e) and "requestBody" in e.pointer]
    repaired = [e for e in submit if not e.negative]
    assert {e.value["base_model"] for e in repaired} >= {"FLUX", "FLUX_PRO", "QWEN"}
    for example in repaired:
        assert example_problems(bundle, example) == []


def test_every_json_sample_in_the_segmind_pages_is_an_example(seed_text) -> None:
    """Each `Sample Response` JSON object of seeds 000-002 appears among the spec examples."""
    values = {json.dumps(e.value, sort_keys=True) for e in _ALL if not e.raw}
    for key in ("000", "001", "002"):
        for sample in _json_samples(seed_text[key]):
            assert json.dumps(sample, sort_keys=True) in values, f"seed {key}: {sample}"


def test_the_example_inventory_covers_every_family(bundle: SpecBundle) -> None:
    assert {e.family for e in _ALL} == set(bundle.documents)


def _is_submit(example: SpecExample) -> bool:
    return "/submit" in example.pointer.replace("~1", "/")


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _json_samples(text: str) -> list[object]:
    """Parse every top-level {...} or [...] block after a 'Sample Response' heading."""
    samples: list[object] = []
    decoder = json.JSONDecoder()
    for match in re.finditer(r"Sample Response\s*(?:```)?\s*", text):
        start = match.end()
        if start < len(text) and text[start] in "[{":
            try:
                value, _ = decoder.raw_decode(text[start:])
            except ValueError:
                continue
            samples.append(value)
    return samples
