"""Remote-host rules: what the replies of particular receiving systems mean.

Theory of operation: large receivers document their own reply texts and codes (Google's "About
SMTP error messages", Microsoft's NDR reference, Yahoo's, Orange's OFR/La Poste's LPN codes,
Cox's and Spectrum's AUP# codes, GoDaddy's IB codes, ...). When the receiving system is one of
them, its table is consulted before the generic phrase tables, as the reference parser does.

The receiving system is recognised the way the reference parser recognises it (`system_of`):
first the recipient's domain (a domain that is the tail of one of a system's host names), then
the remote host, then the reporting host. Each system has one table of `Rule` rows; the first
row that matches wins (rows are ordered most specific first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bounced.model import Reason
from bounced.parse.phrases import finder, trie

R = Reason


class System(StrEnum):
    """Receiving systems with their own reply tables."""

    AOL = "aol"
    APPLE = "apple"
    CLOUDFLARE = "cloudflare"
    COX = "cox"
    FACEBOOK = "facebook"
    FRANCEPTT = "franceptt"  # Orange, Wanadoo, La Poste
    GODADDY = "godaddy"
    GOOGLE = "google"
    GSUITE = "gsuite"
    IUA = "iua"
    KDDI = "kddi"
    MESSAGELABS = "messagelabs"
    MICROSOFT = "microsoft"
    MIMECAST = "mimecast"
    NTTDOCOMO = "nttdocomo"
    OUTLOOK = "outlook"
    SPECTRUM = "spectrum"
    TENCENT = "tencent"
    YAHOOINC = "yahooinc"
    ZOHO = "zoho"


# Host-name tails of each system's inbound MX hosts (from their MX records and documentation).
HOSTS: dict[System, tuple[str, ...]] = {
    System.AOL: (".mail.aol.com", ".mx.aol.com"),
    System.APPLE: (".mail.icloud.com", ".apple.com", ".me.com"),
    System.CLOUDFLARE: (".mx.cloudflare.net",),
    System.COX: ("cox.net",),
    System.FACEBOOK: (".facebook.com",),
    System.FRANCEPTT: (".laposte.net", ".orange.fr", ".wanadoo.fr"),
    System.GODADDY: ("smtp.secureserver.net", "mailstore1.secureserver.net"),
    System.GOOGLE: ("aspmx.l.google.com", "gmail-smtp-in.l.google.com"),
    System.GSUITE: ("googlemail.com",),
    System.IUA: (".email.ua",),
    System.KDDI: (".ezweb.ne.jp", "msmx.au.com"),
    System.MESSAGELABS: (".messagelabs.com",),
    System.MICROSOFT: (
        ".prod.outlook.com",
        ".protection.outlook.com",
        ".mail.eo.outlook.com",  # Exchange Online's newer MX names
        ".onmicrosoft.com",
        ".exchangelabs.com",
    ),
    System.MIMECAST: (".mimecast.com",),
    System.NTTDOCOMO: ("mfsmax.docomo.ne.jp",),
    System.OUTLOOK: (".hotmail.com",),
    System.SPECTRUM: ("charter.net",),
    System.TENCENT: (".qq.com",),
    System.YAHOOINC: (".yahoodns.net",),
    System.ZOHO: (".zoho.com", ".zohomail.com"),
}


# A recipient domain names a system when it is the tail of one of the system's host names
# ("qq.com" of ".qq.com", "cox.net" of "cox.net"): every tail of every host name, looked up.
_BY_DOMAIN: dict[str, System] = {}
for _system, _tails in HOSTS.items():
    for _tail in _tails:
        for _start in range(len(_tail)):
            _BY_DOMAIN.setdefault(_tail[_start:], _system)
# Every host-name tail, longest first (for ties, in the order of `HOSTS`): the first that a
# host ends with is its system. The tails are grouped by their last `_KEY` characters (the
# shortest tail's length), so that a host's own last characters pick the few tails it can end
# with: one dict lookup and a test or two, instead of a test of every tail.
_KEY = min(len(tail) for tails in HOSTS.values() for tail in tails)
_TAILS: dict[str, list[tuple[str, System]]] = {}
for _tail, _system in sorted(
    ((tail, system) for system, tails in HOSTS.items() for tail in tails),
    key=lambda row: -len(row[0]),
):
    _TAILS.setdefault(_tail[-_KEY:], []).append((_tail, _system))


def system_of_domain(domain: str) -> System | None:
    """The receiving system a recipient domain names (the tail of one of its host names)."""
    domain = domain.lower().strip(".")
    return _BY_DOMAIN.get(domain) if len(domain) > 3 else None


def system_of_host(host: str) -> System | None:
    """The receiving system a remote or reporting host belongs to."""
    if not host:
        return None
    host = host.lower().rstrip(".")
    for tail, system in _TAILS.get(host[-_KEY:], ()):
        if host.endswith(tail):
            return system
    return None


def system_of(domain: str, hosts: tuple[str, ...]) -> System | None:
    """The receiving system: by recipient domain first, then by the given host names in turn."""
    found = system_of_domain(domain)
    for host in hosts:
        if found is not None:
            break
        found = system_of_host(host)
    return found


@dataclass(frozen=True, slots=True)
class Rule:
    """One documented reply: a phrase, and when given, the codes it must come with."""

    reason: Reason
    phrase: str  # regex fragment, compiled when a reply of its system is first seen
    reply: int | None = None  # the reply code (its class digit is not compared, see `matches`)
    status: str = ""  # the enhanced code or, with `low`/`high`, its first two parts
    low: int = 0  # range of the third part of the status code
    high: int = 0

    def found_in(self, text: str) -> bool:
        """Whether the rule's phrase occurs in the (lower-cased) text."""
        return finder(self.phrase)(text)


def rule(  # noqa: PLR0917 - rows of a table read best as positional tuples
    reason: Reason,
    phrase: str,
    reply: int | None = None,
    status: str = "",
    low: int = 0,
    high: int = 0,
) -> Rule:
    """A rule row; `phrase` is a regex fragment matched against the lower-cased reply."""
    return Rule(reason, phrase, reply, status, low, high)


@dataclass(frozen=True, slots=True)
class Reply:
    """What a rule is matched against."""

    text: str  # lower-cased reply text
    raw: str  # reply text as written (some codes are case-sensitive)
    status: str | None
    reply: int | None
    command: str | None


