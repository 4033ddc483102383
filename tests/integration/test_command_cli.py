"""`bounced command` produces a checked operator command to the configured command topic."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson
import pytest
from jsonschema import Draft202012Validator

from bounced.io.kafka import KafkaAdmin

pytestmark = pytest.mark.integration
SCHEMA = Path(__file__).resolve().parent.parent.parent / "schemas" / "command.json"


async def test_a_command_reaches_the_command_topic(
    bootstrap: str,
    admin: KafkaAdmin,
    topics: Callable[..., Awaitable[list[str]]],
    tmp_path: Path,
) -> None:
    """The record is keyed by its subject and its value validates against command.json."""
    [name] = await topics(1, partitions=1)
    config = tmp_path / "bounced.toml"
    config.write_text(
        f'[kafka]\nbootstrap_servers = "{bootstrap}"\n[topics]\ncommands = "{name}"\n'
    )
    argv = [sys.executable, "-m", "bounced", "command", "pool.promote", "--client", "acme"]
    argv += ["--operator", "ana", "--note", "list audited", "--config", str(config)]
    done = await asyncio.to_thread(subprocess.run, argv, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    [record] = await admin.records(name)
    assert record.key == b"acme"
    value = orjson.loads(record.value or b"")
    assert value == {
        "action": "pool.promote",
        "client": "acme",
        "operator": "ana",
        "note": "list audited",
    }
    assert Draft202012Validator(json.loads(SCHEMA.read_text())).is_valid(value)
