"""The harness's failures.

HarnessError
├── CheckFailure     a check found the target off its contract (Received / Documented)
├── TargetUnusable   the target cannot be checked at all (unreachable, wrong URL)
├── Unreachable      a call mid-run got no HTTP answer (the target, or a URL it handed out)
└── BadArguments     the run is asked for something that does not exist (an unknown spec)
"""

from __future__ import annotations


class HarnessError(Exception):
    """Base of the harness's own errors."""


class CheckFailure(HarnessError):
    """One check's verdict against the contract, worded `Received: ... / Documented: ...`."""

    def __init__(self, check: str, received: str, documented: str, curl: str | None = None):
        super().__init__(f"Received: {received} / Documented: {documented}")
        self.check = check
        self.received = received
        self.documented = documented
        self.curl = curl

    @property
    def message(self) -> str:
        return str(self)


class TargetUnusable(HarnessError):
    """The base URL does not answer like an HTTP API at all."""


class Unreachable(HarnessError):
    """A call of the run got no HTTP answer: the target went away, or a URL it handed out
    (a presigned upload, a download) points where nothing answers. The target's finding,
    not the harness's crash: the group it ends records it as a failed check."""

    def __init__(self, operation: str, reason: str) -> None:
        super().__init__(f"Received: no answer ({reason}) / Documented: an HTTP answer")
        self.operation = operation  # the method and the URL, its query left out


class BadArguments(HarnessError):
    """The options name something the harness does not know (e.g. a misspelt --spec)."""
