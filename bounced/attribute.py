"""Attribution: who sent the mail that came back (client, campaign, sending IP, pool, message id).

Theory of operation
-------------------
Proof first, hints second, and never a hint in place of a failed proof.

1. **Signed references** (`bounced.signing`). They are looked for in the report's envelope
   recipients (a bounce is delivered to the VERP return path), in the reference header and the
   Return-Path of the returned message, and in an ARF report's Original-Mail-From. Every
   reference found must verify and all must agree; they must also be bound to one of the
   report's recipients (Final-Recipient, Original-Recipient, Original-Rcpt-To). The result is
   then ``source=signed_reference`` with ``recipient`` set to that address. A complaint whose
   recipient is redacted or absent keeps the attribution with ``recipient=None``: the client is
   proven, the address is not. Anything else — a forged or tampered reference, an unknown key
   id, two references that disagree, a reference bound to somebody else — gives `UNATTRIBUTED`,
   and the unsigned sources are not consulted: an attacker who cannot forge a reference must not
   be able to steer attribution by breaking one.
2. **Unsigned fallbacks**, when no reference is present, in the configured order: `HEADER`
   (configured header rules, such as X-Campaign-Id, Gmail's Feedback-ID or Message-ID, and the
   Return-Path domain), `FEEDBACK` (ARF Source-IP in the ESP's own networks, Original-Mail-From
   domain) and `RECEIVED` (the topmost Received header naming an IP of the ESP's own networks).
   Each field is taken from the first source that has it; ``source`` names the first source that
   contributed, so the policy can tell proof from hints (`Attribution.verified`).

Per recipient, `bind` keeps a signed attribution only for the recipient it is bound to, so a
reference copied from one mail cannot be used against another address.

The configuration is compiled once (networks parsed and sorted, header names collected), so the
work per report is one pass over the returned headers plus a set lookup per envelope address:
a few microseconds when there is nothing to find. No I/O; regexes are linear and their input is
bounded.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, TypeAlias

from bounced import signing
from bounced.errors import ConfigError
from bounced.model import UNATTRIBUTED, Attribution, AttributionSource, Report
from bounced.signing import Keyring, Verified

__all__ = ["AttributionConfig", "HeaderRule", "attribute", "bind"]

Source = AttributionSource
FIELDS = ("client", "campaign", "pool", "sending_ip", "message_id")
DEFAULT_FALLBACKS = (Source.HEADER, Source.FEEDBACK, Source.RECEIVED)
MAX_VALUE = 1000  # a header value is cut here before a rule's pattern sees it
MAX_RECEIVED = 30  # Received headers read, from the top
MAX_CANDIDATES = 64  # recipients of one report tried against a reference's binding

_NETWORK: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
_HEADER_NAME = re.compile(r"[!-9;-~]{1,76}")  # RFC 5322 ftext
_PREFIX = re.compile(r"[a-z0-9._+=-]{0,32}")
_DOMAIN = re.compile(r"[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){0,8}")  # A-labels for IDNs
_ID = re.compile(r"[\x21-\x7e]{1,255}")
# An IP literal in a Received header: Postfix and Gmail write "(host [192.0.2.1])", Exim
# "([192.0.2.1])" and "[IPv6:2001:db8::1]", Microsoft "(192.0.2.1)" and "(2603:10b6::1)".
_IP_LITERAL = re.compile(r"[\[(](?:IPv6:)?([0-9A-Fa-f.:]{3,45})[\])]")


@dataclass(frozen=True, slots=True, kw_only=True)
class HeaderRule:
    """An unsigned header of the returned message that names the sender.

    Either `target`, the field its whole value goes to, or `pattern`, a regex whose named groups
    (client, campaign, pool, sending_ip, message_id) are searched for in the value. Patterns come
    from the operator and must be linear (bounded repetitions, no nested quantifiers); values are
    cut to `MAX_VALUE` characters first. Example, Gmail's ``Feedback-ID: a:b:c:SenderId``::

        HeaderRule(header="Feedback-ID",
                   pattern=r"^(?P<campaign>[^:]{1,64}):(?P<client>[^:]{1,64}):")
    """

    header: str
    target: str | None = None
    pattern: str | None = None
    _regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        name = self.header.strip().lower() if isinstance(self.header, str) else ""
        if not _HEADER_NAME.fullmatch(name):
            raise ConfigError(f"header rule: {self.header!r} is not a header field name")
        object.__setattr__(self, "header", name)
        if (self.target is None) == (self.pattern is None):
            raise ConfigError(f"header rule {name!r}: give either a target or a pattern")
        if self.target is not None and self.target not in FIELDS:
            raise ConfigError(
                f"header rule {name!r}: target {self.target!r} is not one of {', '.join(FIELDS)}"
            )
        regex = None
        if self.pattern is not None:
            try:
                regex = re.compile(self.pattern)
            except (re.error, TypeError) as exc:
                raise ConfigError(f"header rule {name!r}: the pattern is invalid: {exc}") from None
            groups = set(regex.groupindex)
            if not groups or not groups <= set(FIELDS):
                raise ConfigError(
                    f"header rule {name!r}: the pattern's named groups {sorted(groups)} must be "
                    f"some of {', '.join(FIELDS)}"
                )
        object.__setattr__(self, "_regex", regex)

    def read(self, value: str) -> dict[str, str]:
        """The fields this rule finds in one value of its header (unvalidated)."""
        value = value.strip()[:MAX_VALUE]
        if self._regex is None:
            return {self.target: value} if self.target and value else {}
        match = self._regex.search(value)
        if match is None:
            return {}
        return {name: text for name, text in match.groupdict().items() if text}


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributionConfig:
    """How to find who sent a mail. Compiled once; `attribute` reads it for every report.

    * `keyring` verifies signed references; `verp_domains` and `verp_prefix` say which return
      paths carry one (``prefix + token @ domain``, compared case-insensitively);
      `reference_header` names the header that carries one (None: not read).
    * `fallbacks`: the unsigned sources, in order, when no reference is present.
    * `header_rules`: what the `HEADER` source reads.
    * `networks`: the ESP's sending networks, CIDR → pool name (most specific wins), used to
      recognise its IPs in ARF Source-IP and Received headers and to name the pool of a signed
      sending IP.
    * `sender_domains`: envelope sender domain → client, for clients with a return-path domain
      of their own (read from Return-Path and ARF Original-Mail-From).
    """

    keyring: Keyring | None = None
    verp_domains: frozenset[str] = frozenset()
    verp_prefix: str = ""
    reference_header: str | None = "x-bounced-ref"
    fallbacks: tuple[AttributionSource, ...] = DEFAULT_FALLBACKS
    header_rules: tuple[HeaderRule, ...] = ()
    networks: Mapping[str, str] = field(default_factory=dict)
    sender_domains: Mapping[str, str] = field(default_factory=dict)
    _networks: tuple[tuple[_NETWORK, str], ...] = field(init=False, repr=False, compare=False)
    _wanted: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if self.keyring is not None and not isinstance(self.keyring, Keyring):
            raise ConfigError("attribution.keyring must be a Keyring")
        domains = frozenset(_domain(d, "attribution.verp_domains") for d in self.verp_domains)
        if domains and self.keyring is None:
            raise ConfigError("attribution.verp_domains needs a keyring to verify references")
        set_(self, "verp_domains", domains)
        prefix = self.verp_prefix.lower() if isinstance(self.verp_prefix, str) else None
        if prefix is None or not _PREFIX.fullmatch(prefix):
            raise ConfigError(
                f"attribution.verp_prefix {self.verp_prefix!r} must be up to 32 characters "
                "of a-z 0-9 . _ + = -"
            )
        set_(self, "verp_prefix", prefix)
        header = self.reference_header
        if header is not None:
            header = header.strip().lower() if isinstance(header, str) else ""
            if not _HEADER_NAME.fullmatch(header):
                raise ConfigError(f"attribution.reference_header {header!r} is not a field name")
            set_(self, "reference_header", header)
        fallbacks = tuple(self.fallbacks)
        for source in fallbacks:
            if source not in DEFAULT_FALLBACKS:
                raise ConfigError(
                    f"attribution.fallbacks: {source!r} is not one of header, feedback, received"
                )
        if len(set(fallbacks)) != len(fallbacks):
            raise ConfigError("attribution.fallbacks names a source twice")
        set_(self, "fallbacks", fallbacks)
        rules = tuple(self.header_rules)
        if not all(isinstance(rule, HeaderRule) for rule in rules):
            raise ConfigError("attribution.header_rules must be HeaderRule values")
        set_(self, "header_rules", rules)
        set_(self, "networks", MappingProxyType(dict(self.networks)))
        set_(self, "_networks", _compile_networks(self.networks))
        senders = {
            _domain(d, "attribution.sender_domains"): _id(c, "attribution.sender_domains")
            for d, c in self.sender_domains.items()
        }
        set_(self, "sender_domains", MappingProxyType(senders))
        wanted = {rule.header for rule in rules}
        if header is not None:
            wanted.add(header)
        if domains or senders:
            wanted.add("return-path")
        if Source.RECEIVED in fallbacks and self._networks:
            wanted.add("received")
        set_(self, "_wanted", frozenset(wanted))

    def __reduce__(self) -> tuple[object, tuple[dict[str, object]]]:
        # Read-only mappings do not pickle; rebuild from the settings (e.g. in a worker process).
        settings: dict[str, object] = {}
        for setting in fields(self):
            if setting.init:
                value = getattr(self, setting.name)
                settings[setting.name] = dict(value) if isinstance(value, Mapping) else value
        return (_rebuild, (settings,))

    def network_of(self, text: str) -> tuple[str, str] | None:
        """``(ip, pool)`` when `text` is an IP address in the ESP's own networks."""
        if not self._networks:
            return None
        try:
            ip = ipaddress.ip_address(text.strip())
        except ValueError:
            return None
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        for network, pool in self._networks:
            if ip in network:
                return str(ip), pool
        return None


