"""Signed references: who sent a mail, in a form that comes back with its bounces.

The ESP puts a reference in every outgoing mail; bounces and complaints bring it back, and
attribution (`bounced.attribute`) reads it. A reference names the client, and optionally the
campaign, pool, sending IP and message id, and it is bound to the recipient. It is signed with
HMAC-SHA256 so that nobody without the key can make one: not to get an address suppressed, not
to get a client demoted.

Theory of operation
-------------------
One binary payload, two text forms::

    payload = flags(1) | len|key id | len|client | [len|campaign] | [len|pool]
              | [ip: 4 or 16 bytes] | [len|message id] | recipient digest(4)
    tag     = HMAC-SHA256(key, "bounced-ref\\0" | form | version | payload), truncated
    token   = version char | base32(payload | tag), lower case, no padding

``flags`` says which optional fields follow; each text field is one length byte and ASCII. The
version char (``1`` today, outside the base32 alphabet ``a-z2-7``) comes first, so the format can
change without ambiguity. ``form`` (``v`` or ``h``) separates the two forms, so a tag made for one
never verifies as the other.

* **VERP form** (`verp_local_part`, `verp_address`): ``prefix + token`` is the local part of the
  return path, e.g. ``b+1mfrgg...@bounces.esp.example``. RFC 5321 caps a local part at 64 octets,
  and MTAs and providers may lower-case it, so the token is lower-case base32 without padding
  (decoding ignores case) and the tag is 80 bits. A two-character prefix leaves 38 bytes
  for the payload and tag: enough for a short key id, client and campaign; ids that do not fit
  raise `SigningError` at signing time, never a truncated reference.
* **Header form** (`header_value`, e.g. in ``X-Bounced-Ref:``): the same payload with a 128-bit
  tag, for messages whose headers come back; it may carry every field.

Tag length. A forger without the key cannot check a guess offline: each guess is a bounce sent
to the ESP, and succeeds with probability 2^-t. At 80 bits (the VERP form; RFC 2104 section 5's
lower bound) a billion forged bounces a day for a century succeed with probability below 2^-35.
RFC 2104's other advice, half the hash output (128 bits), matches the birthday bound of tag
collisions, which give no forgery against a keyed MAC; the header form, which has the room,
follows it anyway. NIST SP 800-107 Rev. 1 allows truncated HMAC tags on the same reasoning.

Recipient binding. The payload holds ``HMAC-SHA256(key, "bounced-rcpt\\0" | lower(address))``
truncated to 32 bits. A reference copied from one mail (the attacker's own, say) therefore names
that mail's recipient and no other: to suppress a victim the attacker would need a reference
whose digest equals the victim's, and as the digest is keyed they cannot search for one offline;
each blind try succeeds with probability 2^-32. The digest is in the payload, rather than the
address only in the MAC input, so that a reference still verifies when the provider redacts the
recipient of a complaint; it also reveals nothing about the address to whoever reads the mail.

Keys rotate by id: a `Keyring` has one signing key and older keys that still verify. An unknown
key id is an invalid reference. Tags are compared with `hmac.compare_digest`. Making a reference
raises `SigningError` with a message that names the field; verifying returns `None` for anything
that is not a valid reference and never raises, whatever text it is given. No secret appears in
a repr or an error message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from bounced.errors import SigningError

VERSION = "1"
VERP_TAG_BYTES = 10  # 80 bits: the local part is short
HEADER_TAG_BYTES = 16  # 128 bits: a header has room
RECIPIENT_DIGEST_BYTES = 4  # 32 bits, keyed: see the module docstring
MIN_KEY_BYTES = 16
MAX_LOCAL_PART = 64  # RFC 5321 section 4.5.3.1.1
MAX_HEADER_TOKEN = 600  # longer than any header token we make
MAX_ADDRESS = 254  # RFC 5321 path limit without the angle brackets
# Longest value of each id field (text fields are one length byte, so at most 255).
LIMITS = {"client": 64, "campaign": 64, "pool": 64, "message_id": 200}

_MAC_DOMAIN = b"bounced-ref\x00"
_RCPT_DOMAIN = b"bounced-rcpt\x00"
_VERP = b"v"
_HEADER = b"h"
_VERSION = VERSION.encode("ascii")

_CAMPAIGN, _POOL, _IPV4, _IPV6, _MESSAGE_ID = 1, 2, 4, 8, 16
_KNOWN_FLAGS = _CAMPAIGN | _POOL | _IPV4 | _IPV6 | _MESSAGE_ID

_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")
_ID = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII: no spaces, controls or non-ASCII
_BASE32 = re.compile(r"[a-z2-7]{2,1000}")
# RFC 4648 base32 digits (a-z2-7) to the digits int(..., 32) reads (0-9a-v): decoding is then
# one C-level int() call instead of base64.b32decode's Python loop.
_TO_INT32 = str.maketrans("abcdefghijklmnopqrstuvwxyz234567", "0123456789abcdefghijklmnopqrstuv")
_SPACE_OR_CONTROL = re.compile(r"[\x00-\x20\x7f]")


@dataclass(frozen=True, slots=True, eq=False)
class Key:
    """One HMAC key and its id. The secret never shows in a repr."""

    key_id: str
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.key_id, str) or not _KEY_ID.fullmatch(self.key_id):
            raise SigningError(f"key id {self.key_id!r} must be 1 to 16 of A-Z a-z 0-9 _ -")
        if not isinstance(self.secret, bytes):
            raise SigningError(f"the secret of key {self.key_id!r} must be bytes")
        if len(self.secret) < MIN_KEY_BYTES:
            raise SigningError(
                f"the secret of key {self.key_id!r} is {len(self.secret)} bytes; at least "
                f"{MIN_KEY_BYTES} are required (32 random bytes are recommended)"
            )

    @classmethod
    def from_base64(cls, key_id: str, text: str) -> Key:
        """A key whose secret is written in base64, as in a config file or environment."""
        try:
            secret = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise SigningError(f"the secret of key {key_id!r} is not valid base64") from None
        return cls(key_id=key_id, secret=secret)


@dataclass(frozen=True, slots=True, eq=False)
class Keyring:
    """The key that signs new references and the older keys that still verify."""

    signing: Key
    verifying: tuple[Key, ...] = ()
    _macs: dict[str, hmac.HMAC] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        macs: dict[str, hmac.HMAC] = {}
        for key in (self.signing, *self.verifying):
            if not isinstance(key, Key):
                raise SigningError("a keyring holds Key values only")
            if key.key_id in macs:
                raise SigningError(f"key id {key.key_id!r} appears twice in the keyring")
            # Keyed once; each use copies the state, which skips hashing the padded key.
            macs[key.key_id] = hmac.new(key.secret, digestmod=hashlib.sha256)
        object.__setattr__(self, "_macs", macs)

    def __reduce__(self) -> tuple[type[Keyring], tuple[Key, tuple[Key, ...]]]:
        # HMAC states do not pickle; rebuild them (e.g. in a worker process).
        return (Keyring, (self.signing, self.verifying))

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every key id that verifies, the signing key's first."""
        return tuple(self._macs)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reference:
    """What a reference says: the mail's sender and the recipient it is bound to."""

    client: str
    recipient: str
    campaign: str | None = None
    pool: str | None = None
    sending_ip: str | None = None
    message_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Verified:
    """A reference whose tag verified: its fields can be trusted."""

    key_id: str
    client: str
    campaign: str | None
    pool: str | None
    sending_ip: str | None
    message_id: str | None
    recipient_digest: bytes
    tag: bytes  # the same content signed with the same key gives the same tag


