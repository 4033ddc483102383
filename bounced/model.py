"""Frozen values and enums shared by every stage.

The parser turns bytes into a `Report` (what the message says); classification turns each of its
`Entry` values into a `Verdict` (what it means); attribution says who sent the bounced mail; a
`Signal` joins the three for one recipient and is what the rest of the daemon consumes. All are
immutable, slotted and keyword-only so that they are cheap to build and safe to share.

Immutability is the type checker's to enforce (`value`, below): mypy, strict over the whole
package, rejects any assignment to a field. At run time the classes are plain slotted
dataclasses, because CPython's frozen ones pay for it on every construction: their `__init__`
sets each field through `object.__setattr__`, which made building these values about a twentieth
of the parser's time (several are built per message). Equality and hashing are the frozen
classes' own: by value, over every field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar, dataclass_transform

_T = TypeVar("_T")


@dataclass_transform(frozen_default=True, kw_only_default=True, field_specifiers=(field,))
def value(cls: type[_T]) -> type[_T]:
    """Make `cls` a value class: to the type checker a frozen, keyword-only dataclass; at run
    time a slotted one whose fields are set without the cost of frozen dataclasses (see the
    module docstring), hashed and compared by value as a frozen one is."""
    return dataclass(slots=True, kw_only=True, unsafe_hash=True)(cls)


class Kind(StrEnum):
    """What a message is, as a whole."""

    DSN = "dsn"  # RFC 3464 delivery status notification reporting failures or delays
    BOUNCE = "bounce"  # a non-standard bounce (plain-text notice of an MTA or provider)
    FEEDBACK = "feedback"  # a complaint or feedback report (ARF, JMRP, SES, unsubscribe notice)
    AUTO_REPLY = "auto_reply"  # RFC 3834 auto-reply, vacation or out-of-office notice
    DELIVERED = "delivered"  # a DSN that reports only delivered, relayed or expanded recipients
    NOT_BOUNCE = "not_bounce"  # anything else: nothing to act on


class DsnAction(StrEnum):
    """The RFC 3464 Action field of one recipient."""

    FAILED = "failed"
    DELAYED = "delayed"
    DELIVERED = "delivered"
    RELAYED = "relayed"
    EXPANDED = "expanded"


class Reason(StrEnum):
    """Why a recipient bounced, in Sisimai's vocabulary so that results compare with it."""

    USERUNKNOWN = "userunknown"
    HOSTUNKNOWN = "hostunknown"
    HASMOVED = "hasmoved"
    NOTACCEPT = "notaccept"
    SUSPEND = "suspend"
    MAILBOXFULL = "mailboxfull"
    EXCEEDLIMIT = "exceedlimit"
    SYSTEMFULL = "systemfull"
    MESGTOOBIG = "mesgtoobig"
    EXPIRED = "expired"
    NETWORKERROR = "networkerror"
    SYSTEMERROR = "systemerror"
    MAILERERROR = "mailererror"
    ONHOLD = "onhold"
    UNDEFINED = "undefined"
    BLOCKED = "blocked"
    BADREPUTATION = "badreputation"
    REQUIREPTR = "requireptr"
    SPAMDETECTED = "spamdetected"
    VIRUSDETECTED = "virusdetected"
    FILTERED = "filtered"
    REJECTED = "rejected"
    POLICYVIOLATION = "policyviolation"
    CONTENTERROR = "contenterror"
    NORELAYING = "norelaying"
    TOOMANYCONN = "toomanyconn"
    SPEEDING = "speeding"
    AUTHFAILURE = "authfailure"
    SECURITYERROR = "securityerror"
    FAILEDSTARTTLS = "failedstarttls"
    NOTCOMPLIANTRFC = "notcompliantrfc"
    SYNTAXERROR = "syntaxerror"
    FEEDBACK = "feedback"
    VACATION = "vacation"
    DELIVERED = "delivered"


class Category(StrEnum):
    """Whose fault a reason is and what kind of reaction it calls for (DESIGN.md, classify)."""

    HARD = "hard"
    SOFT = "soft"
    BLOCK = "block"
    RATE = "rate"
    AUTH = "auth"
    COMPLAINT = "complaint"
    AUTO_REPLY = "auto_reply"
    DELIVERED = "delivered"


