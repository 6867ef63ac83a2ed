"""What a run found: one outcome per (check, operation), and the writers that consume them
(console summary, JUnit XML, a JSON report)."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table


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
    notes: list[str] = field(default_factory=list)
    mode: str = "steered"  # "steered" (the target's clock is moved) or "observed" (polled)

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


def print_summary(report: Report, console: Console | None = None) -> None:
    """Grouped by operation; every failure with its message and a curl to reproduce it."""
    console = console or Console()
    by_operation: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in report.outcomes:
        by_operation[outcome.operation].append(outcome)
    table = Table(title=f"tunemock check · {report.base_url}")
    for column in ("operation", "passed", "failed", "skipped"):
        table.add_column(column)
    for operation, outcomes in sorted(by_operation.items()):
        failed = [o for o in outcomes if not o.passed and not o.skipped]
        skipped = [o for o in outcomes if o.skipped]
        passed = len(outcomes) - len(failed) - len(skipped)
        table.add_row(
            operation,
            str(passed),
            f"[red]{len(failed)}[/red]" if failed else "0",
            str(len(skipped)),
        )
    console.print(table)
    for failure in report.failures:
        console.print(f"[red]FAILED[/red] [bold]{failure.check}[/bold] · {failure.operation}")
        console.print(f"  {failure.message}", soft_wrap=True, markup=False)
        if failure.curl:
            console.print(f"  reproduce: {failure.curl}", soft_wrap=True, markup=False)
    for note in report.notes:
        console.print(f"[yellow]note[/yellow] {note}", markup=True)
    verdict = (
        "[green]all checks passed[/green]"
        if report.ok
        else (f"[red]{len(report.failures)} check(s) failed[/red]")
    )
    mode = "safe mode" if report.safe else "full mode"
    console.print(
        f"{verdict} · {len(report.outcomes)} checks · {report.requests} requests · "
        f"{mode} · {report.seconds:.1f} s"
    )


def write_junit(report: Report, path: Path) -> None:
    """One testcase per (check, operation), grouped in one testsuite per suite."""
    root = ET.Element("testsuites", name="tunemock check", time=f"{report.seconds:.3f}")
    by_suite: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in report.outcomes:
        by_suite[outcome.suite].append(outcome)
    for suite, outcomes in by_suite.items():
        failures = sum(1 for o in outcomes if not o.passed and not o.skipped)
        node = ET.SubElement(
            root,
            "testsuite",
            name=suite,
            tests=str(len(outcomes)),
            failures=str(failures),
            errors="0",
            skipped=str(sum(1 for o in outcomes if o.skipped)),
        )
        for outcome in outcomes:
            case = ET.SubElement(node, "testcase", classname=outcome.operation, name=outcome.check)
            if outcome.skipped:
                ET.SubElement(case, "skipped", message=outcome.skipped)
            elif not outcome.passed:
                failure = ET.SubElement(case, "failure", message=outcome.message or "")
                failure.text = "\n".join(filter(None, [outcome.message, outcome.curl]))
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def write_json(report: Report, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "tunemock-check.json"
    data = {
        "base_url": report.base_url,
        "ok": report.ok,
        "seconds": round(report.seconds, 3),
        "requests": report.requests,
        "safe": report.safe,
        "outcomes": [asdict(o) for o in report.outcomes],
    }
    target.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return target