# -- making ----------------------------------------------------------------------------------


def verp_local_part(keyring: Keyring, reference: Reference, *, prefix: str) -> str:
    """``prefix + token``: the local part of a VERP return path. At most 64 octets."""
    if not isinstance(prefix, str) or _SPACE_OR_CONTROL.search(prefix) or "@" in prefix:
        raise SigningError(f"VERP prefix {prefix!r} must not contain '@', spaces or controls")
    local = prefix.lower() + _token(keyring, reference, _VERP, VERP_TAG_BYTES)
    if len(local.encode("utf-8")) > MAX_LOCAL_PART:
        raise SigningError(
            f"the VERP local part would be {len(local)} octets, over the {MAX_LOCAL_PART} of "
            "RFC 5321: use shorter ids, a shorter key id or prefix, or the header form"
        )
    return local


def verp_address(keyring: Keyring, reference: Reference, *, prefix: str, domain: str) -> str:
    """A complete VERP return path: ``prefix + token @ domain``."""
    domain = domain.strip().rstrip(".").lower() if isinstance(domain, str) else ""
    if not domain or "@" in domain or _SPACE_OR_CONTROL.search(domain):
        raise SigningError(f"VERP domain {domain!r} is not a domain name")
    return f"{verp_local_part(keyring, reference, prefix=prefix)}@{domain}"


