"""Enhanced status codes and SMTP reply codes: what they name, and how to find them in text.

Theory of operation:
- `NAME` says which reason an enhanced status code (RFC 3463, the IANA registry) names by
  itself. Generic codes (x.0.0, 4.3.0, 4.4.0, 4.5.0, 4.7.0) name nothing: the reply text decides.
  Codes are class-specific: 4.2.1 (temporarily disabled) is not 5.2.1.
- `find_status` and `find_reply` pick codes out of a reply text the way the reference parser
  (Sisimai 5) does, so that derived values compare with it: IPv4 addresses are masked first,
  a code glued to a digit, a dot or a "v" (version numbers) is not a code, and of several codes
  the specific one wins over x.0.0 (`prefer`).
- `PSEUDO` holds the reference parser's internal codes (X.9.NNN, Sisimai 5.7), used as the
  status of a recipient whose report carries no code at all, so that the class digit still tells
  permanent from temporary.
- `is_hard` is the reference parser's hard-bounce rule: the address itself is wrong.
"""

from __future__ import annotations

import re

from bounced.model import Reason

R = Reason

# Rule 1: enhanced status code -> the reason it names by itself (RFC 3463, RFC 5248 registry,
# RFC 7372, RFC 7505, RFC 8689; reasons as the reference parser assigns them).
NAME: dict[str, Reason] = {
    "2.1.5": R.DELIVERED,  # destination address valid
    "4.1.6": R.HASMOVED,  # mailbox has moved, no forwarding address
    "4.1.7": R.REJECTED,  # bad sender's mailbox address syntax
    "4.1.8": R.REJECTED,  # bad sender's system address
    "4.1.9": R.SYSTEMERROR,  # message relayed to non-compliant mailer
    "4.2.1": R.BLOCKED,  # mailbox disabled (temporarily): receiving refused
    "4.2.2": R.MAILBOXFULL,  # mailbox full
    "4.2.3": R.EXCEEDLIMIT,  # message length exceeds administrative limit
    "4.2.4": R.FILTERED,  # mailing list expansion problem
    "4.3.1": R.SYSTEMFULL,  # mail system full
    "4.3.2": R.NOTACCEPT,  # system not accepting network messages
    "4.3.3": R.SYSTEMERROR,  # system not capable of selected features
    "4.3.5": R.SYSTEMERROR,  # system incorrectly configured
    "4.4.1": R.EXPIRED,  # no answer from host
    "4.4.2": R.NETWORKERROR,  # bad connection
    "4.4.3": R.SYSTEMERROR,  # directory server failure
    "4.4.4": R.NETWORKERROR,  # unable to route
    "4.4.5": R.SYSTEMFULL,  # mail system congestion
    "4.4.6": R.NETWORKERROR,  # routing loop detected
    "4.4.7": R.EXPIRED,  # delivery time expired
    "4.4.8": R.NETWORKERROR,  # retry on IPv4 (Microsoft)
    "4.5.3": R.SYSTEMERROR,  # too many recipients
    "4.5.5": R.SYSTEMERROR,  # wrong protocol version
    "4.6.0": R.CONTENTERROR,  # other or undefined media error
    "4.6.2": R.CONTENTERROR,  # conversion required and prohibited
    "4.6.5": R.CONTENTERROR,  # conversion failed
    "4.7.1": R.BLOCKED,  # delivery not authorized, message refused (temporarily)
    "4.7.2": R.BLOCKED,  # mailing list expansion prohibited
    "4.7.5": R.SECURITYERROR,  # cryptographic failure
    "4.7.6": R.SECURITYERROR,  # cryptographic algorithm not supported
    "4.7.7": R.SECURITYERROR,  # message integrity failure
    "4.7.12": R.SECURITYERROR,  # a password transition is needed
    "4.7.15": R.SECURITYERROR,  # priority level is too low
    "4.7.16": R.MESGTOOBIG,  # message too big for the specified priority
    "4.7.24": R.AUTHFAILURE,  # SPF validation error
    "4.7.25": R.REQUIREPTR,  # reverse DNS validation failed
    "4.7.26": R.AUTHFAILURE,  # multiple authentication checks failed
    "5.1.0": R.USERUNKNOWN,  # other address status
    "5.1.1": R.USERUNKNOWN,  # bad destination mailbox address
    "5.1.2": R.HOSTUNKNOWN,  # bad destination system address
    "5.1.3": R.USERUNKNOWN,  # bad destination mailbox address syntax
    "5.1.4": R.FILTERED,  # destination mailbox address ambiguous
    "5.1.6": R.HASMOVED,  # mailbox has moved, no forwarding address
    "5.1.7": R.REJECTED,  # bad sender's mailbox address syntax
    "5.1.8": R.REJECTED,  # bad sender's system address
    "5.1.9": R.SYSTEMERROR,  # message relayed to non-compliant mailer
    "5.1.10": R.NOTACCEPT,  # recipient address has null MX
    "5.2.0": R.FILTERED,  # other or undefined mailbox status
    "5.2.1": R.FILTERED,  # mailbox disabled, not accepting messages
    "5.2.2": R.MAILBOXFULL,  # mailbox full
    "5.2.3": R.EXCEEDLIMIT,  # message length exceeds administrative limit
    "5.2.4": R.FILTERED,  # mailing list expansion problem
    "5.3.0": R.SYSTEMERROR,  # other or undefined mail system status
    "5.3.1": R.SYSTEMFULL,  # mail system full
    "5.3.2": R.NOTACCEPT,  # system not accepting network messages
    "5.3.3": R.SYSTEMERROR,  # system not capable of selected features
    "5.3.4": R.MESGTOOBIG,  # message too big for system
    "5.3.5": R.SYSTEMERROR,  # system incorrectly configured
    "5.4.0": R.NETWORKERROR,  # other or undefined network or routing status
    "5.4.3": R.SYSTEMERROR,  # directory server failure
    "5.4.4": R.HOSTUNKNOWN,  # unable to route
    "5.5.2": R.SYNTAXERROR,  # syntax error
    "5.5.3": R.TOOMANYCONN,  # too many recipients
    "5.5.4": R.SYSTEMERROR,  # invalid command arguments
    "5.5.5": R.SYSTEMERROR,  # wrong protocol version
    "5.5.6": R.SYNTAXERROR,  # authentication exchange line is too long
    "5.6.0": R.CONTENTERROR,  # other or undefined media error
    "5.6.1": R.CONTENTERROR,  # media not supported
    "5.6.2": R.CONTENTERROR,  # conversion required and prohibited
    "5.6.3": R.CONTENTERROR,  # conversion required but not supported
    "5.6.5": R.CONTENTERROR,  # conversion failed
    "5.6.6": R.CONTENTERROR,  # message content not available
    "5.6.7": R.CONTENTERROR,  # non-ASCII addresses not permitted
    "5.6.8": R.CONTENTERROR,  # UTF-8 string reply required
    "5.6.9": R.CONTENTERROR,  # UTF-8 header cannot be transferred
    "5.7.0": R.SECURITYERROR,  # other or undefined security status
    "5.7.1": R.SECURITYERROR,  # delivery not authorized, message refused
    "5.7.2": R.SECURITYERROR,  # mailing list expansion prohibited
    "5.7.3": R.SECURITYERROR,  # security conversion required but not possible
    "5.7.4": R.SECURITYERROR,  # security features not supported
    "5.7.5": R.SECURITYERROR,  # cryptographic failure
    "5.7.6": R.SECURITYERROR,  # cryptographic algorithm not supported
    "5.7.7": R.SECURITYERROR,  # message integrity failure
    "5.7.8": R.SECURITYERROR,  # authentication credentials invalid
    "5.7.9": R.SECURITYERROR,  # authentication mechanism is too weak
    "5.7.10": R.SECURITYERROR,  # encryption needed
    "5.7.11": R.SECURITYERROR,  # encryption required for the authentication mechanism
    "5.7.13": R.SUSPEND,  # user account disabled
    "5.7.14": R.SECURITYERROR,  # trust relationship required
    "5.7.15": R.SECURITYERROR,  # priority level is too low
    "5.7.16": R.MESGTOOBIG,  # message too big for the specified priority
    "5.7.17": R.HASMOVED,  # mailbox owner has changed
    "5.7.18": R.HASMOVED,  # domain owner has changed
    "5.7.19": R.SECURITYERROR,  # RRVS test cannot be completed
    "5.7.20": R.AUTHFAILURE,  # no passing DKIM signature found
    "5.7.21": R.AUTHFAILURE,  # no acceptable DKIM signature found
    "5.7.22": R.AUTHFAILURE,  # no valid author-matched DKIM signature found
    "5.7.23": R.AUTHFAILURE,  # SPF validation failed
    "5.7.24": R.AUTHFAILURE,  # SPF validation error
    "5.7.25": R.REQUIREPTR,  # reverse DNS validation failed
    "5.7.26": R.AUTHFAILURE,  # multiple authentication checks failed
    "5.7.27": R.NOTACCEPT,  # sender address has null MX
    "5.7.28": R.SPAMDETECTED,  # mail flood detected
    "5.7.29": R.AUTHFAILURE,  # ARC validation failure
    "5.7.30": R.FAILEDSTARTTLS,  # REQUIRETLS support required
}