# --- Google (support.google.com/a/answer/3726730 "About SMTP error messages") ---------------
# Google states the reply code and the enhanced code of each message; both must agree (the class
# digit aside: Google sends the same text with 4xx and 5xx codes).
GOOGLE: tuple[Rule, ...] = (
    rule(R.AUTHFAILURE, r"the spf record of the sending domain", 451, "4.7.24"),
    rule(R.AUTHFAILURE, r"the spf record of the sending domain", 550, "5.7.24"),
    rule(R.AUTHFAILURE, r"senders to authenticate with either spf or dkim", 421, "4.7.26"),
    rule(R.AUTHFAILURE, r"senders to authenticate with either spf or dkim", 550, "5.7.26"),
    rule(
        R.AUTHFAILURE, r"fails to pass spf checks for an spf record with a hard fail", 550, "5.7.26"
    ),
    rule(R.AUTHFAILURE, r"has an spf record with a hard fail policy", 550, "5.7.26"),
    rule(R.AUTHFAILURE, r"is not accepted due to domain's dmarc policy", 451, "4.7.26"),
    rule(R.AUTHFAILURE, r"is not accepted due to domain's dmarc policy", 550, "5.7.26"),
    rule(R.AUTHFAILURE, r"fails to pass authentication checks", 550, "5.7.1"),
    rule(R.AUTHFAILURE, r"fails to pass authentication checks", 550, "5.7.26"),
    rule(R.AUTHFAILURE, r"senders to authenticate (?:their email )?with spf", 421, "4.7.27"),
    rule(R.AUTHFAILURE, r"senders to authenticate with spf", 550, "5.7.27"),
    rule(R.AUTHFAILURE, r"senders to authenticate their email with dkim", 421, "4.7.30"),
    rule(R.AUTHFAILURE, r"senders to authenticate with dkim", 550, "5.7.30"),
    rule(R.AUTHFAILURE, r"aligned with either the authenticated spf or dkim", 421, "4.7.32"),
    rule(R.AUTHFAILURE, r"aligned with either the authenticated spf or dkim", 421, "5.7.32"),
    rule(R.AUTHFAILURE, r"to add a dmarc record to ", 421, "4.7.40"),
    rule(
        R.BADREPUTATION, r"very low reputation of the sending (?:ip address|domain)", 421, "4.7.0"
    ),
    rule(
        R.BADREPUTATION,
        r"due to the very low reputation of the sending (?:ip|domain)",
        550,
        "5.7.1",
    ),
    rule(R.BLOCKED, r"ip not in whitelist for rcpt domain", 421, "4.7.0"),
    rule(R.BLOCKED, r"try again later, closing connection\.", 421, "4.7.0"),
    rule(R.BLOCKED, r"empty helo/ehlo argument not allowed", 501, "5.5.4"),
    rule(R.BLOCKED, r"helo/ehlo argument is invalid", 501, "5.5.4"),
    rule(R.BLOCKED, r"an unusual rate of unsolicited mail", 421, "4.7.0"),
    rule(R.BLOCKED, r"an unusual rate of mail", 421, "4.7.28"),
    rule(R.BLOCKED, r"an unusual rate of unsolicited mail", 550, "5.7.1"),
    rule(R.BLOCKED, r"an unusual rate of unsolicited mail", 550, "5.7.28"),
    rule(R.EXCEEDLIMIT, r"exceeded google's message size limits", 552, "5.2.3"),
    rule(R.EXCEEDLIMIT, r"exceeds google's limit of limit attachments\.", 552, "5.3.4"),
    rule(R.EXCEEDLIMIT, r"your message exceeded google's message header size limits", 552, "5.3.4"),
    rule(R.EXCEEDLIMIT, r"bytes per individual header size", 552, "5.3.4"),
    rule(R.EXCEEDLIMIT, r"exceeds google's header name limit of", 552, "5.3.4"),
    rule(R.EXCEEDLIMIT, r"exceeds google's message header size limit", 552, "5.3.4"),
    rule(R.EXPIRED, r"connection expired", 421, "4.7.0"),
    rule(R.EXPIRED, r"timeout - closing connection", 451, "4.4.2"),
    rule(R.FAILEDSTARTTLS, r"must issue a starttls command first", 530, "5.7.0"),
    rule(R.FAILEDSTARTTLS, r"starttls may not be repeated", 454, "5.5.1"),
    rule(R.FAILEDSTARTTLS, r"tls required for rcpt domain", 421, "4.7.0"),
    rule(R.FAILEDSTARTTLS, r"senders to use tls/ssl for smtp", 421, "4.7.29"),
    rule(R.FAILEDSTARTTLS, r"senders to use tls/ssl for smtp", 550, "5.7.29"),
    rule(R.MAILBOXFULL, r"inbox is out of storage space", 452, "4.2.2"),
    rule(R.MAILBOXFULL, r"inbox is out of storage space and inactive", 552, "5.2.2"),
    rule(R.MAILBOXFULL, r"is over quota", 452, "4.2.2"),
    rule(R.MAILBOXFULL, r"is over quota", 552, "5.2.2"),
    rule(R.MAILBOXFULL, r"email quota exceeded", 550, "5.7.1"),
    rule(R.MESGTOOBIG, r"exceeded google's message size limits", 552, "5.3.4"),
    rule(R.MESGTOOBIG, r"exceeds google's message size limit of", 552, "5.3.4"),
    rule(R.NETWORKERROR, r"message exceeded 50 hops", 554, "5.4.6"),
    rule(R.NETWORKERROR, r"message exceeded 50 hops", 554, "5.6.0"),
    rule(R.NORELAYING, r"mail relay denied", 550, "5.7.0"),
    rule(R.NORELAYING, r"invalid credentials for relay", 550, "5.7.1"),
    rule(R.NORELAYING, r"is not authorized to send email directly to our servers", 550, "5.7.1"),
    rule(R.NOTCOMPLIANTRFC, r"missing a valid address in the from: header", 550, "5.7.1"),
    rule(R.NOTCOMPLIANTRFC, r"multiple addresses in from: header are not accepted", 550, "5.7.1"),
    rule(R.NOTCOMPLIANTRFC, r"is not rfc 5322 compliant", 550, "5.7.1"),
    rule(R.NOTCOMPLIANTRFC, r"missing a valid message-id: header", 550, "5.7.1"),
    rule(R.NOTCOMPLIANTRFC, r"contains a unicode character in a disallowed header", 550, "5.7.1"),
    rule(R.NOTCOMPLIANTRFC, r"encoded-word syntax is not permitted", 550, "5.7.1"),
    rule(R.NOTCOMPLIANTRFC, r"is not a valid rfc 5321 address", 553, "5.1.7"),
    rule(R.NOTCOMPLIANTRFC, r"mail message is malformed", 554, "5.6.0"),
    rule(R.POLICYVIOLATION, r"illegal attachment on your message", 552, "5.7.0"),
    rule(
        R.POLICYVIOLATION,
        r"blocked because its content presents a potential security issue",
        552,
        "5.7.0",
    ),
    rule(
        R.POLICYVIOLATION,
        r"you are sending to \(or from\) has a policy that prohibited",
        550,
        "5.7.1",
    ),
    rule(R.POLICYVIOLATION, r"sending messages with the same message-id:", 421, "4.7.28"),
    rule(R.REJECTED, r"mail sending denied", 550, "5.7.0"),
    rule(R.REJECTED, r"unauthenticated email is not accepted", 550, "5.7.1"),
    rule(R.REQUIREPTR, r"does not have a ptr record", 421, "4.7.0"),
    rule(R.REQUIREPTR, r" have a ptr record, or the ptr record", 421, "4.7.23"),
    rule(
        R.REQUIREPTR, r"does not meet ipv6 sending guidelines regarding ptr records", 550, "5.7.1"
    ),
    rule(R.REQUIREPTR, r"does not have a ptr record", 550, "5.7.25"),
    rule(R.REQUIREPTR, r"does not match the ip address of the hostname", 550, "5.7.25"),
    rule(R.SECURITYERROR, r"too many login attempts", 454, "4.7.0"),
    rule(R.SECURITYERROR, r"cannot decode response", 501, "5.5.2"),
    rule(R.SECURITYERROR, r"no identity changes permitted", 503, "5.7.0"),
    rule(R.SECURITYERROR, r"authentication required\.", 530, "5.5.1"),
    rule(R.SECURITYERROR, r"authentication required\.", 530, "5.7.0"),
    rule(R.SECURITYERROR, r"application-specific password required", 535, "5.7.1"),
    rule(R.SECURITYERROR, r"application-specific password required", 535, "5.7.9"),
    rule(R.SECURITYERROR, r"please log in with your web browser", 535, "5.7.1"),
    rule(R.SECURITYERROR, r"please log in with your web browser", 534, "5.7.9"),
    rule(R.SECURITYERROR, r"please log in through your web browser", 534, "5.7.14"),
    rule(R.SECURITYERROR, r"username and password not accepted", 535, "5.7.1"),
    rule(R.SECURITYERROR, r"username and password not accepted", 535, "5.7.8"),
    rule(R.SPAMDETECTED, r"due to the nature of the content or the links within", 421, "4.7.0"),
    rule(R.SPAMDETECTED, r"likely unsolicited mail", 550, "5.7.1"),
    rule(R.SPEEDING, r"is receiving mail too quickly", 450, "4.2.1"),
    rule(R.SPEEDING, r"peak smtp relay limit exceeded for customer", 450, "4.2.1"),
    rule(R.SPEEDING, r"rate that prevents additional messages from being delivered", 450, "4.2.1"),
    rule(R.SPEEDING, r"rate that prevents additional messages from being delivered", 550, "5.2.1"),
    rule(R.SPEEDING, r"daily (?:sending quota|user sending limit) exceeded", 550, "5.4.5"),
    rule(R.SPEEDING, r"daily smtp relay limit exceeded for", 550, "5.4.5"),
    rule(R.SPEEDING, r"daily smtp relay (?:sending )?limit exceeded for", 550, "5.7.1"),
    rule(R.SPEEDING, r"this mail has been rate limited", 550, "5.7.1"),
    rule(R.SUSPEND, r"account that you tried to reach is (?:disabled|inactive)", 550, "5.2.1"),
    rule(R.SYNTAXERROR, r"smtp protocol violation", 451, "4.5.0"),
    rule(R.SYNTAXERROR, r"smtp protocol violation", 454, "4.5.0"),
    rule(R.SYNTAXERROR, r"smtp protocol violation", 525, "5.7.10"),
    rule(R.SYNTAXERROR, r"optional argument not permitted", 535, "5.5.4"),
    rule(R.SYNTAXERROR, r"syntax error", 501, "5.7.11"),
    rule(R.SYNTAXERROR, r"syntax error", 501, "5.5.2"),
    rule(R.SYNTAXERROR, r"syntax error", 555, "5.5.2"),
    rule(R.SYNTAXERROR, r"too many unrecognized commands, goodbye", 502, "5.5.1"),
    rule(R.SYNTAXERROR, r"unimplemented command|unrecognized command", 502, "5.5.1"),
    rule(
        R.SYNTAXERROR,
        r"bad sequence of commands|ehlo/helo first|mail first|rcpt first",
        503,
        "5.5.1",
    ),
    rule(R.SYNTAXERROR, r"no data after bdat", 503, "5.5.1"),
    rule(
        R.SYNTAXERROR,
        r"unrecognized authentication type|xoauth is no longer supported",
        504,
        "5.7.4",
    ),
    rule(R.SYNTAXERROR, r"too many unauthenticated commands", 554, "5.7.0"),
    rule(R.SYSTEMERROR, r"temporary system problem", 421, "4.3.0"),
    rule(R.SYSTEMERROR, r"temporary system problem", 421, "4.7.0"),
    rule(R.SYSTEMERROR, r"server busy", 421, "4.4.5"),
    rule(
        R.SYSTEMERROR, r"multiple destination domains per transaction is unsupported", 451, "4.3.0"
    ),
    rule(
        R.SYSTEMERROR, r"mail server (?:has )?temporarily rejected (?:this )?message", 451, "4.3.0"
    ),
    rule(R.SYSTEMERROR, r"domain policy size per transaction exceeded", 452, "4.5.3"),
    rule(R.SYSTEMERROR, r"cannot authenticate due to temporary system problem", 454, "4.7.0"),
    rule(R.TOOMANYCONN, r"your message has too many recipients", 452, "4.5.3"),
    rule(R.TOOMANYCONN, r"too many recipients for this sender", 550, "5.5.3"),
    rule(R.USERUNKNOWN, r"the email account that you tried to reach does not exist", 550, "5.1.1"),
    rule(R.USERUNKNOWN, r"we weren't able to find the recipient domain", 553, "5.1.2"),
    rule(R.USERUNKNOWN, r"is not a valid rfc 5321 address", 553, "5.1.3"),
)