def header_value(keyring: Keyring, reference: Reference) -> str:
    """The value of the reference header (``X-Bounced-Ref:`` by default)."""
    return _token(keyring, reference, _HEADER, HEADER_TAG_BYTES)


def _token(keyring: Keyring, reference: Reference, form: bytes, tag_bytes: int) -> str:
    key = keyring.signing
    payload = _payload(keyring, key.key_id, reference)
    tag = _mac(keyring, key.key_id, form, payload)[:tag_bytes]
    return VERSION + base64.b32encode(payload + tag).decode("ascii").rstrip("=").lower()


def _payload(keyring: Keyring, key_id: str, ref: Reference) -> bytes:
    flags = 0
    out = bytearray(b"\x00")
    out += _field("key id", key_id, 16)
    out += _field("client", _require(ref.client, "client"), LIMITS["client"])
    if ref.campaign is not None:
        flags |= _CAMPAIGN
        out += _field("campaign", ref.campaign, LIMITS["campaign"])
    if ref.pool is not None:
        flags |= _POOL
        out += _field("pool", ref.pool, LIMITS["pool"])
    if ref.sending_ip is not None:
        try:
            ip = ipaddress.ip_address(ref.sending_ip)
        except ValueError:
            raise SigningError(f"sending IP {ref.sending_ip!r} is not an IP address") from None
        flags |= _IPV4 if ip.version == 4 else _IPV6
        out += ip.packed
    if ref.message_id is not None:
        flags |= _MESSAGE_ID
        out += _field("message id", ref.message_id, LIMITS["message_id"])
    address = normal_address(ref.recipient)
    if address is None:
        raise SigningError(
            f"recipient {ref.recipient!r} is not an address (it needs an '@', no spaces or "
            f"controls, at most {MAX_ADDRESS} characters)"
        )
    out += _recipient_digest(keyring, key_id, address)
    out[0] = flags
    return bytes(out)


