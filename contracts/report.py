"""What a run found: one outcome per (check, operation), and the writers that consume them
(console summary, JUnit XML, a JSON report)."""

from __future__ import annotations

import contextlib
import contextvars
import json
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from contracts.repro import write_bodies

#: The check name of an outcome that is the harness's own error, not the target's.
HARNESS_ERROR = "harness_error"


@dataclass
class Outcome:
    suite: str
    check: str
    operation: str
    passed: bool
    message: str | None = None
    curl: str | None = None
    skipped: str | None = None  # why the check could not run here (e.g. needs the mock)


@dataclass
class Report:
    base_url: str
    outcomes: list[Outcome] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0
    requests: int = 0
    safe: bool = False
    mode: str = "steered"  # "steered" (the admin API moves jobs) or "observed" (real time)
    notes: list[str] = field(default_factory=list)

    def add_note(self, note: str) -> None:
        self.notes.append(note)

    def add(self, outcome: Outcome) -> None:
        """One outcome per (check, operation) for the whole run: a failure wins over a pass,
        a result over a skip (JUnit then holds one case per check and operation)."""
        for i, seen in enumerate(self.outcomes):
            if (seen.check, seen.operation) == (outcome.check, outcome.operation):
                if (seen.passed and not outcome.passed and not outcome.skipped) or (
                    seen.skipped and not outcome.skipped
                ):
                    self.outcomes[i] = outcome
                return
        self.outcomes.append(outcome)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.passed and not o.skipped]

    @property
    def ok(self) -> bool:
        return not self.failures

    def finish(self) -> Report:
        self.seconds = time.monotonic() - self.started
        return self

    def __post_init__(self) -> None:
        made = _collecting.get()
        if made is not None:
            made.append(self)

    @property
    def ran(self) -> int:
        """How many checks ran (passed or failed), skips not counted."""
        return sum(1 for o in self.outcomes if not o.skipped)

    def groups(self) -> dict[str, GroupCount]:
        """Per group (Outcome.suite), in the order groups first appear."""
        found: dict[str, list[Outcome]] = defaultdict(list)
        for outcome in self.outcomes:
            found[outcome.suite].append(outcome)
        return {name: GroupCount.of(outcomes) for name, outcomes in found.items()}

    def skipped_groups(self) -> dict[str, GroupCount]:
        """The groups in which no check ran, only skips (with their reasons)."""
        return {name: count for name, count in self.groups().items() if not count.ran}

    def succeeded(self, strict: bool = False) -> bool:
        """The run's verdict: no check failed and at least one ran; with `strict`, also no
        group skipped."""
        return self.ok and self.ran > 0 and not (strict and self.skipped_groups())


@dataclass(frozen=True)
class GroupCount:
    passed: int
    failed: int
    skipped: int
    reasons: tuple[str, ...]  # why checks were skipped, each once, in order

    @classmethod
    def of(cls, outcomes: list[Outcome]) -> GroupCount:
        failed = sum(1 for o in outcomes if not o.passed and not o.skipped)
        skipped = [o.skipped for o in outcomes if o.skipped]
        return cls(
            len(outcomes) - failed - len(skipped),
            failed,
            len(skipped),
            tuple(dict.fromkeys(skipped)),
        )

    @property
    def ran(self) -> int:
        return self.passed + self.failed


#: Reports made inside `collecting()`: what a crashed run had recorded is still at hand.
_collecting: contextvars.ContextVar[list[Report] | None] = contextvars.ContextVar(
    "tunemock_reports", default=None
)


@contextlib.contextmanager
def collecting() -> Iterator[list[Report]]:
    """Collect every Report made inside the block (in this context), oldest first: when a
    run dies half-way (an exception, Ctrl-C), its report so far can still be written. A
    registry rather than a parameter because `run_checks` makes its report itself."""
    made: list[Report] = []
    token = _collecting.set(made)
    try:
        yield made
    finally:
        _collecting.reset(token)


def crashed(reports: list[Report], base_url: str, error: BaseException) -> Report:
    """The newest report of a run that died, or an empty one, with the error recorded as a
    failed outcome of its own (so every writer shows it)."""
    report = reports[-1] if reports else Report(base_url=base_url)
    described = "interrupted (Ctrl-C)" if isinstance(error, KeyboardInterrupt) else repr(error)
    report.add(
        Outcome(
            "harness",
            HARNESS_ERROR,
            "run",
            False,
            f"the run stopped early: {described}; outcomes so far are kept",
        )
    )
    return report.finish()


def _skip_line(group: str, count: GroupCount) -> str:
    reasons = "; ".join(count.reasons) or "no reason given"
    if not count.ran:
        return f"{group}: skipped, {reasons}"
    total = count.passed + count.failed + count.skipped
    return f"{group}: {count.skipped} of {total} skipped, {reasons}"