def _rebuild(settings: dict[str, Any]) -> AttributionConfig:
    return AttributionConfig(**settings)


def _domain(value: object, where: str) -> str:
    text = value.strip().rstrip(".").lower() if isinstance(value, str) else ""
    if not _DOMAIN.fullmatch(text):
        raise ConfigError(f"{where}: {value!r} is not a domain name (use A-labels for IDNs)")
    return text


def _id(value: object, where: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value) or len(value) > 64:
        raise ConfigError(f"{where}: {value!r} must be 1 to 64 visible ASCII characters")
    return value


def _compile_networks(networks: Mapping[str, str]) -> tuple[tuple[_NETWORK, str], ...]:
    out: list[tuple[_NETWORK, str]] = []
    for cidr, pool in networks.items():
        try:
            network = ipaddress.ip_network(cidr)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"attribution.networks: {cidr!r} is not a network: {exc}") from None
        out.append((network, _id(pool, f"attribution.networks[{cidr!r}]")))
    out.sort(key=lambda item: item[0].prefixlen, reverse=True)  # most specific first
    return tuple(out)


# -- attribution -----------------------------------------------------------------------------


def attribute(report: Report, config: AttributionConfig) -> Attribution:
    """Who sent the mail a report is about. Pure; never raises on what the report contains."""
    headers: dict[str, list[str]] = {}
    wanted = config._wanted
    for name, value in report.original.fields:
        if name in wanted:
            headers.setdefault(name, []).append(value)
    references = _references(report, headers, config)
    if references:
        return _signed(report, references, config)
    return _fallback(report, headers, config)