def _require(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise SigningError(f"the {name} is required")
    return value


def _field(name: str, value: object, limit: int) -> bytes:
    if not isinstance(value, str):
        raise SigningError(f"the {name} must be a string")
    if len(value) > limit:
        raise SigningError(f"the {name} is {len(value)} characters, over the limit of {limit}")
    if not _ID.fullmatch(value):
        raise SigningError(
            f"the {name} {value!r} must be visible ASCII characters (no spaces or controls)"
        )
    return bytes((len(value),)) + value.encode("ascii")


def _mac(keyring: Keyring, key_id: str, form: bytes, payload: bytes) -> bytes:
    mac = keyring._macs[key_id].copy()
    mac.update(_MAC_DOMAIN + form + _VERSION + payload)
    return mac.digest()


def _recipient_digest(keyring: Keyring, key_id: str, address: str) -> bytes:
    mac = keyring._macs[key_id].copy()
    mac.update(_RCPT_DOMAIN + address.encode("utf-8", "surrogatepass"))
    return mac.digest()[:RECIPIENT_DIGEST_BYTES]


def normal_address(address: str) -> str | None:
    """An address as references bind it: trimmed, without angle brackets, lower case."""
    address = address.strip().removeprefix("<").removesuffix(">").lower()
    if (
        not 3 <= len(address) <= MAX_ADDRESS
        or "@" not in address[1:-1]
        or _SPACE_OR_CONTROL.search(address)
    ):
        return None
    return address


# -- verifying -------------------------------------------------------------------------------


def verp_token(address: str, *, prefix: str, domains: Iterable[str]) -> str | None:
    """The token of a VERP return path of ours, or None when the address is not one.

    `domains` should be a set of lower-case domains. A token is returned unverified: an address
    at our domain with our prefix is a reference, valid or not.
    """
    local, at, domain = address.strip().strip("<>").rpartition("@")
    if not at or domain.rstrip(".").lower() not in domains:
        return None
    if len(local) <= len(prefix) or local[: len(prefix)].lower() != prefix:
        return None
    return local[len(prefix) :]


def verify_verp(keyring: Keyring, token: str) -> Verified | None:
    """The reference in a VERP token (the local part after the prefix), or None if invalid."""
    return _verify(keyring, token, _VERP, VERP_TAG_BYTES, MAX_LOCAL_PART)


def verify_header(keyring: Keyring, value: str) -> Verified | None:
    """The reference in a header value, or None if invalid."""
    return _verify(keyring, value.strip(), _HEADER, HEADER_TAG_BYTES, MAX_HEADER_TOKEN)


def matches_recipient(keyring: Keyring, verified: Verified, address: str) -> bool:
    """True when a verified reference was made for this address (compared in lower case)."""
    normal = normal_address(address)
    if normal is None or verified.key_id not in keyring._macs:
        return False
    digest = _recipient_digest(keyring, verified.key_id, normal)
    return hmac.compare_digest(digest, verified.recipient_digest)


def _verify(
    keyring: Keyring, token: str, form: bytes, tag_bytes: int, max_len: int
) -> Verified | None:
    if not 2 <= len(token) <= max_len or token[0] != VERSION:
        return None
    raw = _b32decode(token[1:])
    if raw is None or len(raw) < 3 + tag_bytes + RECIPIENT_DIGEST_BYTES:
        return None
    payload, tag = raw[:-tag_bytes], raw[-tag_bytes:]
    key_len = payload[1]
    key_id = payload[2 : 2 + key_len].decode("ascii", "replace")
    if key_id not in keyring._macs:
        return None
    if not hmac.compare_digest(_mac(keyring, key_id, form, payload)[:tag_bytes], tag):
        return None
    return _read_payload(payload, tag)


def _b32decode(text: str) -> bytes | None:
    """Lower- or upper-case base32 without padding; None unless canonical."""
    if not text.isascii():
        return None
    text = text.lower()
    if not _BASE32.fullmatch(text):
        return None
    bits = 5 * len(text)
    size, spare = divmod(bits, 8)
    if spare >= 5:  # a whole character of padding bits: not a length base32 produces
        return None
    number = int(text.translate(_TO_INT32), 32)
    if number & ((1 << spare) - 1):  # non-zero padding bits: not the canonical encoding
        return None
    return (number >> spare).to_bytes(size, "big")


def _read_payload(payload: bytes, tag: bytes) -> Verified | None:
    """The fields of an authenticated payload, checked as strictly as when it was made."""
    flags = payload[0]
    if flags & ~_KNOWN_FLAGS or (flags & _IPV4 and flags & _IPV6):
        return None
    pos = 1
    values: list[str | None] = []
    for present, limit in (
        (True, 16),
        (True, LIMITS["client"]),
        (flags & _CAMPAIGN, LIMITS["campaign"]),
        (flags & _POOL, LIMITS["pool"]),
    ):
        if not present:
            values.append(None)
            continue
        text, pos = _read_text(payload, pos, limit)
        if text is None:
            return None
        values.append(text)
    sending_ip = None
    if flags & (_IPV4 | _IPV6):
        size = 4 if flags & _IPV4 else 16
        if pos + size > len(payload):
            return None
        sending_ip = str(ipaddress.ip_address(payload[pos : pos + size]))
        pos += size
    message_id = None
    if flags & _MESSAGE_ID:
        message_id, pos = _read_text(payload, pos, LIMITS["message_id"])
        if message_id is None:
            return None
    if len(payload) - pos != RECIPIENT_DIGEST_BYTES:
        return None
    key_id, client, campaign, pool = values
    if key_id is None or client is None or not _KEY_ID.fullmatch(key_id):
        return None
    return Verified(
        key_id=key_id,
        client=client,
        campaign=campaign,
        pool=pool,
        sending_ip=sending_ip,
        message_id=message_id,
        recipient_digest=payload[pos:],
        tag=tag,
    )


def _read_text(buf: bytes, pos: int, limit: int) -> tuple[str | None, int]:
    if pos >= len(buf):
        return None, pos
    size = buf[pos]
    end = pos + 1 + size
    if size > limit or end > len(buf):
        return None, pos
    text = buf[pos + 1 : end].decode("ascii", "replace")
    return (text if _ID.fullmatch(text) else None), end