# --- Microsoft (Exchange Online / Exchange Server NDR reference, postmaster.live.com) --------
# Rows carry the exact enhanced code, or its first two parts and a range of the third.
MICROSOFT: tuple[Rule, ...] = (
    rule(
        R.AUTHFAILURE,
        r"must pass either spf or dkim validation, this message is not signed",
        status="4.7.26",
    ),
    rule(
        R.AUTHFAILURE,
        r"the message was rejected because of sender policy framework violation",
        status="5.7.23",
    ),
    rule(R.AUTHFAILURE, r"does not pass dmarc verification", status="5.7.509"),
    rule(R.AUTHFAILURE, r"doesn't meet the required authentication level", status="5.7.515"),
    rule(
        R.BADREPUTATION, r"has been temporarily rate limited due to ip reputation", status="4.7.650"
    ),
    rule(R.BLOCKED, r"connection dropped", status="4.4.2"),
    rule(R.BLOCKED, r"access denied, please try again later", status="4.7.", low=850, high=899),
    rule(R.BLOCKED, r"must have a reverse dns record", status="5.7.25"),
    rule(R.BLOCKED, r"access denied, bad helo", status="5.7.506"),
    rule(R.BLOCKED, r"access denied, rejected by recipient", status="5.7.507"),
    rule(R.BLOCKED, r"does not accept email over ipv6", status="5.7.510"),
    rule(R.BLOCKED, r"access denied, banned sender", status="5.7.511"),
    rule(R.BLOCKED, r"using customer block list", status="5.7.513"),
    rule(R.BLOCKED, r"access denied, banned sending ip ", status="5.7.", low=606, high=649),
    rule(R.BLOCKED, r"access denied, please try again later", status="4.7.", low=500, high=699),
    rule(R.BLOCKED, r"invalid domain name", status="5.5.4"),
    rule(R.BLOCKED, r"part of their network is on our block list \(s3150\)", status="5.7.1"),
    rule(R.CONTENTERROR, r"too many related errors", status="5.3.0"),
    rule(R.CONTENTERROR, r"invalid characters", status="5.6.11"),
    rule(R.CONTENTERROR, r"agent generated message depth exceeded", status="5.4.11"),
    rule(R.CONTENTERROR, r"invalid message content", status="5.5.6"),
    rule(
        R.MESGTOOBIG,
        r"resolver\.rst\.recipsizelimit; message too large for this recipient",
        status="5.2.3",
    ),
    rule(R.MESGTOOBIG, r"message size exceeds fixed maximum message size", status="5.3.4"),
    rule(R.MESGTOOBIG, r"message too big for system", status="5.3.4"),
    rule(R.EXPIRED, r"connection timed out", status="4.4.1"),
    rule(
        R.EXPIRED, r"message delayed|queue expired; message expired|message expired", status="4.4.7"
    ),
    rule(R.EXPIRED, r"message expired", status="5.4.300"),
    rule(R.EXPIRED, r"message expired", status="5.4.316"),
    rule(R.FAILEDSTARTTLS, r" failed mta-sts validation", status="4.4.8"),
    rule(R.FAILEDSTARTTLS, r" failed mta-sts validation", status="5.4.8"),
    rule(R.FAILEDSTARTTLS, r"starttls is required to send mail", status="4.4.317"),
    rule(R.FAILEDSTARTTLS, r"starttls is required to send mail", status="5.4.317"),
    rule(R.FAILEDSTARTTLS, r"remote certificate failed mta-sts validation", status="4.7.5"),
    rule(R.FAILEDSTARTTLS, r"remote certificate failed mta-sts validation", status="5.7.5"),
    rule(
        R.FAILEDSTARTTLS,
        r"restrictdomainstoipaddresses or restrictdomainstocertificate",
        status="5.7.51",
    ),
    rule(R.FAILEDSTARTTLS, r"starttls-not-supported:", status="4.7.321"),
    rule(R.FAILEDSTARTTLS, r"starttls-not-supported:", status="5.7.321"),
    rule(R.FAILEDSTARTTLS, r"certificate-expired:", status="5.7.322"),
    rule(R.FAILEDSTARTTLS, r"tlsa-invalid:", status="4.7.323"),
    rule(R.FAILEDSTARTTLS, r"tlsa-invalid:", status="5.7.323"),
    rule(R.FAILEDSTARTTLS, r"dnssec-invalid:", status="4.7.324"),
    rule(R.FAILEDSTARTTLS, r"dnssec-invalid:", status="5.7.324"),
    rule(R.FAILEDSTARTTLS, r"certificate-host-mismatch:", status="4.7.325"),
    rule(R.FAILEDSTARTTLS, r"certificate-host-mismatch:", status="5.7.325"),
    rule(R.MAILBOXFULL, r"mailbox full", status="5.2.2"),
    rule(R.NETWORKERROR, r"smtpsend\.dns\.nonexistentdomain; nonexistent domain", status="5.4.4"),
    rule(R.NETWORKERROR, r"hop count exceeded - possible mail loop", status="5.4.6"),
    rule(R.NETWORKERROR, r"dns query failed", status="4.4.312"),
    rule(R.NETWORKERROR, r"dns query failed", status="5.4.312"),
    rule(R.NETWORKERROR, r"connection refused", status="4.4.316"),
    rule(R.NETWORKERROR, r"connection refused", status="5.4.316"),
    rule(R.NETWORKERROR, r"invalid arguments", status="5.4.4"),
    rule(R.NETWORKERROR, r"routing loop detected", status="5.4.6"),
    rule(R.NETWORKERROR, r"routing loop detected", status="5.4.14"),
    rule(R.NORELAYING, r"unable to relay|client was not authenticated", status="5.7.1"),
    rule(R.NORELAYING, r"relay access denied", status="5.4.1"),
    rule(R.NORELAYING, r"tenantattribution; relay access denied", status="5.7.64"),
    rule(R.NORELAYING, r"does not exist", status="5.4.310"),
    rule(R.NOTACCEPT, r"system not accepting network messages", status="4.3.2"),
    rule(R.NOTACCEPT, r"hosted tenant which has no mail-enabled subscriptions", status="4.4.4"),
    rule(
        R.NOTACCEPT, r"storedrv\.deliver: missing or bad storedriver mdb properties", status="5.3.2"
    ),
    rule(R.POLICYVIOLATION, r"x-dg-ref header is too long", status="5.0.350"),
    rule(
        R.POLICYVIOLATION,
        r"requested action not taken: policy violation detected \(as345\)",
        status="5.0.350",
    ),
    rule(
        R.POLICYVIOLATION,
        r"delivery not authorized, message refused",
        status="5.7.",
        low=900,
        high=999,
    ),
    rule(R.REJECTED, r"invalid address|unknown sender address", status="5.1.7"),
    rule(R.REJECTED, r"sender denied", status="5.1.0"),
    rule(R.REJECTED, r"access denied, bad outbound sender", status="5.1.8"),
    rule(R.REJECTED, r"delivery not authorized", status="5.7.1"),
    rule(R.REJECTED, r"sender was not authenticated by organization", status="5.7.12"),
    rule(R.REJECTED, r"sender not in allowed-senders list", status="5.7.124"),
    rule(R.REJECTED, r"sender not authenticated for group", status="5.7.133"),
    rule(R.REJECTED, r"sender was not authenticated for mailbox", status="5.7.134"),
    rule(R.REJECTED, r"sender was not authenticated for public folder", status="5.7.13"),
    rule(R.REJECTED, r"sender was not authenticated for public folder", status="5.7.135"),
    rule(R.REJECTED, r"sender was not authenticated", status="5.7.136"),
    rule(R.REJECTED, r"access denied, spam abuse detected", status="5.7.", low=501, high=503),
    rule(
        R.REJECTED,
        r"access denied, message must be rfc 5322 section 3\.6\.2 compliant",
        status="5.7.512",
    ),
    rule(
        R.REJECTED,
        r"service unavailable\. client blocked from sending from unregistered domains",
        status="5.7.750",
    ),
    rule(R.REJECTED, r"access denied, banned sender", status="5.7.", low=501, high=503),
    rule(
        R.SECURITYERROR,
        r"cannot achieve exchange server authentication|not authorized",
        status="5.7.3",
    ),
    rule(R.SECURITYERROR, r"client was not authenticated", status="5.7.1"),
    rule(
        R.SECURITYERROR,
        r"client was not authenticated to send anonymous mail during mail from",
        status="5.7.57",
    ),
    rule(R.SPAMDETECTED, r"content filter agent quarantined this message", status="5.2.1"),
    rule(R.TOOMANYCONN, r"too many recipients", status="5.5.3"),
    rule(R.TOOMANYCONN, r"storedrv\.deliver; recipient thread limit exceeded", status="4.3.2"),
    rule(R.TOOMANYCONN, r"organization queue quota exceeded", status="4.7.3"),
    rule(R.TOOMANYCONN, r"too many recipients", status="4.5.3"),
    rule(R.TOOMANYCONN, r"has exceeded the maximum number of connections", status="4.7.652"),
    rule(R.TOOMANYCONN, r"reached your daily limit for message recipients", status="5.1.90"),
    rule(R.TOOMANYCONN, r"submission quota exceeded", status="5.2.2"),
    rule(
        R.TOOMANYCONN,
        r"recipient's per hour message receive limit|messages they can send to this recipient",
        status="5.2.121",
    ),
    rule(
        R.TOOMANYCONN,
        r"recipient's per hour message receive limit|the recipient has exceeded their limit for",
        status="5.2.122",
    ),
    rule(R.TOOMANYCONN, r"has exceeded permitted limits within", status="5.7.508"),
    rule(
        R.TOOMANYCONN,
        r"tenant has exceeded threshold|traffic not accepted from this ip",
        status="5.7.",
        low=700,
        high=749,
    ),
    rule(R.SUSPEND, r"recipient address rejected: access denied", status="5.7.504"),
    rule(R.SUSPEND, r"access denied, banned recipient", status="5.7.505"),
    rule(R.SUSPEND, r"mailbox cannot be accessed", status="5.2.1"),
    rule(R.SYNTAXERROR, r"unrecognized command", status="5.3.3"),
    rule(R.SYNTAXERROR, r"send hello first", status="5.5.2"),
    rule(R.SYSTEMERROR, r"service not available|service not active", status="4.3.2"),
    rule(R.SYSTEMERROR, r"system incorrectly configured", status="5.3.5"),
    rule(R.SYSTEMERROR, r"when journaling archive is disabled", status="5.3.190"),
    rule(R.SYSTEMERROR, r"helo / ehlo requires domain address", status="5.0.0"),
    rule(R.SYSTEMERROR, r"destination mailbox address ambiguous", status="5.1.4"),
    rule(R.SYSTEMERROR, r"mailing list expansion problem", status="5.2.4"),
    rule(R.SYSTEMERROR, r"misconfigured forwarding address", status="5.2.14"),
    rule(R.SYSTEMERROR, r"message failed to be replicated:", status="4.4.", low=22, high=28),
    rule(R.SYSTEMERROR, r"temporary server error\. please try again later attr18", status="4.4.3"),
    rule(
        R.SYSTEMERROR,
        r"temporary server error\. please try again later\. prx4 nexthop:",
        status="4.7.0",
    ),
    rule(R.SYSTEMERROR, r"\(suspiciousremoteservererror\)", status="4.4.318"),
    rule(R.SYSTEMERROR, r"\(suspiciousremoteservererror\)", status="5.4.318"),
    rule(R.SYSTEMERROR, r"server busy\. please try again later from ", status="4.7.500"),
    rule(R.SYSTEMERROR, r"pfa agent busy, please try again\.", status="4.7.700"),
    rule(R.SYSTEMFULL, r"insufficient system resources", status="4.3.1"),
    rule(R.USERUNKNOWN, r"resolver\.adr\.exrecipnotfound; not found|user unknown", status="5.1.1"),
    rule(R.USERUNKNOWN, r"storedrv\.submit; invalid recipient address", status="5.1.3"),
    rule(R.USERUNKNOWN, r"recipient address reserved by rfc 2606", status="5.1.", low=4, high=5),
    rule(
        R.USERUNKNOWN, r"recipient addresses in single label domains not accepted", status="5.1.6"
    ),
    rule(R.USERUNKNOWN, r"bad destination mailbox address", status="5.1.1"),
    rule(R.USERUNKNOWN, r"recipient not found", status="5.1.10"),
    rule(R.USERUNKNOWN, r"recipient address rejected: access denied", status="5.4.1"),
    rule(R.USERUNKNOWN, r"requested action not taken: mailbox unavailable", status="5.5.0"),
    rule(R.USERUNKNOWN, r"invalid x\.400 address", status="5.1.2"),
    rule(
        R.USERUNKNOWN,
        r"remote server returned unknown recipient or mailbox unavailable",
        status="5.1.351",
    ),
)
# Outlook.com postmaster troubleshooting codes: code -> (reply code, reason). Case-sensitive.
MICROSOFT_CODES: dict[str, tuple[int, Reason]] = {
    "RP-001": (421, R.BADREPUTATION),  # rate limited: IP/domain reputation
    "RP-002": (421, R.BADREPUTATION),
    "RP-003": (421, R.BADREPUTATION),  # connection limit: IP/domain reputation
    "SC-001": (550, R.BADREPUTATION),  # spam-like content or IP/domain reputation
    "SC-002": (550, R.POLICYVIOLATION),  # namespace mining
    "SC-003": (550, R.BLOCKED),  # open proxy/relay
    "SC-004": (550, R.BLOCKED),  # complaints against the IP
    "DY-001": (550, R.BLOCKED),  # dynamic IP
    "DY-002": (550, R.VIRUSDETECTED),  # compromised server
    "OU-001": (550, R.BLOCKED),  # Spamhaus
    "OU-002": (550, R.BADREPUTATION),  # spam-like content or IP/domain reputation
}