# Rule 2: the reference parser's internal codes (class digit + ".9." + these digits, as in
# Sisimai 5.7) for a recipient whose report has no code. The subject digit 9 is outside the
# registry, so such a code can never be mistaken for one a server sent. Temporary codes do not
# exist for the three reasons that are about the address itself.
PSEUDO: dict[Reason, str] = {
    R.REJECTED: "110",
    R.AUTHFAILURE: "130",
    R.SPEEDING: "131",
    R.TOOMANYCONN: "131",
    R.BADREPUTATION: "132",
    R.REQUIREPTR: "133",
    R.BLOCKED: "134",
    R.CONTENTERROR: "160",
    R.EXCEEDLIMIT: "161",
    R.MESGTOOBIG: "161",
    R.NOTCOMPLIANTRFC: "162",
    R.SPAMDETECTED: "164",
    R.VIRUSDETECTED: "165",
    R.FILTERED: "210",
    R.HASMOVED: "211",
    R.HOSTUNKNOWN: "212",
    R.USERUNKNOWN: "213",
    R.NORELAYING: "214",
    R.NOTACCEPT: "215",
    R.MAILBOXFULL: "220",
    R.SUSPEND: "221",
    R.MAILERERROR: "230",
    R.SYSTEMERROR: "231",
    R.SYSTEMFULL: "232",
    R.UNDEFINED: "300",
    R.ONHOLD: "301",
    R.EXPIRED: "340",
    R.NETWORKERROR: "341",
    R.FAILEDSTARTTLS: "350",
    R.SYNTAXERROR: "351",
    R.SECURITYERROR: "370",
    R.POLICYVIOLATION: "371",
}
_NO_TEMPORARY_PSEUDO = frozenset({R.HASMOVED, R.HOSTUNKNOWN, R.USERUNKNOWN})

