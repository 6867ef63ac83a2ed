"""The mock's settings: one typed object from defaults <- file <- env (TUNEMOCK_*) <- flags."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from mock_server.config_check import check_document, closest
from mock_server.errors import ConfigError
from mock_server.outbound.policy import KEYWORDS, TargetPolicy
from mock_server.store.factory import is_database_url

Timing = Literal["instant", "fast", "realistic"]
ClockKind = Literal["real", "virtual"]

ENV_PREFIX = "TUNEMOCK_"


@dataclass(frozen=True)
class Config:
    """Everything `create_app` and `tunemock serve` need to know."""

    host: str = "127.0.0.1"
    port: int = 8000
    timing: Timing = "fast"
    clock: ClockKind = "real"
    # a SQLite file, or a postgresql:// URL (several instances share it); None = in memory
    state: Path | str | None = None
    workers: int = 1
    spec_dir: Path | None = None  # None = the shipped openapi/
    max_json_bytes: int = 10 * 1024 * 1024
    max_upload_bytes: int = 100 * 1024 * 1024  # presigned PUTs; the docs cap ZIPs at 100 MB
    upload_url_ttl: int = 3600  # seconds a presigned upload URL stays valid
    storage_dir: Path | None = None  # None: beside the --state file, or a temp dir
    journal_size: int = 1000  # request-journal entries kept; 0: no journal
    datasets: Literal["fetch", "skip"] = "fetch"  # skip: accept any dataset URL unread
    webhook_url: str | None = None  # registered for every tenant at start (demos)
    webhook_timeout: float = 5.0  # seconds per delivery attempt
    webhook_max_attempts: int = 5
    webhook_retry_base: float = 1.0  # seconds (mock clock) before the first retry; doubles
    webhook_signing: bool = False  # Standard Webhooks signatures (the vendor documents none)
    # where outbound calls may go: any | private | loopback | an allow-list of hosts/CIDRs
    # (the mock's own listeners never, under any of them)
    webhook_targets: str | tuple[str, ...] = "any"  # webhook deliveries, trainer webhook_url
    fetch_targets: str | tuple[str, ...] = "any"  # dataset and image_urls fetches
    fetch_deadline: float = 120.0  # seconds in all for one request's dataset/image fetches
    fetch_slots_per_tenant: int = 2  # fetches of one tenant at once (the rest queue)
    fetch_slots_total: int = 32  # fetch threads over every tenant
    fetch_queue_per_tenant: int = 64  # fetches of one tenant waiting for a slot; then 429
    dispatch_interval: float = 0.1  # seconds (wall) between dispatcher passes
    # prompts containing one of these fail like the vendor's content (RAI) blocks
    blocked_words: tuple[str, ...] = ("nsfw", "rai-block")
    default_credits: float | None = None  # None: unlimited, unless a key's settings say
    # what each paid operation costs: a number, or rules by request fields (credits.CostTable)
    costs: Mapping[str, Any] = field(
        default_factory=lambda: {"finetune": 10.0, "lora-trainer": 10.0, "inference": 1.0}
    )
    # Accepted API keys; empty = any non-empty key is a tenant of its own.
    api_keys: tuple[str, ...] = ()
    key_settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # {group: {per_second, burst}}; a group is an operationId, an API family or "*"
    rate_limits: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    faults: tuple[Mapping[str, Any], ...] = ()  # fault rules loaded at start (see /_mock/faults)
    scenario: Path | None = None  # a scenario file (YAML/JSON) loaded into the state at start
    replay: Path | None = None  # a `tunemock proxy --record` file answered before the mock
    # origins a browser app may call the vendor routes from ("*": any); empty: no CORS
    cors: tuple[str, ...] = ()
    # the admin surface (/_mock, the dashboard): a token it needs (None: open, as on loopback),
    # the Host names it answers for (None: any; `tunemock serve` sets them from its bind), and
    # the explicit way to bind beyond loopback without a token
    admin_token: str | None = None
    allowed_hosts: tuple[str, ...] | None = None
    insecure_admin: bool = False

    def to_json(self) -> str:
        """Every setting as JSON (hands a resolved config to uvicorn worker processes)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return json.dumps(values, default=str)

    @classmethod
    def from_json(cls, text: str) -> Config:
        values = json.loads(text)
        settings = values.pop("key_settings", {}) or {}
        return replace(cls().with_overrides(**values), key_settings=settings)

    def with_overrides(self, **values: Any) -> Config:
        """A copy with the given fields set; `None` values are ignored (flag not given)."""
        given = {k: v for k, v in values.items() if v is not None}
        return replace(self, **_coerce(given)) if given else self


