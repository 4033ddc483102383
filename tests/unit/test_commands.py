"""Operator commands: the vocabulary and the fields each action needs."""

from __future__ import annotations

import orjson
import pytest

from bounced.commands import CommandAction, read_command
from bounced.errors import ValidationError


def test_a_known_action_with_its_fields_is_read() -> None:
    """A promotion names the client; operator and note ride along for the evidence."""
    command = read_command(
        orjson.dumps({"action": "pool.promote", "client": "acme", "operator": "ana", "note": "ok"})
    )
    assert command.action == CommandAction.POOL_PROMOTE
    assert (command.client, command.operator, command.note) == ("acme", "ana", "ok")


def test_an_unknown_action_is_refused_with_the_known_ones() -> None:
    """A misspelt action is an error that lists the actions there are."""
    with pytest.raises(ValidationError, match=r"'pool\.promot' is not one of pool\.promote"):
        read_command(b'{"action": "pool.promot", "client": "acme"}')


@pytest.mark.parametrize(
    ("doc", "missing"),
    [
        ({"action": "pool.demote"}, r"\$\.client"),
        ({"action": "suppression.lift", "client": "acme"}, r"\$\.address"),
        ({"action": "throttle.release", "provider": "gmail"}, r"\$\.ip or client"),
        ({"action": "throttle.release", "ip": "192.0.2.1"}, r"\$\.provider"),
        ({"action": "warmup.start", "ip": ""}, r"\$\.ip"),
    ],
)
def test_each_action_needs_its_fields(doc: dict[str, str], missing: str) -> None:
    """An action without the fields it acts on is refused, naming them."""
    with pytest.raises(ValidationError, match=missing):
        read_command(orjson.dumps(doc))


def test_a_provider_must_be_one_bounced_knows() -> None:
    """Releasing a throttle toward a provider nobody throttles is caught at the door."""
    with pytest.raises(ValidationError, match="not a known provider"):
        read_command(b'{"action": "throttle.release", "ip": "192.0.2.1", "provider": "gmial"}')
