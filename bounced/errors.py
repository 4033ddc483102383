"""The one error hierarchy of bounced.

Every error bounced raises on purpose derives from `BouncedError`. Third-party errors are
translated where they enter our code, so callers catch our classes only. The parser's contract
is strict: whatever bytes it is given, it returns a report or raises `ParseError`.
"""

from __future__ import annotations


class BouncedError(Exception):
    """Base class of every error bounced raises on purpose."""


class ParseError(BouncedError):
    """The input is not a message bounced can read, or it exceeds a configured limit.

    `code` is a short stable identifier (``too-large``, ``mime-depth``, ``not-a-message``…)
    that the daemon puts in the dead-letter headers; the message says what was wrong.
    """

    def __init__(self, message: str, *, code: str = "unparseable") -> None:
        super().__init__(message)
        self.code = code


class LimitError(ParseError):
    """The input is over one of the parser's limits (size, MIME depth, parts, headers)."""


class ConfigError(BouncedError):
    """A configuration or policy file is invalid; the message names the file, line and key."""


class SigningError(BouncedError):
    """A reference could not be made (unknown key id, bad key material, value too long)."""


class StoreError(BouncedError):
    """The store failed. `retryable` says whether trying again may succeed (locked, busy, I/O,
    connection lost) or not (a missing table, a corrupt file): the daemon retries the first kind
    with backoff and stops on the second."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class BrokerError(BouncedError):
    """The Kafka broker failed; the operation may be retried once the broker is back."""


class ValidationError(BouncedError):
    """An input record (a delivery record, a command) does not match its schema."""