# Rule 3: reply codes by class, in the order the reference parser looks for them: when a text
# holds several, the first of this list wins, not the first in the text.
REPLY_CODES: dict[str, tuple[int, ...]] = {
    "2": (211, 214, 220, 221, 235, 250, 251, 252, 253, 334, 354),
    "4": (421, 450, 451, 452, 422, 430, 432, 453, 454, 455, 458, 459),
    "5": (
        *(550, 552, 553, 551, 521, 525, 523, 524, 530, 533, 534, 535, 538, 555, 556, 554),
        *(500, 501, 502, 503, 504),
    ),
}
# Rule 4: reply codes that name a reason by themselves (RFC 5321, RFC 4954, RFC 5248, RFC 7504).
REPLY_REASON: dict[int, Reason] = {
    422: R.SECURITYERROR,  # password transition needed
    432: R.SECURITYERROR,
    451: R.SYSTEMERROR,  # local error in processing
    452: R.SYSTEMFULL,  # insufficient system storage
    454: R.SECURITYERROR,  # temporary authentication failure
    455: R.SYNTAXERROR,  # server unable to accommodate parameters
    500: R.SYNTAXERROR,  # syntax error, command unrecognised
    501: R.SYNTAXERROR,  # syntax error in parameters
    502: R.SYNTAXERROR,  # command not implemented
    503: R.SYNTAXERROR,  # bad sequence of commands
    504: R.SYNTAXERROR,  # command parameter not implemented
    521: R.NOTACCEPT,  # host does not accept mail
    523: R.SECURITYERROR,  # encryption needed
    524: R.SECURITYERROR,
    525: R.SECURITYERROR,  # user account disabled (at AUTH)
    534: R.SECURITYERROR,  # authentication mechanism too weak
    535: R.SECURITYERROR,  # authentication credentials invalid
    538: R.SECURITYERROR,  # encryption required for the mechanism
    551: R.HASMOVED,  # user not local
    552: R.MAILBOXFULL,  # exceeded storage allocation
    555: R.SYNTAXERROR,  # MAIL/RCPT parameters not recognised
    556: R.NOTACCEPT,  # domain does not accept mail
}

_ANY_CLASS = REPLY_CODES["5"] + REPLY_CODES["4"] + REPLY_CODES["2"]
_RANK = {code: i for i, code in enumerate(_ANY_CLASS)}