# --- Orange, Wanadoo, La Poste: the number after OFR/LPN/OUK codes (postmastery, SMTP Field
# Manual). An empty reason means the code does not decide.
FRANCEPTT_CODES: dict[str, Reason | None] = {
    "101": R.BLOCKED,  # blocked using Spamhaus
    "102": R.BLOCKED,  # source IP blocked for spam (Cloudmark)
    "103": R.BLOCKED,  # service refused, please try later
    "104": R.TOOMANYCONN,  # too many connections, slow down
    "105": None,
    "107": R.BLOCKED,  # service refused, please try later
    "108": R.BLOCKED,  # service refused, please try later
    "109": None,
    "201": None,
    "305": R.SECURITYERROR,  # invalid authentication code
    "401": R.AUTHFAILURE,  # SPF: not allowed to send mail
    "402": R.SECURITYERROR,  # authentication required
    "403": R.REJECTED,  # invalid sender
    "405": R.REJECTED,  # invalid sender
    "415": R.REJECTED,  # invalid sender
    "416": R.USERUNKNOWN,  # invalid recipient
    "417": R.MAILBOXFULL,  # recipient over quota
    "420": R.SUSPEND,  # archived recipient
    "421": R.REJECTED,  # mail from not owned by user
    "423": R.BLOCKED,  # service refused, please try later
    "424": None,
    "426": R.SUSPEND,  # the recipient account is blocked
    "505": R.SYSTEMERROR,  # service refused, try later (end of data)
    "506": R.SPAMDETECTED,  # mail rejected
    "510": R.BLOCKED,  # service refused, try later
    "513": None,
    "514": R.MESGTOOBIG,  # message size limit reached
    "517": R.AUTHFAILURE,  # DMARC verification failed
    "630": R.POLICYVIOLATION,  # client host rejected
    "999": R.BLOCKED,  # service refused (IP suspended)
}
# "OFR006_102", "OFR_416", "LPN105_104", "LPNAAA_101", "LPN416": the last three digits decide.
_FRANCEPTT_LABEL = re.compile(r"(?:lpnaaa|lpn|ofr|ouk)\d{0,3}_?(\d{3})\b")
FRANCEPTT: tuple[Rule, ...] = (rule(R.AUTHFAILURE, r"spf/dns de votre nom de domaine"),)

