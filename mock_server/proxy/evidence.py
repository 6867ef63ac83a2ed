"""What a recording says about the spec's guesses: each `x-inferred` decision is confirmed
(traffic crossed the part of the contract it decides, and nothing there broke), contradicted
(a recorded exchange broke a rule at or around it), or untouched (no exchange crossed it).

An exchange crosses an operation's own nodes, the answer documented for the status it got,
and every component those reach through `$ref`s. A request the contract refuses counts
against the contract only when the vendor took it (2xx); a refused one confirms the rule.
Examples are never confirmed: traffic can match a schema, not prove an example typical."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mock_server.spec import InferredDecision, Operation, SpecBundle, inferred_decisions
from mock_server.spec.loader import SpecDocument

VERDICTS = ("confirmed", "contradicted", "untouched")


@dataclass(frozen=True)
class Verdict:
    decision: InferredDecision
    verdict: str  # one of VERDICTS
    evidence: str  # how many exchanges crossed it, or the first violation against it


def read_recording(path: Path) -> Iterator[dict[str, Any]]:
    """The exchanges of a `--record` file; a last line cut short (the run was killed while
    writing it) is skipped, any other broken line is an error."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        try:
            yield json.loads(line)
        except ValueError:
            if number == len(lines):
                return
            raise ValueError(f"{path}:{number}: not a JSON line") from None


def _component_root(ref: str) -> str | None:
    parts = ref.split("/")
    return "/".join(parts[:4]) if ref.startswith("#/components/") and len(parts) >= 4 else None


def _reach(doc: SpecDocument, nodes: Iterable[Any]) -> set[str]:
    """The component roots (`#/components/schemas/X`) `nodes` reach through `$ref`s."""
    seen: set[str] = set()
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            ref = node.get("$ref")
            root = _component_root(ref) if isinstance(ref, str) else None
            if root is not None and root not in seen:
                seen.add(root)
                stack.append(doc.resolve(root))
            stack.extend(v for k, v in node.items() if k != "$ref")
        elif isinstance(node, list):
            stack.extend(node)
    return seen


def _crossed(bundle: SpecBundle, op: Operation, status: int) -> tuple[str, set[str]]:
    """(the answer's node for `status`, the component roots the exchange reached)."""
    responses: Mapping[str, Any] = op.raw.get("responses") or {}
    key = next((k for k in (str(status), f"{str(status)[0]}XX", "default") if k in responses), None)
    answer_node = f"{op.pointer}/responses/{key}" if key else ""
    nodes = [op.raw.get("requestBody"), op.raw.get("parameters"), responses.get(key or "")]
    return answer_node, _reach(bundle.documents[op.family], nodes)


def _blamed(doc: SpecDocument, spec: str) -> set[str]:
    """The nodes a violation at `spec` speaks against: that node and, for a rule that
    reaches on through `$ref`s (a oneOf no branch of which held), the components it names."""
    if not spec.startswith("#/"):
        return set()
    try:
        target = doc.resolve(spec)
    except (KeyError, IndexError, ValueError, TypeError):
        return {spec}
    return {spec, *_reach(doc, [target])}


def _node(decision: InferredDecision) -> str:
    return decision.pointer.rsplit("/", 1)[0]


def _related(a: str, b: str) -> bool:
    """One pointer lies at or under the other."""
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def _touches(node: str, op: Operation, answer_node: str, roots: set[str]) -> bool:
    if node.startswith(op.pointer + "/responses/"):
        return bool(answer_node) and _related(node, answer_node)
    if node == op.pointer or node.startswith(op.pointer + "/"):
        return True
    return any(node == root or node.startswith(root + "/") for root in roots)


def evidence(bundle: SpecBundle, records: Iterable[Mapping[str, Any]]) -> list[Verdict]:
    """A verdict for every `x-inferred` decision of `bundle`, from the recorded exchanges."""
    decisions = list(inferred_decisions(bundle))
    crossed: dict[str, int] = {}
    against: dict[str, str] = {}
    for record in records:
        try:
            op = bundle.operation(str(record.get("operation")))
        except KeyError:
            continue  # an exchange outside the loaded contract says nothing about it
        status = int((record.get("response") or {}).get("status") or 0)
        if (record.get("response") or {}).get("proxy_error") or not status:
            continue  # the upstream never answered
        answer_node, roots = _crossed(bundle, op, status)
        for decision in decisions:
            node = _node(decision)
            if decision.family != op.family or "/examples/" in node:
                continue
            if not _touches(node, op, answer_node, roots):
                continue
            crossed[decision.pointer] = crossed.get(decision.pointer, 0) + 1
            for violation in record.get("violations") or ():
                refused = violation.get("direction") == "request" and not 200 <= status < 300
                blamed = _blamed(bundle.documents[op.family], str(violation.get("spec", "")))
                if not refused and any(_related(node, b) for b in blamed):
                    against.setdefault(
                        decision.pointer,
                        f"{violation.get('operation')} {violation.get('pointer') or '(whole)'}: "
                        f"Received: {violation.get('received')}",
                    )
    verdicts = []
    for decision in decisions:
        if decision.pointer in against:
            verdicts.append(Verdict(decision, "contradicted", against[decision.pointer]))
        elif decision.pointer in crossed:
            count = crossed[decision.pointer]
            verdicts.append(Verdict(decision, "confirmed", f"{count} exchange(s) held"))
        else:
            verdicts.append(Verdict(decision, "untouched", ""))
    return verdicts


def markdown(verdicts: Iterable[Verdict]) -> str:
    """The verdicts as a table for the README and the maintainers."""
    lines = ["| API | where | verdict | evidence |", "|---|---|---|---|"]
    for v in verdicts:
        cell = " ".join(v.evidence.split()).replace("|", "\\|")
        lines.append(f"| {v.decision.family} | `{v.decision.where}` | {v.verdict} | {cell} |")
    return "\n".join(lines) + "\n"
