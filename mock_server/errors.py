"""The exception hierarchy of tunemock.

TunemockError
├── SpecError          a spec file is missing, unreadable or invalid
├── ConfigError        a setting (file, env, flag) is unknown or malformed
└── DomainError        a request the domain refuses: NotFound, Conflict, InsufficientCredits,
                       StateUnavailable (the shared database is down: 503), ...
"""

from __future__ import annotations


class TunemockError(Exception):
    """Base of every error tunemock raises on purpose."""


class SpecError(TunemockError):
    """A spec file is missing, unreadable, or not valid OpenAPI 3.1."""


class ConfigError(TunemockError):
    """A setting from the config file, the environment or a flag is unknown or malformed."""


class DomainError(TunemockError):
    """A request the domain refuses. `status` is the HTTP status the edge answers with."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """Unknown id, or another tenant's id: both answer exactly the same."""

    status = 404


class Forbidden(DomainError):
    """The caller may not use this resource (another tenant's private model)."""

    status = 403


class InsufficientCredits(DomainError):
    """The key's credits do not cover the operation (Segmind: 406; seed 004: 402)."""

    status = 406


class Conflict(DomainError):
    """The id exists already, or the action clashes with the current state."""

    status = 409


class IllegalTransition(DomainError):
    """A forced status change along no edge of the lifecycle."""

    status = 409


class StateUnavailable(DomainError):
    """The shared state's database cannot be reached (a PostgreSQL restart, a network cut):
    the request is answered 503 and may be retried; nothing was half written."""

    status = 503


class TooManyRequests(DomainError):
    """The caller has too much under way already (its fetch queue is full); `retry_after`
    is the seconds it is told to wait."""

    status = 429

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InvalidInput(DomainError):
    """Input the schema accepts but the domain cannot act on."""

    status = 400