# --- Yahoo Inc. (senders.yahooinc.com/smtp-error-codes) ---------------------------------------
YAHOOINC: tuple[Rule, ...] = (
    rule(R.AUTHFAILURE, r"yahoo requires all senders to authenticate with either spf or dkim"),
    rule(
        R.BLOCKED,
        r" because the ip is in spamhaus's list;|not accepted from ip addresses on spamhaus xbl",
    ),
    rule(R.NORELAYING, r"relaying denied for "),
    rule(R.NOTCOMPLIANTRFC, r"headers are not rfc compliant"),
    rule(R.POLICYVIOLATION, r"not accepted for policy reasons"),
    # TSS04 is returned for volume, complaints and missing authentication alike.
    rule(R.REJECTED, r"temporarily deferred due to unexpected volume or user complaints"),
    rule(R.REJECTED, r"due to unresolvable rfc\.5321 domain"),
    rule(R.REJECTED, r" will be permanently deferred"),  # TSS09, TSS11
    rule(R.SPEEDING, r"user is receiving mail too quickly"),
    rule(R.SUSPEND, r" is no longer valid\.|this mailbox is disabled"),
    rule(R.SYNTAXERROR, r"syntax error in parameters or arguments"),
    rule(R.TOOMANYCONN, r"max message per connection reached"),
    rule(R.USERUNKNOWN, r"dd this user doesn't have a |mailbox not found"),
)

# --- Apple iCloud Mail (support.apple.com/102322) --------------------------------------------
APPLE: tuple[Rule, ...] = (
    rule(
        R.AUTHFAILURE, r"s dmarc policy|blocked for failing both spf and dkim autentication checks"
    ),
    rule(
        R.BLOCKED,
        r"rejected due to having a domain present in the spamhaus|rejected due to listing in "
        r"spamhaus|blocked - see https://support\.proofpoint\.com/dnsbl-lookup|not accepting "
        r"connections",
    ),
    rule(R.HASMOVED, r"recipient no longer on server"),
    rule(R.MAILBOXFULL, r"user is over quota"),
    rule(R.NORELAYING, r"relay access denied"),
    rule(R.NOTACCEPT, r"host/domain does not accept mail"),
    rule(R.POLICYVIOLATION, r"due to local policy"),
    rule(R.REJECTED, r"sender address rejected"),
    rule(R.SPEEDING, r"due to excessive volume"),
    rule(R.SUSPEND, r"inactive email address"),  # an address unused for long, may come back
    rule(R.USERUNKNOWN, r"user does not exist|unknown or illegal alias"),
)

AOL: tuple[Rule, ...] = (
    rule(R.HOSTUNKNOWN, r"host or domain name not found"),
    rule(R.NOTACCEPT, r"type=mx: malformed or unexpected name server reply"),
)

CLOUDFLARE: tuple[Rule, ...] = (
    rule(R.BLOCKED, r"found on one or more dnsbls"),
    rule(R.SYSTEMERROR, r"upstream error"),
)

