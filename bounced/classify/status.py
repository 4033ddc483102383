"""Enhanced status codes (RFC 3463, RFC 5248 registry) -> reason, and reply codes -> status.

Rule 1: a code maps to a reason only where the code alone is decisive; generic codes (x.0.0,
x.7.0, x.5.0 ...) map to nothing and leave the decision to the reply text.
"""

from __future__ import annotations

from bounced.model import Reason

R = Reason

# Codes that name a reason by themselves (class digit omitted: 4.x.x and 5.x.x alike, unless a
# row is specific to one class).
BY_SUBJECT_DETAIL: dict[str, Reason] = {
    "1.1": R.USERUNKNOWN,  # bad destination mailbox address
    "1.2": R.HOSTUNKNOWN,  # bad destination system address
    "1.3": R.USERUNKNOWN,  # bad destination mailbox address syntax
    "1.4": R.USERUNKNOWN,  # destination mailbox address ambiguous
    "1.6": R.HASMOVED,  # destination mailbox has moved, no forwarding address
    "1.7": R.REJECTED,  # bad sender's mailbox address syntax
    "1.8": R.REJECTED,  # bad sender's system address
    "1.9": R.REJECTED,  # message relayed to non-compliant mailer
    "1.10": R.USERUNKNOWN,  # recipient address has null MX
    "2.1": R.SUSPEND,  # mailbox disabled, not accepting messages
    "2.2": R.MAILBOXFULL,  # mailbox full
    "2.3": R.EXCEEDLIMIT,  # message length exceeds administrative limit
    "2.4": R.SYSTEMERROR,  # mailing list expansion problem
    "3.1": R.SYSTEMFULL,  # mail system full
    "3.2": R.NOTACCEPT,  # system not accepting network messages
    "3.3": R.SYSTEMERROR,  # system not capable of selected features
    "3.4": R.MESGTOOBIG,  # message too big for system
    "3.5": R.SYSTEMERROR,  # system incorrectly configured
    "4.1": R.NETWORKERROR,  # no answer from host
    "4.2": R.NETWORKERROR,  # bad connection
    "4.3": R.SYSTEMERROR,  # directory server failure
    "4.4": R.NETWORKERROR,  # unable to route
    "4.5": R.NETWORKERROR,  # mail system congestion
    "4.6": R.NETWORKERROR,  # routing loop detected
    "4.7": R.EXPIRED,  # delivery time expired
    "5.0": R.SYNTAXERROR,  # other or undefined protocol status
    "5.1": R.SYNTAXERROR,  # invalid command
    "5.2": R.SYNTAXERROR,  # syntax error
    "5.3": R.TOOMANYCONN,  # too many recipients
    "5.4": R.SYNTAXERROR,  # invalid command arguments
    "5.5": R.SYNTAXERROR,  # wrong protocol version
    "5.6": R.SYNTAXERROR,  # authentication exchange line is too long
    "6.0": R.CONTENTERROR,  # other or undefined media error
    "6.1": R.CONTENTERROR,  # media not supported
    "6.2": R.CONTENTERROR,  # conversion required and prohibited
    "6.3": R.CONTENTERROR,  # conversion required but not supported
    "6.5": R.CONTENTERROR,  # conversion failed
    "6.6": R.CONTENTERROR,  # message content not available
    "6.7": R.CONTENTERROR,  # non-ASCII addresses not permitted
    "6.8": R.CONTENTERROR,
    "6.9": R.CONTENTERROR,
    "7.1": R.SECURITYERROR,  # delivery not authorized, message refused
    "7.2": R.SECURITYERROR,  # mailing list expansion prohibited
    "7.3": R.SECURITYERROR,  # security conversion required but not possible
    "7.4": R.SECURITYERROR,  # security features not supported
    "7.5": R.SECURITYERROR,  # cryptographic failure
    "7.6": R.SECURITYERROR,  # cryptographic algorithm not supported
    "7.7": R.SECURITYERROR,  # message integrity failure
    "7.8": R.SECURITYERROR,  # authentication credentials invalid
    "7.9": R.SECURITYERROR,  # authentication mechanism is too weak
    "7.10": R.SECURITYERROR,  # encryption needed
    "7.11": R.SECURITYERROR,  # encryption required for requested authentication mechanism
    "7.12": R.SECURITYERROR,  # a password transition is needed
    "7.13": R.SUSPEND,  # user account disabled
    "7.14": R.SECURITYERROR,  # trust relationship required
    "7.15": R.SECURITYERROR,  # priority level is too low
    "7.16": R.MESGTOOBIG,  # message is too big for the specified priority
    "7.17": R.HASMOVED,  # mailbox owner has changed
    "7.18": R.HASMOVED,  # domain owner has changed
    "7.19": R.SECURITYERROR,  # RRVS test cannot be completed
    "7.20": R.AUTHFAILURE,  # no passing DKIM signature found
    "7.21": R.AUTHFAILURE,  # no acceptable DKIM signature found
    "7.22": R.AUTHFAILURE,  # no valid author-matched DKIM signature found
    "7.23": R.AUTHFAILURE,  # SPF validation failed
    "7.24": R.AUTHFAILURE,  # SPF validation error
    "7.25": R.REQUIREPTR,  # reverse DNS validation failed
    "7.26": R.AUTHFAILURE,  # multiple authentication checks failed
    "7.27": R.NOTACCEPT,  # sender address has null MX
    "7.28": R.SPAMDETECTED,  # mail flood detected
    "7.29": R.SECURITYERROR,  # ARC validation failure
    "7.30": R.FAILEDSTARTTLS,  # REQUIRETLS support required
}

# Reply codes without an enhanced code: the status a reader may assume (RFC 3463 defaults).
REPLY_TO_STATUS: dict[int, str] = {
    421: "4.3.2",
    450: "4.2.0",
    451: "4.3.0",
    452: "4.3.1",
    454: "4.7.0",
    500: "5.5.2",
    501: "5.5.4",
    502: "5.5.1",
    503: "5.5.1",
    504: "5.5.4",
    521: "5.3.2",
    530: "5.7.0",
    550: "5.0.0",
    551: "5.1.6",
    552: "5.3.4",
    553: "5.1.8",
    554: "5.0.0",
    556: "5.1.10",
}


def reason_of_status(status: str | None) -> Reason | None:
    """The reason a status code names by itself, or None for generic codes."""
    if not status or status[0] not in "45":
        return None
    return BY_SUBJECT_DETAIL.get(status[2:])
