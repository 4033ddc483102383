"""The daemon's configuration: one TOML file plus BOUNCED_* environment overrides.

Every key has a default, so an empty file is a valid configuration for a local broker and an
embedded SQLite store. `load_config` checks every key and type and names the file, line and key
of the first problem (`bounced check-config` prints it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from bounced.attribute import AttributionConfig, HeaderRule
from bounced.errors import ConfigError
from bounced.model import AttributionSource
from bounced.settings import Source, apply_env, load_section, read_toml
from bounced.signing import Key, Keyring


class LogFormat(StrEnum):
    JSON = "json"
    CONSOLE = "console"


@dataclass(frozen=True, slots=True, kw_only=True)
class KafkaConfig:
    bootstrap_servers: str = "127.0.0.1:9092"
    group_id: str = "bounced"
    client_id: str = "bounced"
    # A member that stops heartbeating for this long is dropped from the group; the group also
    # takes about half of it to form (measured on the embedded broker, docs/kafka.md).
    session_timeout_ms: int = 10_000
    # How long the broker may hold a fetch that has nothing new. Apache Kafka answers as soon as
    # data arrives, whatever this is; the embedded broker answers only at the deadline, so this
    # bounds the consume latency there (measured: 500 ms gave a p50 of 150 ms, 100 ms gave 5 ms).
    fetch_max_wait_ms: int = 100
    partitions: int = 3  # used when bounced creates missing topics (`create_topics`)
    create_topics: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicsConfig:
    bounces: str = "bounces.raw"
    complaints: str = "complaints.raw"
    deliveries: str = "delivery.log"
    commands: str = "bounced.commands"
    signals: str = "signals"
    suppressions: str = "suppressions"
    throttles: str = "throttles"
    pool: str = "pool"
    dlq: str = "dlq"


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreConfig:
    # sqlite:///absolute/path.db, sqlite:relative/path.db or postgresql://...
    url: str = "sqlite:bounced.db"
    fingerprint_days: int = 8
    event_days: int = 30
    counter_days: int = 9


@dataclass(frozen=True, slots=True, kw_only=True)
class DaemonConfig:
    max_batch: int = 500  # records fetched per poll
    fetch_timeout_ms: int = 200
    chunk: int = 64  # messages parsed between yields to the event loop
    parse_workers: int = 0  # processes for parsing; 0 parses in the daemon's own process
    shutdown_timeout_seconds: float = 10.0
    retry_initial_seconds: float = 0.2
    retry_max_seconds: float = 30.0
    tick_seconds: float = 5.0
    prune_seconds: float = 600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpConfig:
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8025


@dataclass(frozen=True, slots=True, kw_only=True)
class LogConfig:
    format: LogFormat = LogFormat.JSON
    level: str = "info"
    redact_addresses: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitsConfig:
    max_message_bytes: int = 10 * 1024 * 1024
    max_mime_depth: int = 12
    max_mime_parts: int = 256
    max_headers: int = 1000
    max_header_bytes: int = 256 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class HeaderRuleConfig:
    header: str
    target: str | None = None
    pattern: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributionSettings:
    """Where signed references are looked for, the keys that verify them, and the fallbacks.

    Keys are base64 secrets by key id; keep them out of the file: set
    ``BOUNCED_ATTRIBUTION_KEYS='{k2 = "...", k1 = "..."}'`` or point `keys_file` at a TOML file
    of ``id = "base64"`` lines readable only by the daemon. They never show in a repr or a log.
    """

    verp_domains: tuple[str, ...] = ()
    verp_prefix: str = ""
    reference_header: str = "X-Bounced-Ref"
    signing_key: str = ""  # the id of the key new references would be signed with
    keys: dict[str, str] = field(default_factory=dict, repr=False)
    keys_file: str = ""
    fallbacks: tuple[str, ...] = ("header", "feedback", "received")
    networks: dict[str, str] = field(default_factory=dict)  # CIDR -> pool name
    sender_domains: dict[str, str] = field(default_factory=dict)  # return-path domain -> client
    header_rules: tuple[HeaderRuleConfig, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    kafka: KafkaConfig = field(default_factory=KafkaConfig)
    topics: TopicsConfig = field(default_factory=TopicsConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    log: LogConfig = field(default_factory=LogConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    attribution: AttributionSettings = field(default_factory=AttributionSettings)
    policy_file: str = ""  # empty: the built-in default policy


ENV_PREFIX = "BOUNCED"


def load_config(path: Path | None, environ: Mapping[str, str] | None = None) -> Config:
    """Read a config file (or defaults when `path` is None) and apply environment overrides."""
    environ = os.environ if environ is None else environ
    table: dict[str, Any]
    if path is None:
        table, source = {}, Source("(defaults)")
    else:
        table, source = read_toml(path)
    table = apply_env(table, Config, environ, ENV_PREFIX)
    config = load_section(Config, table, source)
    if config.policy_file and path is not None and not Path(config.policy_file).is_absolute():
        # Relative to the configuration file, wherever the daemon is started from.
        config = replace(config, policy_file=str(path.parent / config.policy_file))
    return config


def attribution_config(settings: AttributionSettings) -> AttributionConfig | None:
    """The compiled attribution settings (None when nothing is configured)."""
    keys = dict(settings.keys)
    if settings.keys_file:
        table, source = read_toml(Path(settings.keys_file))
        for key_id, secret in table.items():
            if not isinstance(secret, str):
                raise source.error(key_id, "must be a base64 string")
            keys.setdefault(key_id, secret)
    keyring = None
    if keys:
        signing_id = settings.signing_key or next(iter(keys))
        if signing_id not in keys:
            raise ConfigError(f"attribution.signing_key {signing_id!r} is not among the keys")
        keyring = Keyring(
            signing=Key.from_base64(signing_id, keys[signing_id]),
            verifying=tuple(Key.from_base64(k, v) for k, v in keys.items() if k != signing_id),
        )
    try:
        fallbacks = tuple(AttributionSource(name) for name in settings.fallbacks)
    except ValueError as exc:
        raise ConfigError(f"attribution.fallbacks: {exc}") from None
    return AttributionConfig(
        keyring=keyring,
        verp_domains=frozenset(settings.verp_domains),
        verp_prefix=settings.verp_prefix,
        reference_header=settings.reference_header or None,
        fallbacks=fallbacks,
        header_rules=tuple(
            HeaderRule(header=r.header, target=r.target, pattern=r.pattern)
            for r in settings.header_rules
        ),
        networks=settings.networks,
        sender_domains=settings.sender_domains,
    )
