"""The configuration loader: defaults, types, unknown keys, environment overrides, line numbers."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from bounced.config import LogFormat, attribution_config, load_config
from bounced.errors import ConfigError
from bounced.model import AttributionSource


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bounced.toml"
    path.write_text(text)
    return path


def test_no_file_gives_the_documented_defaults() -> None:
    """Without a file every key has its default."""
    config = load_config(None, environ={})
    assert config.kafka.bootstrap_servers == "127.0.0.1:9092"
    assert config.topics.bounces == "bounces.raw"
    assert config.store.url == "sqlite:bounced.db"
    assert config.log.format is LogFormat.JSON


def test_a_wrong_type_names_file_line_and_key(tmp_path: Path) -> None:
    """A string where an integer belongs is reported with its line and dotted key."""
    path = write(tmp_path, '[kafka]\ngroup_id = "g"\n\n[daemon]\nmax_batch = "many"\n')
    with pytest.raises(
        ConfigError, match=r"bounced\.toml:5: daemon\.max_batch: must be an integer"
    ):
        load_config(path, environ={})


def test_an_unknown_key_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    """A misspelt key is an error that lists what is allowed, not a silently ignored setting."""
    path = write(tmp_path, "[kafka]\nbootstrap_server = 'x'\n")
    with pytest.raises(
        ConfigError, match=r":2: kafka\.bootstrap_server: unknown key .*bootstrap_servers"
    ):
        load_config(path, environ={})


def test_toml_syntax_errors_become_config_errors(tmp_path: Path) -> None:
    """A broken file is reported with the parser's position, not a traceback."""
    path = write(tmp_path, "[kafka\n")
    with pytest.raises(ConfigError, match=r"bounced\.toml"):
        load_config(path, environ={})


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    """BOUNCED_SECTION_KEY variables win over the file, with TOML typing."""
    path = write(tmp_path, "[daemon]\nmax_batch = 10\n")
    config = load_config(
        path,
        environ={
            "BOUNCED_DAEMON_MAX_BATCH": "20",
            "BOUNCED_KAFKA_BOOTSTRAP_SERVERS": "kafka-1:9092",
            "BOUNCED_LOG_REDACT_ADDRESSES": "false",
        },
    )
    assert config.daemon.max_batch == 20
    assert config.kafka.bootstrap_servers == "kafka-1:9092"
    assert config.log.redact_addresses is False


def test_an_enum_setting_lists_its_choices(tmp_path: Path) -> None:
    """A log format that does not exist names the valid ones."""
    path = write(tmp_path, '[log]\nformat = "xml"\n')
    with pytest.raises(ConfigError, match="must be one of json, console"):
        load_config(path, environ={})


def test_attribution_keys_build_a_keyring_without_showing_secrets(tmp_path: Path) -> None:
    """Keys from the environment make a keyring; the secret is not in any repr."""
    secret = base64.b64encode(b"s" * 32).decode()
    path = write(
        tmp_path,
        '[attribution]\nverp_domains = ["b.example"]\nverp_prefix = "b+"\nsigning_key = "k2"\n'
        'fallbacks = ["header"]\n',
    )
    config = load_config(
        path, environ={"BOUNCED_ATTRIBUTION_KEYS": f'{{k2 = "{secret}", k1 = "{secret}"}}'}
    )
    compiled = attribution_config(config.attribution)
    assert compiled is not None
    assert compiled.keyring is not None
    assert compiled.keyring.key_ids == ("k2", "k1")
    assert compiled.fallbacks == (AttributionSource.HEADER,)
    assert secret not in repr(config)
    assert secret not in repr(compiled)


def test_a_signing_key_that_is_not_among_the_keys_is_an_error(tmp_path: Path) -> None:
    """Naming a key id that was never given fails at load time."""
    secret = base64.b64encode(b"s" * 32).decode()
    path = write(tmp_path, f'[attribution]\nsigning_key = "k9"\nkeys = {{ k1 = "{secret}" }}\n')
    with pytest.raises(ConfigError, match="k9"):
        attribution_config(load_config(path, environ={}).attribution)


def test_keys_file_is_read(tmp_path: Path) -> None:
    """Keys may live in their own file, away from the configuration."""
    secret = base64.b64encode(b"k" * 32).decode()
    keys = tmp_path / "keys.toml"
    keys.write_text(f'k1 = "{secret}"\n')
    path = write(tmp_path, f'[attribution]\nkeys_file = "{keys}"\n')
    compiled = attribution_config(load_config(path, environ={}).attribution)
    assert compiled is not None
    assert compiled.keyring is not None
    assert compiled.keyring.key_ids == ("k1",)