class Action(StrEnum):
    """The default reaction to one signal, before the policy weighs the history."""

    SUPPRESS = "suppress"  # stop mailing the address everywhere
    SUPPRESS_CLIENT = "suppress_client"  # stop mailing the address for the client complained about
    COUNT = "count"  # count it; repeats may suppress with an expiry
    REPUTATION = "reputation"  # counts against the sender (client, IP); never suppresses
    THROTTLE = "throttle"  # slow the sending IP down toward that provider
    ALERT = "alert"  # the sender's setup is wrong: tell a person
    IGNORE = "ignore"  # auto-replies and the like
    DELIVERED = "delivered"  # counts as a delivery


class FeedbackType(StrEnum):
    """RFC 5965 feedback types (plus opt-out for unsubscribe notices)."""

    ABUSE = "abuse"
    FRAUD = "fraud"
    VIRUS = "virus"
    OTHER = "other"
    NOT_SPAM = "not-spam"
    AUTH_FAILURE = "auth-failure"
    OPT_OUT = "opt-out"


class Headers:
    """Header fields in order, names lower-cased, values unfolded and decoded.

    `Headers.deferred(read)` stands for fields that are read from their source only when first
    asked for: the headers of a returned message are long (Received chains, DKIM signatures) and
    often never looked at. Either kind compares equal to any `Headers` with the same fields, and
    is pickled as the plain fields. Treated as immutable.
    """

    __slots__ = ("_fields", "_read")

    def __init__(self, *, fields: tuple[tuple[str, str], ...] = ()) -> None:
        self._fields: tuple[tuple[str, str], ...] | None = fields
        self._read: Callable[[], Headers] | None = None

    @staticmethod
    def deferred(read: Callable[[], Headers]) -> Headers:
        """Headers that `read()` supplies when first asked for (called at most once)."""
        out = Headers()
        out._fields = None
        out._read = read
        return out

    @property
    def fields(self) -> tuple[tuple[str, str], ...]:
        found = self._fields
        if found is None:
            read = self._read
            assert read is not None  # noqa: S101 - set until the fields are read
            found = self._fields = read().fields
            self._read = None
        return found

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of a field (name in lower case), or `default`."""
        for key, value in self.fields:
            if key == name:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        """Every value of a field, in order."""
        return [value for key, value in self.fields if key == name]

    def __contains__(self, name: object) -> bool:
        return any(key == name for key, _ in self.fields)

    def __bool__(self) -> bool:
        return bool(self.fields)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        return self.fields == other.fields

    def __hash__(self) -> int:
        return hash(self.fields)

    def __repr__(self) -> str:
        return f"Headers(fields={self.fields!r})"

    def __reduce__(self) -> tuple[Callable[..., Headers], tuple[tuple[tuple[str, str], ...]]]:
        return _headers_of, (self.fields,)


def _headers_of(fields: tuple[tuple[str, str], ...]) -> Headers:
    return Headers(fields=fields)


@value
class Entry:
    """What a report says about one recipient."""

    recipient: str
    original_recipient: str | None = None
    action: DsnAction = DsnAction.FAILED
    status: str | None = None  # enhanced status code as reported (or derived by the reader)
    reply_code: int | None = None  # SMTP reply code
    diagnostic: str = ""  # reply text or diagnostic, whitespace collapsed
    diagnostic_type: str | None = None  # "smtp", "x-unix", ... from Diagnostic-Code
    remote_mta: str | None = None
    command: str | None = None  # SMTP command that failed: CONN, EHLO, MAIL, RCPT, DATA
    hint: Reason | None = None  # a reason the format itself states unambiguously
    feedback_type: FeedbackType | None = None


@value
class Feedback:
    """The fields of a feedback report (RFC 5965, RFC 6591, JMRP and the like)."""

    feedback_type: FeedbackType
    user_agent: str | None = None
    version: str | None = None
    source_ip: str | None = None
    original_mail_from: str | None = None
    original_rcpt_to: tuple[str, ...] = ()
    arrival_date: str | None = None
    reported_domain: tuple[str, ...] = ()
    reported_uri: tuple[str, ...] = ()
    removal_recipient: tuple[str, ...] = ()
    authentication_results: tuple[str, ...] = ()
    auth_failure: str | None = None  # RFC 6591: dkim, spf, dmarc, bodyhash, ...
    incidents: int | None = None
    redacted: bool = False


@value
class Report:
    """Everything bounced read in one message."""

    kind: Kind
    format: str  # the reader that recognised it: "rfc3464", "postfix", "arf", "ses-json", ...
    entries: tuple[Entry, ...] = ()
    subject: str = ""
    sender: str = ""  # From: of the report
    envelope_to: tuple[str, ...] = ()  # where the report was sent: VERP return paths live here
    reporting_mta: str | None = None
    arrival_date: str | None = None
    original: Headers = field(default_factory=Headers)  # headers of the returned message
    feedback: Feedback | None = None


class Provider(StrEnum):
    """Receiving mailbox providers, rolled up from recipient domains and MX hosts."""

    GMAIL = "gmail"
    MICROSOFT = "microsoft"
    YAHOO = "yahoo"
    APPLE = "apple"
    ORANGE = "orange"
    SFR = "sfr"
    FREE = "free"
    LAPOSTE = "laposte"
    BOUYGUES = "bouygues"
    GMX = "gmx"
    MAILRU = "mailru"
    YANDEX = "yandex"
    COMCAST = "comcast"
    ATT = "att"
    CHARTER = "charter"
    COX = "cox"
    TENCENT = "tencent"
    NETEASE = "netease"
    ZOHO = "zoho"
    PROTON = "proton"
    FASTMAIL = "fastmail"
    DOCOMO = "docomo"
    KDDI = "kddi"
    SOFTBANK = "softbank"
    OTHER = "other"


@value
class Verdict:
    """What one entry means: the classification of one recipient."""

    reason: Reason
    category: Category
    action: Action
    hard: bool  # the address itself will not accept mail (Sisimai's hard bounce)
    status: str | None  # enhanced status code, derived from the reply text when missing
    reply_code: int | None
    provider: Provider


class AttributionSource(StrEnum):
    """Where the sender of a bounced message was learnt; only a signed reference is proof."""

    SIGNED_REFERENCE = "signed_reference"  # an HMAC-signed reference we put in the mail
    HEADER = "header"  # configured headers of the returned message (unsigned)
    FEEDBACK = "feedback"  # ARF Source-IP / Original-Mail-From
    RECEIVED = "received"  # Received headers of the returned message
    DELIVERY_LOG = "delivery_log"  # the ESP's own MTA delivery record (trusted, not a message)
    NONE = "none"


@value
class Attribution:
    """Who sent the mail that came back. Empty when nobody can be named."""

    client: str | None = None
    campaign: str | None = None
    sending_ip: str | None = None
    pool: str | None = None
    message_id: str | None = None
    source: AttributionSource = AttributionSource.NONE
    # Set only from a signed reference (bounced.signing):
    key_id: str | None = None  # the key that verified it
    # The lower-cased recipient the reference is bound to; None when the report shows none
    # that matches (a complaint with a redacted recipient): then it vouches for no address.
    recipient: str | None = None
    reference: str | None = None  # its tag in hex: two copies of one reference are one fact

    @property
    def verified(self) -> bool:
        """True when proof vouches for the client: a valid signature, or the ESP's own MTA log."""
        return self.source in (AttributionSource.SIGNED_REFERENCE, AttributionSource.DELIVERY_LOG)


UNATTRIBUTED = Attribution()


@value
class Signal:
    """One recipient of one report, classified and attributed: the unit the daemon acts on."""

    recipient: str
    kind: Kind
    reason: Reason
    category: Category
    action: Action
    hard: bool
    status: str | None
    reply_code: int | None
    provider: Provider
    diagnostic: str = ""
    remote_mta: str | None = None
    command: str | None = None
    feedback_type: FeedbackType | None = None
    attribution: Attribution = UNATTRIBUTED