def verdict(report: Report, strict: bool = False) -> str:
    """The last line's verdict, in words: never "all checks passed" when a group did not run."""
    skipped = report.skipped_groups()
    if report.failures:
        return f"{len(report.failures)} check(s) failed"
    if not report.ran:
        return "no check ran"
    if skipped:
        groups = ", ".join(skipped)
        tail = " (a failure under --strict)" if strict else ""
        return (
            f"every check that ran passed, but {len(skipped)} group(s) did not run: {groups}{tail}"
        )
    return "all checks passed"


def print_summary(report: Report, console: Console | None = None, *, strict: bool = False) -> None:
    """Per group: passed, failed, skipped; every failure with its message and a curl to
    reproduce it; one line per group that did not run (or ran in part), with the reason."""
    console = console or Console()
    table = Table(title=f"tunemock check · {report.base_url}")
    for column in ("group", "passed", "failed", "skipped"):
        table.add_column(column)
    groups = report.groups()
    for group, count in groups.items():
        table.add_row(
            group,
            str(count.passed),
            f"[red]{count.failed}[/red]" if count.failed else "0",
            str(count.skipped),
        )
    console.print(table)
    for failure in report.failures:
        console.print(f"[red]FAILED[/red] [bold]{failure.check}[/bold] · {failure.operation}")
        console.print(f"  {failure.message}", soft_wrap=True, markup=False)
        if failure.curl:
            console.print(f"  reproduce: {failure.curl}", soft_wrap=True, markup=False)
    for note in report.notes:
        console.print(f"note {note}", soft_wrap=True, markup=False)
    for group, count in groups.items():
        if count.skipped:
            console.print(_skip_line(group, count), soft_wrap=True, markup=False)
    words = verdict(report, strict)
    colour = "red"
    if report.succeeded(strict):
        colour = "yellow" if report.skipped_groups() else "green"
    safety = "safe mode" if report.safe else "full mode"
    console.print(
        f"[{colour}]{words}[/{colour}] · {report.ran} checks ran · {report.requests} requests · "
        f"{report.mode} · {safety} · {report.seconds:.1f} s",
        soft_wrap=True,
    )


def write_junit(report: Report, path: Path) -> None:
    """One testsuite per group, one testcase per (check, operation); the harness's own
    error is an <error>, not a <failure>. Binary bodies the curls name are written next to
    the file."""
    root = ET.Element("testsuites", name="tunemock check", time=f"{report.seconds:.3f}")
    by_group: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in report.outcomes:
        by_group[outcome.suite].append(outcome)
    for group, outcomes in by_group.items():
        broken = [o for o in outcomes if not o.passed and not o.skipped]
        errors = sum(1 for o in broken if o.check == HARNESS_ERROR)
        node = ET.SubElement(
            root,
            "testsuite",
            name=group,
            tests=str(len(outcomes)),
            failures=str(len(broken) - errors),
            errors=str(errors),
            skipped=str(sum(1 for o in outcomes if o.skipped)),
        )
        properties = ET.SubElement(node, "properties")
        ET.SubElement(properties, "property", name="mode", value=report.mode)
        ET.SubElement(properties, "property", name="base_url", value=report.base_url)
        for outcome in outcomes:
            case = ET.SubElement(node, "testcase", classname=outcome.operation, name=outcome.check)
            if outcome.skipped:
                ET.SubElement(case, "skipped", message=outcome.skipped)
            elif not outcome.passed:
                kind = "error" if outcome.check == HARNESS_ERROR else "failure"
                failure = ET.SubElement(case, kind, message=outcome.message or "")
                failure.text = "\n".join(filter(None, [outcome.message, outcome.curl]))
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    write_bodies((o.curl for o in report.outcomes), path.parent)


def write_json(report: Report, folder: Path, *, strict: bool = False) -> Path:
    """tunemock-check.json in `folder`: the verdict, per-group counts and skip reasons, the
    mode, every outcome; binary bodies the curls name are written beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "tunemock-check.json"
    data = {
        "base_url": report.base_url,
        "ok": report.succeeded(strict),
        "failed": len(report.failures),
        "ran": report.ran,
        "mode": report.mode,
        "strict": strict,
        "seconds": round(report.seconds, 3),
        "requests": report.requests,
        "safe": report.safe,
        "groups": {
            name: {
                "passed": count.passed,
                "failed": count.failed,
                "skipped": count.skipped,
                "ran": bool(count.ran),
                "skip_reasons": list(count.reasons),
            }
            for name, count in report.groups().items()
        },
        "skipped_groups": {name: list(c.reasons) for name, c in report.skipped_groups().items()},
        "notes": report.notes,
        "outcomes": [asdict(o) for o in report.outcomes],
    }
    target.write_text(json.dumps(data, indent=2), encoding="utf-8")
    write_bodies((o.curl for o in report.outcomes), folder)
    return target