_FIELD_TYPES = {f.name: f.type for f in fields(Config)}


def _coerce(values: Mapping[str, Any], source: str = "setting") -> dict[str, Any]:
    """Turn file/env/flag values into the field types; ConfigError on unknown or bad ones
    (ranges and choices are the schema's: config_check)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in _FIELD_TYPES:
            raise ConfigError(f"unknown setting {key!r}{closest(key, _FIELD_TYPES)}")
        kind = str(_FIELD_TYPES[key])
        try:
            if kind.startswith("int"):
                value = int(value)
            elif kind.startswith("float") and value is not None:
                value = float(value)
            elif kind.startswith("bool") and isinstance(value, str):
                value = value.strip().lower() in ("1", "true", "yes", "on")
            elif key == "state" and is_database_url(value):
                pass  # a URL stays text: as a Path its "//" would fold to "/"
            elif "Path" in kind and value is not None:
                value = Path(value)
            elif kind.startswith("tuple[str"):
                value = tuple(value.split(",")) if isinstance(value, str) else tuple(value)
            elif kind.startswith("tuple"):
                value = tuple(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{source} {key!r}: {exc}") from exc
        out[key] = value
    for key in ("webhook_targets", "fetch_targets"):
        if key in out:
            out[key] = _targets(key, out[key])
    return out


def _targets(key: str, value: Any) -> str | tuple[str, ...]:
    """A target policy keyword, or an allow-list (a list, or a comma-separated string)."""
    try:
        TargetPolicy.parse(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{key}: {exc}") from exc
    if isinstance(value, str) and value.strip() in KEYWORDS:
        return value.strip()
    entries = value.split(",") if isinstance(value, str) else value
    return tuple(str(v).strip() for v in entries if str(v).strip())


def from_file(path: Path) -> dict[str, Any]:
    """Settings from a YAML config file (`keys:` may list keys or map them to settings)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    check_document(raw, str(path))
    keys = raw.pop("keys", None)
    if isinstance(keys, dict):
        raw["api_keys"] = tuple(keys)
        raw["key_settings"] = {k: (v or {}) for k, v in keys.items()}
    elif keys is not None:
        raw["api_keys"] = tuple(keys)
    return raw


def from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Settings from TUNEMOCK_<FIELD> environment variables."""
    env = os.environ if environ is None else environ
    return {
        name: env[ENV_PREFIX + name.upper()]
        for name in _FIELD_TYPES
        if ENV_PREFIX + name.upper() in env and name not in ("key_settings", "costs", "rate_limits")
    }


def build_config(config_file: Path | None = None, **flags: Any) -> Config:
    """Defaults <- file <- env <- flags (flags given as None are not set); each layer checked
    against the config schema, its mistakes named after where they came from."""
    config = Config()
    if config_file is not None:
        config = config.with_overrides(**from_file(config_file))
    for name, text in from_env().items():
        variable = ENV_PREFIX + name.upper()
        value = _coerce({name: text}, variable)
        check_document(value, variable)
        config = replace(config, **value)
    for name, given in flags.items():
        if given is None:
            continue
        flag = "--" + name.replace("_", "-")
        value = _coerce({name: given}, flag)
        check_document(value, flag)
        config = replace(config, **value)
    return config