# --- Cox (cox.com postmaster error codes): AUP# codes first, then phrases -----------------------
COX_CODES: dict[str, Reason] = {
    "CXBL": R.BLOCKED,  # IP blocked for spam-like behaviour
    "CXDNS": R.REQUIREPTR,  # reverse DNS of the IP fails
    "CXSNDR": R.AUTHFAILURE,  # SPF/DKIM of the sender domain fails
    "CXSMTP": R.REJECTED,  # SMTP protocol violation
    "CXCNCT": R.TOOMANYCONN,  # too many concurrent connections
    "CXMXRT": R.TOOMANYCONN,  # too many recipients
    "CDRBL": R.BLOCKED,  # IP temporarily blocked
    "CXTHRT": R.SECURITYERROR,  # suspicious account activity
    "CXMJ": R.SECURITYERROR,
    **dict.fromkeys(
        (
            "IPBL0001",
            "IPBL0010",
            "IPBL0100",
            "IPBL0011",
            "IPBL0101",
            "IPBL0110",
            "IPBL0111",
            "IPBL1000",
            "IPBL1001",
            "IPBL1010",
            "IPBL1011",
            "IPBL1100",
            "IPBL1101",
            "IPBL1110",
            "IPBL1111",
            "IPBL00001",
        ),
        R.BLOCKED,
    ),  # sending IP on DNS block lists
    **dict.fromkeys(("URLBL011", "URLBL101", "URLBL110", "URLBL1001"), R.SPAMDETECTED),
}
COX: tuple[Rule, ...] = (
    rule(R.BLOCKED, r"cox too many bad commands from|too many invalid recipients"),
    rule(R.REQUIREPTR, r"dns check failure - try again later|rejected - no rdns"),
    rule(R.POLICYVIOLATION, r"esmtp no data before greeting|attachment extension is forbidden"),
    rule(R.REJECTED, r"sender rejected"),
    rule(R.SYSTEMERROR, r"esmtp server temporarily not available"),
    rule(
        R.TOOMANYCONN,
        r"too many sessions from|requested action aborted: try again later|"
        r"message threshold exceeded",
    ),
    rule(R.USERUNKNOWN, r"recipient rejected"),
)

# --- GoDaddy (godaddy.com/help/40685): " IBnnn" codes, then phrases ----------------------------
GODADDY_CODES: dict[str, Reason] = {
    "IB401": R.SECURITYERROR,  # authentication not allowed on inbound servers
    "IB501": R.NOTCOMPLIANTRFC,  # blank From:
    "IB502": R.NOTCOMPLIANTRFC,  # IP address as From:
    "IB506": R.REJECTED,  # From: domain invalid
    "IB508": R.AUTHFAILURE,  # invalid SPF record
    "IB108": R.REQUIREPTR,  # reverse DNS failed
    "IB212": R.SPAMDETECTED,  # content judged to be spam
    "IB705": R.VIRUSDETECTED,
    "IB605": R.TOOMANYCONN,  # too many recipients
    "IB007": R.TOOMANYCONN,  # too many sessions from this IP
    "IB101": R.SPEEDING,  # server temporarily unavailable
    "IB110": R.BLOCKED,  # IP blocked for spam, an hour
    "IB111": R.BLOCKED,  # IP blocked for spam, a day
    "IB112": R.BLOCKED,  # IP blocked for invalid recipients, an hour
    "IB113": R.BLOCKED,  # IP blocked for invalid recipients, a day
    "IB504": R.SPEEDING,  # too many messages this hour
    "IB510": R.SPEEDING,  # too many messages per session
    "IB607": R.SPEEDING,  # too many recipients this hour
    "IB103": R.BADREPUTATION,  # poor reputation on Cloudmark CSI
    "IB104": R.BLOCKED,  # Spamhaus SBL
    "IB105": R.BLOCKED,  # Spamhaus XBL
    "IB106": R.BLOCKED,  # Spamhaus PBL
}
GODADDY: tuple[Rule, ...] = (
    rule(R.BLOCKED, r"rbl reject|www\.spamhaus\.org/query/bl\?ip="),
    rule(R.EXPIRED, r"has been in the queue too long|delivery timeout"),
    rule(R.MAILBOXFULL, r"account storage limit"),
    rule(R.SPAMDETECTED, r"message rejected for spam or virus content"),
    rule(R.SUSPEND, r"account disabled"),
    rule(R.SYSTEMERROR, r"message is looping"),
    rule(R.USERUNKNOWN, r"recipient not found|account does not exist"),
)

# --- i.ua: mail.i.ua/err/N/ ----------------------------------------------------------------------
IUA_CODES: dict[str, Reason] = {
    "1": R.NORELAYING,  # SMTP as a mail gate is forbidden
    "2": R.USERUNKNOWN,
    "3": R.SUSPEND,  # mailbox unused for more than 3 months
    "4": R.MAILBOXFULL,
    "5": R.TOOMANYCONN,  # sending limit exceeded
    "6": R.NORELAYING,
    "7": R.BLOCKED,  # wrong HELO
    "8": R.REJECTED,  # sender address not verified
    "9": R.BLOCKED,  # sender IP blacklisted
    "10": R.FILTERED,
}
_IUA_CODE = re.compile(r"\.i\.ua/err/(\d{1,2})/")

KDDI: tuple[Rule, ...] = (
    rule(R.FILTERED, r"550 : user unknown"),
    rule(R.USERUNKNOWN, r">: user unknown"),
)

MESSAGELABS: tuple[Rule, ...] = (
    rule(R.AUTHFAILURE, r"domain authentication fail"),
    rule(R.BADREPUTATION, r"connection rejected by policy"),
    rule(
        R.BLOCKED,
        r"mail rejected because your ip is in the pbl|your ip address has been |your ip address "
        r"\(ip-addr\) has been blocked|your email address \(addr\) has been blocked",
    ),
    rule(R.CONTENTERROR, r"stray linefeeds in message"),
    rule(R.FAILEDSTARTTLS, r"tls/sslv3 connection required"),
    rule(R.NORELAYING, r" as a relay, "),
    rule(
        R.NOTCOMPLIANTRFC,
        r"550 requested action aborted \[4\]|has detected that this message is not rfc 5322",
    ),
    rule(
        R.REJECTED,
        r"sender envelope domain not allowed for sender ip address|your domain has been blocked|"
        r"your email address has been blocked|your envelope sender is in my badmailfrom list|"
        r"your email address has been blacklisted|your domain has been blacklisted",
    ),
    rule(R.SECURITYERROR, r"please turn on smtp authentication in your mail client"),
    rule(R.SPAMDETECTED, r"message filtered|filtered by outbound scanning"),
    rule(R.TOOMANYCONN, r"too many recipients received this hour|too many messages"),
    rule(R.USERUNKNOWN, r"no such user|invalid recipient|mailbox is not allowed"),
)

# --- Mimecast (community.mimecast.com "Mimecast SMTP Error Codes"): reply code + phrase ---------
MIMECAST: tuple[Rule, ...] = (
    rule(R.AUTHFAILURE, r"(?:spf|dkim|dmarc) sender invalid - envelope rejected", 550),
    rule(R.BADREPUTATION, r"internal resources are temporarily unavailable", 451),
    rule(R.BADREPUTATION, r"local ct ip reputation - \(reject\)", 550),
    rule(R.BLOCKED, r"sender address blocked", 421),
    rule(R.BLOCKED, r"recipient temporarily unavailable|ip temporarily blacklisted", 451),
    rule(R.EXPIRED, r"journal messages past the expiration", 550),
    rule(
        R.FAILEDSTARTTLS,
        r"this route requires (?:encryption \(tls\)|tls version 1\.2 or greater|"
        r"high-strength ciphers)",
        553,
    ),
    rule(R.FAILEDSTARTTLS, r"configuration is invalid for this certificate", 554),
    rule(R.MESGTOOBIG, r"maximum email size exceeded", 554),
    rule(R.NETWORKERROR, r"the incorrect hostname used for inbounds", 451),
    rule(R.NETWORKERROR, r"the incorrect hostname used for inbounds", 550),
    rule(R.NETWORKERROR, r"mail loop detected", 554),
    rule(R.NORELAYING, r"open relay (?:is )?not allowed", 451),
    rule(R.NOTACCEPT, r"account inbounds disabled", 451),
    rule(R.ONHOLD, r"account outbounds disabled|hostname is not authorized", 451),
    rule(R.ONHOLD, r"journal message past expiration", 550),
    rule(
        R.POLICYVIOLATION,
        r"anti-spoofing policy - inbound not allowed|rejected by header-based anti-spoofing policy",
        550,
    ),
    rule(R.POLICYVIOLATION, r"message bounced due to content examination policy", 550),
    rule(R.POLICYVIOLATION, r"host network,? not allowed", 554),
    rule(
        R.REJECTED,
        r"administrative prohibition envelope blocked|envelope blocked - user (?:domain )?entry|"
        r"rejected by header-based (?:manually )?blocked senders|envelope rejected - block policy "
        r"for envelope from address",
        550,
    ),
    rule(R.SECURITYERROR, r"incorrect authentication data", 535),
    rule(R.SECURITYERROR, r"submitter failed to (?:disabled|authenticate)", 550),
    rule(
        R.SYSTEMERROR,
        r"unable to process connection at this time|message ended early|unable to process "
        r"command|unable to process an email at this time",
        451,
    ),
    rule(R.TOOMANYCONN, r"account service is temporarily unavailable", 451),
    rule(R.TOOMANYCONN, r"too many recipients", 452),
    rule(R.TOOMANYCONN, r"exceeding outbound thread limit", 550),
    rule(R.USERUNKNOWN, r"invalid address", 501),
    rule(R.USERUNKNOWN, r"user unknown", 503),
    rule(R.USERUNKNOWN, r"invalid recipient", 550),
    rule(R.VIRUSDETECTED, r"email rejected due to security policies", 554),
)

