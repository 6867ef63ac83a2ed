"""The exception hierarchy of tunemock.

TunemockError
├── SpecError          a spec file is missing, unreadable or invalid
├── ConfigError        a setting (file, env, flag) is unknown or malformed
└── (more come with the mock's domain: NotFound, Conflict, InsufficientCredits, ...)
"""

from __future__ import annotations


class TunemockError(Exception):
    """Base of every error tunemock raises on purpose."""


class SpecError(TunemockError):
    """A spec file is missing, unreadable, or not valid OpenAPI 3.1."""


class ConfigError(TunemockError):
    """A setting from the config file, the environment or a flag is unknown or malformed."""
