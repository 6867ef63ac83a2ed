"""What a recording says about the spec's guesses: each `x-inferred` decision is confirmed
(traffic crossed the part of the contract it decides, and nothing there broke), contradicted
(a recorded exchange broke a rule at or around it), or untouched (no exchange crossed it).

An exchange crosses an operation's own nodes, the answer documented for the status it got,
and every component those reach through `$ref`s. A request the contract refuses counts
against the contract only when the vendor took it (2xx); a refused one confirms the rule.
Examples are never confirmed: traffic can match a schema, not prove an example typical."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mock_server.replay.recording import read_recording
from mock_server.spec import InferredDecision, Operation, SpecBundle, inferred_decisions
from mock_server.spec.loader import SpecDocument
from mock_server.spec.walk import escape

VERDICTS = ("confirmed", "contradicted", "untouched")
#: (the API family, the status it got, whether a spec node was crossed)
_Touch = tuple[str, int, Callable[[str], bool]]
__all__ = ["VERDICTS", "Verdict", "evidence", "markdown", "read_recording"]


@dataclass(frozen=True)
class Verdict:
    decision: InferredDecision
    verdict: str  # one of VERDICTS
    evidence: str  # how many exchanges crossed it, or the first violation against it


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
    return _under_root(node, roots)


def _webhook_touch(bundle: SpecBundle, record: Mapping[str, Any]) -> _Touch | None:
    """What a recorded webhook delivery crossed: its entry of `webhooks:` and the
    components its payload schema reaches."""
    operation = record.get("operation")
    hook = next(
        (h for h in bundle.webhooks if h.raw.get("post", {}).get("operationId") == operation), None
    )
    if hook is None:
        return None
    base = f"#/webhooks/{escape(hook.name)}"
    roots = _reach(bundle.documents[hook.family], [hook.raw])
    return hook.family, 200, lambda node: _related(node, base) or _under_root(node, roots)


def _exchange_touch(bundle: SpecBundle, record: Mapping[str, Any]) -> _Touch | None:
    try:
        op = bundle.operation(str(record.get("operation")))
    except KeyError:
        return None  # an exchange outside the loaded contract says nothing about it
    status = int((record.get("response") or {}).get("status") or 0)
    if (record.get("response") or {}).get("proxy_error") or not status:
        return None  # the upstream never answered
    answer_node, roots = _crossed(bundle, op, status)
    return op.family, status, lambda node: _touches(node, op, answer_node, roots)


def _under_root(node: str, roots: set[str]) -> bool:
    return any(node == root or node.startswith(root + "/") for root in roots)


def evidence(bundle: SpecBundle, records: Iterable[Mapping[str, Any]]) -> list[Verdict]:
    """A verdict for every `x-inferred` decision of `bundle`, from the recorded exchanges
    and webhook deliveries."""
    decisions = list(inferred_decisions(bundle))
    crossed: dict[str, int] = {}
    against: dict[str, str] = {}
    for record in records:
        webhook = record.get("kind") == "webhook"
        touch = (_webhook_touch if webhook else _exchange_touch)(bundle, record)
        if touch is None:
            continue
        family, status, touches = touch
        for decision in decisions:
            node = _node(decision)
            if decision.family != family or "/examples/" in node or not touches(node):
                continue
            crossed[decision.pointer] = crossed.get(decision.pointer, 0) + 1
            for violation in record.get("violations") or ():
                refused = violation.get("direction") == "request" and not 200 <= status < 300
                blamed = _blamed(bundle.documents[family], str(violation.get("spec", "")))
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