OUTLOOK: tuple[Rule, ...] = (
    rule(
        R.HOSTUNKNOWN,
        r"the mail could not be delivered to the recipient because the domain is not reachable",
    ),
    rule(R.USERUNKNOWN, r"requested action not taken: mailbox unavailable"),
)

# --- Spectrum/Charter: AUP#nnnn code ranges (spectrumbusiness.net "email error codes") --------
SPECTRUM_RANGES: tuple[tuple[int, int, Reason], ...] = (
    (1000, 1000, R.BLOCKED),  # IP blocked for suspicious activity
    (1010, 1010, R.REJECTED),  # account blocked from sending
    (1020, 1080, R.REJECTED),  # account limited
    (1090, 1090, R.SYSTEMERROR),
    (1100, 1150, R.REQUIREPTR),  # no full-circle DNS
    (1160, 1190, R.POLICYVIOLATION),
    (1200, 1210, R.BLOCKED),  # Cloudmark CSI
    (1220, 1250, R.BLOCKED),  # Spamhaus
    (1260, 1260, R.NETWORKERROR),  # IPv6 not processed
    (1300, 1340, R.TOOMANYCONN),  # concurrent connections
    (1350, 1490, R.SPEEDING),  # message and recipient volume
    (1500, 1500, R.REJECTED),
    (1520, 1520, R.REJECTED),
    (1530, 1530, R.MESGTOOBIG),
    (1540, 1540, R.SPEEDING),
    (1550, 1550, R.SPEEDING),
    (1560, 1560, R.POLICYVIOLATION),
    (1580, 1580, R.SPEEDING),
)
_AUP_CODE = re.compile(r"AUP#[A-Za-z]{0,2}-?(\d{4})")
_COX_CODE = re.compile(r"AUP#([A-Z0-9]{2,12})")

# --- Tencent QQ (service.mail.qq.com/detail/122) ---------------------------------------------
TENCENT: tuple[Rule, ...] = (
    rule(R.AUTHFAILURE, r"spf check failed|dmarc check failed"),
    rule(R.BLOCKED, r"suspected bounce attacks|suspected spam ip|connection denied"),
    rule(R.MESGTOOBIG, r"message too large"),
    rule(R.REJECTED, r"suspected spam|mail is rejected by recipients"),
    rule(R.SPAMDETECTED, r"spam is embedded in the email|mail content denied"),
    rule(
        R.SPEEDING,
        r"mailbox unavailable or access denined|frequency of receiving messages is limited",
    ),
    rule(R.SUSPEND, r"is a deactivated mailbox"),
    rule(R.SYNTAXERROR, r"bad address syntax"),
    rule(R.TOOMANYCONN, r"(?:ip|domain|sender|connection) frequency limited"),
    rule(R.USERUNKNOWN, r"mailbox not found"),
)

ZOHO: tuple[Rule, ...] = (
    rule(R.AUTHFAILURE, r"email rejected per dmarc policy"),
    rule(R.BLOCKED, r"greylisted, try again after some time"),
    rule(
        R.REJECTED,
        r"email cannot be delivered\. reason: email flagged as spam|"
        r"mail rejected by destination domain",
    ),
    rule(
        R.POLICYVIOLATION,
        r"email policy violation detected|mailbox delivery restricted by policy error",
    ),
    rule(R.SYSTEMERROR, r"temporary system error"),
    rule(R.USERUNKNOWN, r"user does not exist"),
    rule(R.VIRUSDETECTED, r" detected by zoho mail"),
)

# --- Facebook (facebook.com/postmaster/response_codes) ------------------------------------------
FACEBOOK_CODES: dict[str, Reason] = {
    "POL-P7": R.AUTHFAILURE,
    **dict.fromkeys(
        ("POL-P1", "POL-P2", "POL-P3", "POL-P4", "POL-T1", "POL-T2", "POL-T3"), R.BLOCKED
    ),
    "MSG-P2": R.CONTENTERROR,
    "RCP-P2": R.FILTERED,
    "RCP-P3": R.FILTERED,
    "MSG-P1": R.MESGTOOBIG,
    "INT-P2": R.MESGTOOBIG,
    "MSG-P3": R.NOTCOMPLIANTRFC,
    **dict.fromkeys(("DNS-P1", "DNS-P2", "DNS-T1"), R.REJECTED),
    **dict.fromkeys(("DNS-P3", "DNS-T2"), R.REQUIREPTR),
    "POL-P6": R.SPAMDETECTED,
    "RCP-T4": R.SUSPEND,
    "RCP-T1": R.SYSTEMERROR,
    **dict.fromkeys(("CON-T1", "CON-T2", "CON-T3", "CON-T4", "MSG-T1"), R.TOOMANYCONN),
    **dict.fromkeys(("RCP-P1", "INT-P1", "INT-P3", "INT-P4"), R.USERUNKNOWN),
    "POL-P5": R.VIRUSDETECTED,
}
_FACEBOOK_CODE = re.compile(r"\b([A-Z]{3}-[PT]\d)\b")

NTTDOCOMO: tuple[Rule, ...] = (
    rule(R.MAILBOXFULL, r"552 too much mail data"),
    rule(R.SYNTAXERROR, r"503 bad sequence of commands|504 command parameter not implemented"),
    rule(R.TOOMANYCONN, r"552 too many recipients"),
)
# Since March 2025 docomo no longer refuses for its reception filters: "550 Unknown user" that is
# not a DATA-time filter refusal means the address.
NTTDOCOMO_UNKNOWN = rule(R.USERUNKNOWN, r"550 unknown user")

# Phrase tables of the systems that have no code-specific logic.
TABLES: dict[System, tuple[Rule, ...]] = {
    System.AOL: AOL,
    System.APPLE: APPLE,
    System.CLOUDFLARE: CLOUDFLARE,
    System.COX: COX,
    System.FRANCEPTT: FRANCEPTT,
    System.GODADDY: GODADDY,
    System.KDDI: KDDI,
    System.MESSAGELABS: MESSAGELABS,
    System.MIMECAST: MIMECAST,
    System.OUTLOOK: OUTLOOK,
    System.TENCENT: TENCENT,
    System.YAHOOINC: YAHOOINC,
    System.ZOHO: ZOHO,
}


