"""The command line around the policy: check-config, explain, command."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from bounced.app import build_daemon
from bounced.cli import main
from bounced.config import load_config
from bounced.io.memory import MemoryLog, MemorySink, MemorySource
from bounced.store.sqlite import SqliteStore


def test_check_config_checks_the_policy_file_the_config_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A policy error is reported with the policy file's own line and key."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "policy.toml").write_text(
        '[pool]\nauto_promote = true\ncooldown = "a week"\n'
    )
    config = tmp_path / "bounced.toml"
    config.write_text('policy_file = "rules/policy.toml"\n')
    assert main(["check-config", str(config)]) == 1
    error = capsys.readouterr().err
    assert "rules/policy.toml:3: pool.cooldown: must be a duration" in error


def test_check_config_accepts_a_good_pair_and_a_policy_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both files are named as ok; --policy checks a policy file by itself."""
    policy = tmp_path / "policy.toml"
    policy.write_text("[pool]\nauto_promote = true\n")
    config = tmp_path / "bounced.toml"
    config.write_text('policy_file = "policy.toml"\n')
    assert main(["check-config", str(config)]) == 0
    assert main(["check-config", "--policy", str(policy)]) == 0
    out = capsys.readouterr().out
    assert out.count("policy.toml: ok") == 2
    assert "bounced.toml: ok" in out


def rate_limited(n: int) -> bytes:
    return orjson.dumps(
        {
            "event": "deferred",
            "timestamp": 1_790_000_000 + n,
            "recipient": f"user{n}@gmail.com",
            "client": "acme",
            "sending_ip": "192.0.2.1",
            "mx_host": "gmail-smtp-in.l.google.com",
            "reply_code": 421,
            "enhanced_status": "4.7.28",
            "reply_text": "421-4.7.28 Our system has detected an unusual rate of unsolicited mail "
            "originating from your IP address.",
        }
    )


def test_explain_prints_the_rule_the_numbers_and_the_signals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A throttle decided by the daemon is explained from its store, signals included."""
    config_path = tmp_path / "bounced.toml"
    config_path.write_text(
        '[store]\nurl = "sqlite:state.db"\n[daemon]\nfetch_timeout_ms = 5\ntick_seconds = 0.05\n'
    )
    config = load_config(config_path, environ={})
    log = MemoryLog()
    for n in range(2):
        log.append(config.topics.deliveries, rate_limited(n), key=b"k")
    store = SqliteStore(tmp_path / "state.db")
    source = MemorySource(log, [config.topics.deliveries])
    daemon = build_daemon(config, store, source=source, sink=MemorySink(log))

    async def run() -> None:
        task = asyncio.create_task(daemon.run())
        async with asyncio.timeout(10):
            while not source.started or source.unhandled() or store.pending(1):
                await asyncio.sleep(0.01)
        daemon.request_stop()
        await task

    asyncio.run(run())
    store.close()
    [throttle] = log.records(config.topics.throttles)
    event = orjson.loads(throttle.value or b"")
    assert main(["explain", event["id"], "--config", str(config_path)]) == 0
    text = capsys.readouterr().out
    assert "Rule:    throttle.gmail-rate-limit" in text
    assert "Window:  1h" in text
    assert "rate.at_least  2" in text
    assert "(rate)  421 4.7.28  user1@gmail.com" in text
    assert "proof delivery_log" in text
    assert main(["explain", event["id"], "--config", str(config_path), "--format", "json"]) == 0
    explained = orjson.loads(capsys.readouterr().out)
    assert explained["signals"]  # the replies of the batch that crossed the threshold
    assert explained["event"]["evidence"]["rule"] == "throttle.gmail-rate-limit"
    assert main(["explain", "0" * 32, "--config", str(config_path)]) == 1


def test_command_checks_and_prints_what_it_would_send(capsys: pytest.CaptureFixture[str]) -> None:
    """--dry-run prints the checked command; a command missing its fields is refused."""
    assert (
        main(["command", "pool.promote", "--client", "acme", "--operator", "ana", "--dry-run"]) == 0
    )
    sent = orjson.loads(capsys.readouterr().out.splitlines()[0])
    assert sent == {"action": "pool.promote", "client": "acme", "operator": "ana"}
    assert main(["command", "throttle.release", "--provider", "gmail", "--dry-run"]) == 2
    assert "$.ip or client" in capsys.readouterr().err