# A code glued to a digit, dot, slash or "v" is part of a version or an IPv4 address, not a code.
# (The search starts at the code's first dot and checks the class digit behind it: a single
# literal lets the engine skip from dot to dot, where a leading [245] costs a class test at
# every character, digits being common in replies.)
_STATUS = re.compile(r"\.(?<=(?<![0-9./vV])([245])\.)([0-7])\.(\d{1,3})(?!\d|\.\d)")
_REPLY = re.compile(r"([245](?<![0-9./][245])\d\d)(?![0-9./])")
_TEMPORARY_WORDS = re.compile(r" temporar| persistent")


def reason_of(status: str | None) -> Reason | None:
    """The reason a status code names by itself, or None for generic and unknown codes."""
    return NAME.get(status) if status else None


def find_status(text: str, klass: str = "") -> str | None:
    """The enhanced status code a reply text carries, preferring a specific one to x.0.0."""
    if len(text) < 7 or "." not in text:
        return None
    found: list[str] = []
    generic: str | None = None
    for first, second, third in _STATUS.findall(text):
        code = f"{first}.{second}.{int(third)}"
        if klass and code[0] != klass:
            continue
        if code.endswith(".0.0") or code == "4.4.7":
            generic = code
            continue
        found.append(code)
    if generic is not None:
        found.append(generic)
    if not found:
        return None
    chosen = found[0]
    for code in found[1:]:
        chosen = prefer(chosen, code) or chosen
    return chosen


def prefer(given: str | None, in_text: str | None, reply: str = "") -> str | None:
    """Of the status field and the code found in the reply text, the one that says more."""
    if not given:
        return in_text
    if not in_text:
        return given
    if len(given) < 5:
        return in_text
    if len(in_text) < 5:
        return given
    if reply and given[0] != in_text[0]:
        # The reply code's class settles a disagreement between the two codes.
        if reply[0] == given[0]:
            return given
        if reply[0] == in_text[0]:
            return in_text
    if given == in_text:
        return given
    if ".0.0" in given:
        return given if ".0.0" in in_text else in_text
    if ".0" in given and ".0" not in in_text:
        return in_text  # X.Y.0 or X.0.Z says less than the code in the text
    if ".0.0" in in_text:
        return given
    if given in ("4.4.7", "4.7.0") or given.startswith("5.3."):
        return in_text  # ambiguous codes: delivery expired, "too many errors", system error
    if given[1:4] in (".5.1", ".5.2", ".5.4", ".5.5"):
        return in_text  # protocol-level codes say less than a code in the reply text
    if given == "5.1.1":
        return given if (".0" in in_text or in_text.startswith("5.5.")) else in_text
    if given == "5.1.3" and in_text.startswith("5.7."):
        return in_text
    return given


def find_reply(text: str, klass: str = "") -> int | None:
    """The SMTP reply code a text carries, of the given class ("4", "5") when given."""
    if len(text) < 3 or "x-unix" in text.lower():
        return None
    best: int | None = None
    allowed = REPLY_CODES.get(klass)
    for digits in _REPLY.findall(text):
        code = int(digits)
        if code not in _RANK or (allowed is not None and code not in allowed):
            continue
        if best is None or _RANK[code] < _RANK[best]:
            best = code
    return best


def says_temporary(lowered: str) -> bool:
    """True when a (lower-case) reply calls its failure temporary or persistent."""
    return _TEMPORARY_WORDS.search(lowered) is not None


def _code_of(text: str) -> str:
    """The enhanced status code of a text, else its SMTP reply code, else ""."""
    code = find_status(text)
    if code is None:
        reply = find_reply(text)
        return str(reply) if reply else ""
    return code


def pseudo(reason: Reason, temporary: bool) -> str | None:
    """The reference parser's internal status code for a reason, when the report had none."""
    digits = PSEUDO.get(reason)
    if digits is None or (temporary and reason in _NO_TEMPORARY_PSEUDO):
        return None
    return f"{4 if temporary else 5}.9.{digits}"


_ALWAYS_HARD = frozenset({R.USERUNKNOWN, R.HOSTUNKNOWN, R.HASMOVED})


def is_hard(reason: Reason, evidence: str) -> bool:
    """Sisimai's hard bounce: the address is wrong; a null-MX domain unless it was temporary.

    `evidence` is the status code and the reply text, joined by a space.
    """
    if reason in _ALWAYS_HARD:
        return True
    if reason is not R.NOTACCEPT:
        return False
    if not evidence.strip():
        return True
    code = _code_of(evidence)
    temporary = code.startswith("4") or says_temporary(evidence.lower())
    return code.startswith("5") or not temporary