def bind(attribution: Attribution, *addresses: str | None) -> Attribution:
    """The attribution for a signal about one recipient (its address and original address).

    A signed attribution is kept only for the recipient its reference is bound to; for any other
    address, or when the reference's recipient was not visible, it becomes `UNATTRIBUTED`.
    Unsigned attributions are hints about the whole report and are returned unchanged.
    """
    if attribution.source is not Source.SIGNED_REFERENCE:
        return attribution
    if attribution.recipient is not None:
        for address in addresses:
            if address and signing.normal_address(address) == attribution.recipient:
                return attribution
    return UNATTRIBUTED


def _references(
    report: Report, headers: dict[str, list[str]], config: AttributionConfig
) -> dict[str, bool]:
    """Every reference token present, mapped to True for the header form, False for VERP."""
    found: dict[str, bool] = {}
    if config.reference_header is not None:
        for value in headers.get(config.reference_header, ()):
            found.setdefault(value.strip(), True)
    domains = config.verp_domains
    if domains:
        addresses = list(report.envelope_to)
        addresses.extend(headers.get("return-path", ()))
        if report.feedback is not None and report.feedback.original_mail_from:
            addresses.append(report.feedback.original_mail_from)
        for address in addresses:
            token = signing.verp_token(address, prefix=config.verp_prefix, domains=domains)
            if token is not None:
                found.setdefault(token, False)
    return found


def _signed(report: Report, references: dict[str, bool], config: AttributionConfig) -> Attribution:
    keyring = config.keyring
    if keyring is None:  # a reference we cannot check is not proof
        return UNATTRIBUTED
    verified: list[Verified] = []
    for token, is_header in sorted(references.items(), key=lambda item: not item[1]):
        if is_header:
            result = signing.verify_header(keyring, token)
        else:
            result = signing.verify_verp(keyring, token)
        if result is None:
            return UNATTRIBUTED
        verified.append(result)
    values: dict[str, str] = {}
    for result in verified:
        for name in FIELDS:
            value = getattr(result, name)
            if value is not None and values.setdefault(name, value) != value:
                return UNATTRIBUTED  # two genuine references from different mails
    candidates = _candidates(report)
    bound = {
        next((c for c in candidates if signing.matches_recipient(keyring, result, c)), None)
        for result in verified
    }
    if len(bound) != 1:
        return UNATTRIBUTED
    recipient = bound.pop()
    feedback = report.feedback
    if recipient is None and (feedback is None or (candidates and not feedback.redacted)):
        return UNATTRIBUTED  # a reference copied from a mail to somebody else
    sending_ip = values.get("sending_ip")
    pool = values["pool"] if "pool" in values else _pool_of(sending_ip, config)
    return Attribution(
        client=values["client"],
        campaign=values.get("campaign"),
        sending_ip=sending_ip,
        pool=pool,
        message_id=values.get("message_id"),
        source=Source.SIGNED_REFERENCE,
        key_id=verified[0].key_id,
        recipient=recipient,
        reference=verified[0].tag.hex(),
    )


