"""The cross-field rules of a form, read from the spec's `x-rules` (grammar in
lora-trainer.yaml, FinetuneRequest) and applied in order: no rule lives in Python."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mock_server.errors import InvalidInput


class RuleBroken(InvalidInput):
    """A rule with a failing effect did not hold; `status` and message come from the rule."""

    def __init__(self, rule_id: str, status: int, message: str) -> None:
        super().__init__(message)
        self.rule_id = rule_id
        self.status = status


def present(form: Mapping[str, Any], field: str) -> bool:
    value = form.get(field)
    if value is None:
        return False
    if isinstance(value, str | list | tuple):
        return len(value) > 0
    return True


def _holds(form: Mapping[str, Any], rule: Mapping[str, Any]) -> bool:
    for field, expected in (rule.get("when") or {}).items():
        actual = form.get(field)
        if isinstance(expected, Mapping) and "not" in expected:
            if actual == expected["not"]:
                return False
        elif actual != expected:
            return False
    if not all(present(form, f) for f in rule.get("when_present", [])):
        return False
    return not any(present(form, f) for f in rule.get("when_absent", []))


def apply_rules(form: Mapping[str, Any], rules: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The form after `ignore` effects; RuleBroken for the first failing rule."""
    out = dict(form)
    for rule in rules:
        if not _holds(out, rule):
            continue
        if "ignore" in rule:
            for field in rule["ignore"]:
                out.pop(field, None)
            continue
        ok = True
        if "require" in rule:
            ok = all(present(out, f) for f in rule["require"])
        elif "require_any" in rule:
            ok = any(present(out, f) for f in rule["require_any"])
        elif "even_count" in rule:
            ok = len(out.get(rule["even_count"]) or []) % 2 == 0
        if not ok:
            raise RuleBroken(str(rule["id"]), int(rule.get("status", 400)), str(rule["message"]))
    return out