def _matches(rule_: Rule, reply: Reply) -> bool:
    if rule_.reply is not None and reply.reply != rule_.reply:
        return False
    if rule_.status:
        status = reply.status or ""
        if rule_.high:
            if not status.startswith(rule_.status):
                return False
            third = status.rsplit(".", 1)[-1]
            if not third.isdigit() or not rule_.low <= int(third) <= rule_.high:
                return False
        elif status != rule_.status:
            return False
    return rule_.found_in(reply.text)


# The two long tables indexed, so that a reply is compared only with the rows that can match
# it, in table order: Google's rows by their reply code without its class digit, Microsoft's by
# their exact status (each of these lists also holds the rows with a range of codes).
_GOOGLE_BY_CODE: dict[str, list[Rule]] = {}
for _row in GOOGLE:
    _GOOGLE_BY_CODE.setdefault(str(_row.reply)[1:], []).append(_row)
_MICROSOFT_RANGES = tuple(row for row in MICROSOFT if row.high)
_MICROSOFT_BY_STATUS: dict[str, list[Rule]] = {row.status: [] for row in MICROSOFT if not row.high}
for _row in MICROSOFT:
    if _row.high:  # a range of codes: a candidate whatever the exact status
        for _rows in _MICROSOFT_BY_STATUS.values():
            _rows.append(_row)
    else:
        _MICROSOFT_BY_STATUS[_row.status].append(_row)


def _google(reply: Reply) -> Reason | None:
    # Google's rows compare the reply code and the status without their class digits.
    if reply.reply is None or not reply.status:
        return None
    code, status = str(reply.reply)[1:], reply.status[2:]
    for row in _GOOGLE_BY_CODE.get(code, ()):
        if row.status[2:].startswith(status) and row.found_in(reply.text):
            return row.reason
    return None


def _microsoft(reply: Reply) -> Reason | None:
    if reply.status:
        for row in _MICROSOFT_BY_STATUS.get(reply.status, _MICROSOFT_RANGES):
            if _matches(row, reply):
                return row.reason
    for code, (reply_code, reason) in MICROSOFT_CODES.items():
        if code in reply.raw and reply.reply == reply_code:
            return reason
    return None


def _franceptt(reply: Reply) -> Reason | None:
    labels = _FRANCEPTT_LABEL.findall(reply.text.replace("-", "_"))
    if labels and labels[-1] in FRANCEPTT_CODES:
        return FRANCEPTT_CODES[labels[-1]]
    return _table(FRANCEPTT, reply)


def _cox(reply: Reply) -> Reason | None:
    match = _COX_CODE.search(reply.raw)
    if match and match.group(1) in COX_CODES:
        return COX_CODES[match.group(1)]
    return _table(COX, reply)


def _godaddy(reply: Reply) -> Reason | None:
    match = re.search(r" (IB\d{3})\b", reply.raw)
    if match and match.group(1) in GODADDY_CODES:
        return GODADDY_CODES[match.group(1)]
    return _table(GODADDY, reply)


def _iua(reply: Reply) -> Reason | None:
    match = _IUA_CODE.search(reply.text)
    return IUA_CODES.get(match.group(1)) if match else None


def _spectrum(reply: Reply) -> Reason | None:
    match = _AUP_CODE.search(reply.raw)
    if not match:
        return None
    number = int(match.group(1))
    for low, high, reason in SPECTRUM_RANGES:
        if low <= number <= high:
            return reason
    return None


def _facebook(reply: Reply) -> Reason | None:
    match = _FACEBOOK_CODE.search(reply.raw)
    return FACEBOOK_CODES.get(match.group(1)) if match else None


def _nttdocomo(reply: Reply) -> Reason | None:
    # NTT docomo answers every refusal with "550 Unknown user"; the status and the command tell
    # an unknown user from a domain or address filter.
    if reply.status in ("5.1.1", "5.0.911"):
        return R.USERUNKNOWN
    if reply.status == "5.2.0":
        return R.FILTERED
    found = _table(NTTDOCOMO, reply)
    if found is not None:
        return found
    if reply.status == "5.0.0" and reply.command in ("RCPT", "DATA"):
        return R.USERUNKNOWN if reply.command == "RCPT" else R.REJECTED
    return R.USERUNKNOWN if _matches(NTTDOCOMO_UNKNOWN, reply) else None


def _gsuite(reply: Reply) -> Reason | None:
    klass = (reply.status or "")[:1]
    code = str(reply.reply)[:1] if reply.reply else ""
    if "because the address couldn't be found. check for typos" in reply.text:
        return R.USERUNKNOWN
    if "null mx" in reply.text:
        return R.NOTACCEPT
    nxdomain = "responded with code nxdomain" in reply.text or "domain name not found" in reply.text
    if nxdomain and klass == "5" and code == "5":
        return R.HOSTUNKNOWN
    if (nxdomain or " had no relevant answers." in reply.text) and "5" not in (klass, code):
        return R.NETWORKERROR
    return None


def _table(rows: tuple[Rule, ...], reply: Reply) -> Reason | None:
    for row in rows:
        if _matches(row, reply):
            return row.reason
    return None


def find(system: System, reply: Reply) -> Reason | None:
    """The reason the receiving system's own documentation gives its reply, if any."""
    if not reply.text:
        return None
    if system is System.GOOGLE:
        return _google(reply)
    if system is System.MICROSOFT:
        return _microsoft(reply)
    if system is System.FRANCEPTT:
        return _franceptt(reply)
    if system is System.COX:
        return _cox(reply)
    if system is System.GODADDY:
        return _godaddy(reply)
    if system is System.IUA:
        return _iua(reply)
    if system is System.SPECTRUM:
        return _spectrum(reply)
    if system is System.FACEBOOK:
        return _facebook(reply)
    if system is System.NTTDOCOMO:
        return _nttdocomo(reply)
    if system is System.GSUITE:
        return _gsuite(reply)
    return _table(TABLES[system], reply)


# Where reports name the remote host inside the reply text (Postfix "host X[ip] said:", Exim
# "host X [ip]:", Sendmail "while talking to X.:", Gmail "by X. [ip]", ...). Each opening is
# a literal first (a word boundary before "host" is checked behind it), for a fast search.
_HOST_SANDWICH = re.compile(
    r"(?:host (?<!\whost )|while talking to | by |remote system: dns; ?|smtp server <|"
    r"generating server: )"
    r"([a-z0-9][a-z0-9.-]{2,250}?)\.?(?:\[| \[| said:|:| refused|>|\s|$)"
)
# Otherwise, a host name anywhere in the text that belongs to one of the systems: its tail is
# found first, then the name is read back to where it begins.
_SYSTEM_TAIL = re.compile(
    trie(re.escape(tail.lstrip(".")) for tails in HOSTS.values() for tail in tails) + r"(?![\w-])"
)
# Every tail ends with one of these few top-level labels (each tail has a dot: `rindex` fails at
# import otherwise): a text that holds none of them holds no tail, and testing for them costs
# less than the search above, which starts at every letter that begins a tail.
_TAIL_ENDS = tuple(sorted({tail[tail.rindex(".") :] for tails in HOSTS.values() for tail in tails}))
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")


def host_in(lowered: str) -> str | None:
    """A remote host name in a lower-cased reply text: where reports put it, else one of a known
    system."""
    match = _HOST_SANDWICH.search(lowered)
    if match and "." in match.group(1) and not match.group(1).rsplit(".", 1)[-1].isdigit():
        return match.group(1).rstrip(".")
    if not any(end in lowered for end in _TAIL_ENDS):
        return None
    for found in _SYSTEM_TAIL.finditer(lowered):
        start = found.start()
        if start and lowered[start - 1] != "." and lowered[start - 1] in _WORD_CHARS:
            continue  # "xcox.net": the tail is part of a longer label
        while start and lowered[start - 1] in _HOST_CHARS:
            start -= 1
        return lowered[start : found.end()].lstrip(".-")
    return None