def _pool_of(sending_ip: str | None, config: AttributionConfig) -> str | None:
    """The pool of one of the ESP's own addresses, when the reference did not name it."""
    hit = config.network_of(sending_ip) if sending_ip is not None else None
    return hit[1] if hit else None


def _candidates(report: Report) -> list[str]:
    """The report's recipients, as references bind them."""
    found: dict[str, None] = {}
    addresses: list[str | None] = []
    for entry in report.entries:
        addresses += (entry.recipient, entry.original_recipient)
    if report.feedback is not None:
        addresses += report.feedback.original_rcpt_to
    for address in addresses:
        normal = signing.normal_address(address) if address else None
        if normal is not None:
            found[normal] = None
    return list(found)[:MAX_CANDIDATES]


# -- unsigned fallbacks ----------------------------------------------------------------------


def _fallback(
    report: Report, headers: dict[str, list[str]], config: AttributionConfig
) -> Attribution:
    values: dict[str, str] = {}
    source: AttributionSource | None = None
    for candidate in config.fallbacks:
        found = _READERS[candidate](report, headers, config)
        if found:
            source = source or candidate
            for name, value in found.items():
                values.setdefault(name, value)
    if source is None:
        return UNATTRIBUTED
    sending_ip = values.get("sending_ip")
    pool = values["pool"] if "pool" in values else _pool_of(sending_ip, config)
    return Attribution(
        client=values.get("client"),
        campaign=values.get("campaign"),
        sending_ip=sending_ip,
        pool=pool,
        message_id=values.get("message_id"),
        source=source,
    )


def _from_headers(
    report: Report, headers: dict[str, list[str]], config: AttributionConfig
) -> dict[str, str]:
    out: dict[str, str] = {}
    for rule in config.header_rules:
        for value in headers.get(rule.header, ()):
            for name, text in rule.read(value).items():
                clean = _clean(name, text)
                if clean is not None:
                    out.setdefault(name, clean)
    for value in headers.get("return-path", ()):
        client = _client_of_sender(value, config)
        if client is not None:
            out.setdefault("client", client)
    return out


def _from_feedback(
    report: Report, headers: dict[str, list[str]], config: AttributionConfig
) -> dict[str, str]:
    feedback = report.feedback
    out: dict[str, str] = {}
    if feedback is None:
        return out
    if feedback.source_ip:
        hit = config.network_of(feedback.source_ip)
        if hit is not None:
            out["sending_ip"], out["pool"] = hit
    if feedback.original_mail_from:
        client = _client_of_sender(feedback.original_mail_from, config)
        if client is not None:
            out["client"] = client
    return out


def _from_received(
    report: Report, headers: dict[str, list[str]], config: AttributionConfig
) -> dict[str, str]:
    # The topmost Received header that names one of our IPs was written by the receiving side
    # about the connection from our last hop: that IP sent the mail.
    for value in headers.get("received", ())[:MAX_RECEIVED]:
        for match in _IP_LITERAL.finditer(value, 0, MAX_VALUE):
            hit = config.network_of(match.group(1))
            if hit is not None:
                return {"sending_ip": hit[0], "pool": hit[1]}
    return {}


_READERS = {
    Source.HEADER: _from_headers,
    Source.FEEDBACK: _from_feedback,
    Source.RECEIVED: _from_received,
}


def _client_of_sender(value: str, config: AttributionConfig) -> str | None:
    if not config.sender_domains:
        return None
    domain = value.strip().strip("<>").rpartition("@")[2].rstrip(".").lower()
    return config.sender_domains.get(domain)


def _clean(name: str, value: str) -> str | None:
    """A value read from an unsigned source, or None when it is not a plausible id."""
    if name == "sending_ip":
        try:
            return str(ipaddress.ip_address(value.strip().strip("[]")))
        except ValueError:
            return None
    if name == "message_id":
        value = value.strip().removeprefix("<").removesuffix(">")
    limit = signing.LIMITS.get(name, 64)
    if len(value) > limit or not _ID.fullmatch(value):
        return None
    return value
