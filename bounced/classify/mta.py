"""Wording of particular MTAs and local delivery agents that states a reason outright.

Theory of operation: some notices are written by software whose own messages are few and known
(Exim's router and transport errors, qmail's, Gmail's "(state N)" notices, Domino's, the
refusals of procmail, maildrop, Dovecot, vpopmail and the like). When the notice is recognised
as such software's (`Mta.marker`, matched against the report's subject and sender and the reply
text), its own table is read, most specific row first; the result counts as a reason the report
states (before the receiving system's rules and the generic phrase tables), and some tables also
name the SMTP command the notice says failed.

Rule 1: markers and phrases are the software's own strings (from its source or documentation),
matched case-sensitively where the software's wording is fixed.
Rule 2 (`LOCAL_AGENTS`): a local delivery agent's refusal that is not in its table is a mailer
error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from bounced.classify import status
from bounced.classify.scan import Scanner
from bounced.model import Reason
from bounced.parse.phrases import finder, trie

R = Reason


@dataclass(frozen=True, slots=True)
class Said:
    """What a notice's own wording says: a reason, a command, or both."""

    reason: Reason | None = None
    command: str | None = None


@dataclass(frozen=True, slots=True)
class Mta:
    """A notice-writing MTA: how to recognise it, and its messages."""

    name: str
    markers: tuple[str, ...]  # literal strings of its notices (subject, sender or text)
    table: tuple[tuple[Reason, str], ...]  # regexes, compiled when a notice first needs them
    any: str  # every phrase of the table: most replies match none


def _mta(name: str, markers: tuple[str, ...], table: dict[Reason, str]) -> Mta:
    return Mta(name, markers, tuple(table.items()), trie(table.values()))


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# Exim (src/deliver.c, route.c, transports/*.c, routers/dnslookup.c message strings).
EXIM = _mta(
    "exim",
    (
        "Mail delivery failed",
        "mail delivery failed",
        "SMTP error from remote",
        "This message was created automatically by mail delivery software",
        "Exim",
        "exim",
    ),
    {
        R.USERUNKNOWN: r"user not found",
        R.HOSTUNKNOWN: r"all host address lookups failed permanently|all relevant MX records "
        r"point to non-existent hosts|Unrouteable address",
        R.MAILBOXFULL: r"mailbox is full|error: quota exceed",
        R.NOTACCEPT: r"an MX or SRV record indicated no SMTP service|no host found for existing "
        r"SMTP connection",
        R.SYNTAXERROR: r'angle-brackets nested too deep|expected word or "<"|domain missing in '
        r"source-routed address|malformed address:",
        R.SYSTEMERROR: r"delivery to (?:file|pipe) forbidden|local delivery failed|"
        r"LMTP error after ",
        R.CONTENTERROR: r'Too many "Received" headers',
        R.EXPIRED: r"retry timeout exceeded|No action is required on your part|retry time not "
        r"reached for any host after a long failure period|all hosts have been failing for a "
        r"long time and were last tried|Delay reason: |has been frozen|was frozen on arrival by ",
        # A pipe or autoreply transport's own output ("pipe to |/usr/bin/...").
        R.MAILERERROR: r"pipe to \||The following text was generated during the delivery attempt",
    },
)

# qmail (qmail-remote.c, qmail-send.c, qmail-local.c, qmail-ldap patch; clones used by Yahoo).
QMAIL = _mta(
    "qmail",
    ("Hi. This is the qmail",),  # and the subject "failure notice" (see `said`)
    {
        R.HOSTUNKNOWN: r"Sorry, I couldn't find any host ",
        R.MAILBOXFULL: r"disk quota exceeded",
        R.MESGTOOBIG: r"Message size exceeds fixed maximum message size:",
        R.NETWORKERROR: r"Sorry, I wasn't able to establish an SMTP connection|Sorry\. Although "
        r"I'm listed as a best-preference MX or A for that host",
        R.NOTACCEPT: r"Sorry, I couldn't find a mail exchanger or IP address",
        R.SYSTEMFULL: r"Requested action not taken: mailbox unavailable \(not enough free space\)",
        R.USERUNKNOWN: r"no mailbox here by that name",
        R.EXCEEDLIMIT: r"The message exeeded the maximum size the user accepts",
        R.SUSPEND: r"Mailaddress is administrativ\w{0,3}ly disabled",
        R.SYSTEMERROR: r"bad interpreter: No such file or directory|system error|Unable to|"
        r"Automatic homedir creator crashed|Illegal value in LDAP attribute|LDAP attribute is "
        r"not given but mandatory|Timeout while performing search on LDAP server|Too many "
        r"results returned but needs to be unique|(?:Permanent|Temporary) error while executing "
        r"qmail-forward|Temporary error in automatic homedir creation|Temporary failure in LDAP "
        r"lookup|Unable to contact LDAP server|Unable to login into LDAP server",
        R.EXPIRED: r"this message has been in the queue too long\.",
    },
)
# qmail-remote.c: which SMTP step a qmail notice says failed.
QMAIL_COMMANDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("CONN", re.compile(r" but greeting failed\.")),
    ("EHLO", re.compile(r" but my name was rejected\.")),
    ("MAIL", re.compile(r" but sender was rejected\.")),
    ("RCPT", re.compile(r" does not like recipient\.")),
    ("DATA", re.compile(r" failed on DATA command| failed after I sent the message")),
)
_QMAIL_ONHOLD = re.compile(r" does not like recipient\..{0,2000}this message has been in the queue")

# Gmail's own notices (mailer-daemon@googlemail.com): "(state N)" names the step and reason.
GMAIL_STATES: dict[str, tuple[str, Reason]] = {
    "6": ("MAIL", R.FAILEDSTARTTLS),  # remote server does not support TLS
    "8": ("AUTH", R.SYSTEMERROR),  # SMTP AUTH failed with the remote server
    "9": ("AUTH", R.FAILEDSTARTTLS),  # TLS missing certificate
    "12": ("AUTH", R.NORELAYING),  # remote server does not support authenticated relay
    "13": ("EHLO", R.BLOCKED),
    "14": ("RCPT", R.USERUNKNOWN),
    "15": ("DATA", R.FILTERED),
    "17": ("DATA", R.FILTERED),
    "18": ("DATA", R.FILTERED),
}
GMAIL = _mta(
    "gmail",
    (
        "mailer-daemon@googlemail.com",
        "Technical details of permanent failure",
        "Technical details of temporary failure",
        "Delivery to the following recipient",
        "Message will be retried for ",
    ),
    {
        R.EXPIRED: r"DNS Error: Could not contact DNS servers|Delivery to the following recipient "
        r"has been delayed|The recipient server did not accept our requests to connect|"
        r"Message will be retried for \d+ more day",
        R.HOSTUNKNOWN: r"DNS Error: Domain name not found|DNS Error: DNS server returned answer "
        r"with no data",
    },
)
_GMAIL_STATE = re.compile(r" \(state (\d{1,2})\)")

# Microsoft Exchange Server 2007 and later: the NDR's enhanced-code subject names the reason.
EXCHANGE_NDR: dict[str, Reason] = {
    "SMTPSEND.DNS.NonExistentDomain": R.HOSTUNKNOWN,
    "SMTPSEND.DNS.MxLoopback": R.NETWORKERROR,
    "RESOLVER.ADR.BadPrimary": R.SYSTEMERROR,
    "RESOLVER.ADR.RecipNotFound": R.USERUNKNOWN,
    "RESOLVER.ADR.RecipientNotFound": R.USERUNKNOWN,
    "RESOLVER.ADR.ExRecipNotFound": R.USERUNKNOWN,
    "RESOLVER.ADR.RecipLimit": R.TOOMANYCONN,
    "RESOLVER.ADR.InvalidInSmtp": R.SYSTEMERROR,
    "RESOLVER.ADR.Ambiguous": R.SYSTEMERROR,
    "RESOLVER.RST.AuthRequired": R.SECURITYERROR,
    "RESOLVER.RST.NotAuthorized": R.REJECTED,
    "RESOLVER.RST.RecipSizeLimit": R.EXCEEDLIMIT,
    "QUEUE.Expired": R.EXPIRED,
}
_EXCHANGE_NDR = re.compile(r"\b((?:RESOLVER|QUEUE|SMTPSEND)\.[A-Za-z.]{3,40}?);")

# Exchange Server 2003 and older: "MSEXCH:IMS:... (000C05A6) Unknown Recipient".
EXCHANGE_CODES: dict[str, Reason] = {
    "000C05A6": R.USERUNKNOWN,  # unknown recipient
    "000C0595": R.FILTERED,  # ambiguous recipient
    "00010256": R.SYSTEMERROR,  # too many recipients
    "000D06B5": R.SYSTEMERROR,  # no proxy for recipient
    "00120270": R.NETWORKERROR,  # too many hops
    "00050311": R.CONTENTERROR,  # conversion to Internet format failed
    "000502CC": R.CONTENTERROR,
    "000B0981": R.SECURITYERROR,  # server does not support AUTH
    "000B099C": R.ONHOLD,  # host unknown, message too big, ...: the remote reply decides
    "000B09AA": R.ONHOLD,  # unable to relay, message too big, ...
    "000B09B6": R.ONHOLD,  # error reply of the remote MTA
}
_EXCHANGE_CODE = re.compile(r"MSEXCH:.{0,200}?\(([0-9A-Fa-f]{8})\)")

# Rule 1: the other MTAs, each with a marker and its messages.
OTHERS: tuple[Mta, ...] = (
    _mta(  # DragonFly Mail Agent (dma.c, net.c)
        "dragonfly",
        (
            "DragonFly Mail Agent",
            "did not like our ",
            "Could not deliver for the last ",
            "DNS lookup failure: host ",
        ),
        {
            R.EXPIRED: r"Could not deliver for the last ",
            R.HOSTUNKNOWN: r"DNS lookup failure: host ",
        },
    ),
    _mta(  # Courier (module.esmtp/esmtpclient.c)
        "courier",
        ("Courier mail server at ", "NOTICE: mail delivery status.", "WARNING: delayed mail."),
        {
            R.HOSTUNKNOWN: r"No such domain\.",
            R.SYSTEMERROR: r"This domain's DNS violates RFC 1035\.",
            R.NETWORKERROR: r"DNS lookup failed\.",
        },
    ),
    _mta(  # HCL Domino
        "domino",
        ("Domino", "DELIVERY FAILURE:", "DELIVERY_FAILURE"),
        {
            R.FILTERED: r"Cannot route mail to user",
            R.SYSTEMERROR: r"Several matches found in Domino Directory",
            R.USERUNKNOWN: r"not listed in (?:Domino Directory|public Name & Address Book)|"
            r"no se encuentra en el Directorio de Domino|non r.{1,2}pertori.{1,2} dans "
            r"l'annuaire Domino|Domino ディレクトリには見つかりません",
        },
    ),
    _mta(  # HCL Notes
        "notes",
        (
            "Undeliverable message",
            "Name & Address Book",
            "maximum hop count",
            "ディレクトリのリスト",
        ),
        {
            R.NETWORKERROR: r"Message has exceeded maximum hop count",
            R.USERUNKNOWN: r"User not listed in public Name & Address Book|"
            r"ディレクトリのリストにありません",
        },
    ),
    _mta(  # GMX, Web.de
        "gmx",
        ("delivery retry timeout exceeded",),
        {R.EXPIRED: r"delivery retry timeout exceeded"},
    ),
    _mta(  # Zoho Mail's notices
        "zoho",
        ("ResponseCode ", "ERROR_CODE :", "Zoho"),
        {R.EXPIRED: r"Host not reachable"},
    ),
    _mta(  # OpenSMTPD (smtpd/mta.c, queue.c)
        "opensmtpd",
        (
            "OpenSMTPD",
            "This is the MAILER-DAEMON, please DO NOT REPLY",
            "Delivery status notification",
        ),
        {
            R.EXPIRED: r"Envelope expired",
            R.SECURITYERROR: r"Could not retrieve credentials",
            R.HOSTUNKNOWN: r"Invalid domain name|Domain does not exist",
            R.NETWORKERROR: r"Address family mismatch on destination MXs|All routes to "
            r"destination blocked|bad DNS lookup error code|Could not retrieve source address|"
            r"Loop detected|Network error on destination MXs|No valid route to (?:remote MX|"
            r"destination)|Temporary failure in MX lookup",
            R.NOTACCEPT: r"Destination seem to reject all mails|No MX found for (?:domain|"
            r"destination)",
        },
    ),
    _mta(  # Oracle Communications Messaging Server
        "messagingserver",
        ("Illegal host/domain name found",),
        {R.HOSTUNKNOWN: r"Illegal host/domain name found"},
    ),
    _mta(  # au (KDDI) EZweb notices
        "ezweb",
        (
            "ezweb.ne.jp",
            "au.com",
            "The user(s) account",
            "Your message was not delivered within ",
            "Each of the following recipients was rejected",
        ),
        {
            R.EXPIRED: r"Your message was not delivered within ",
            R.MAILBOXFULL: r"The user\(s\) account is temporarily over quota",
            R.ONHOLD: r"Each of the following recipients was rejected by a remote mail server",
            R.SUSPEND: r"The user\(s\) account is (?:disabled\.|temporarily limited\.)",
        },
    ),
    _mta(  # au (KDDI) mail notices
        "kddi",
        (
            "Could not be delivered to: <",
            "As their mailbox is full",
            "Due to the following SMTP relay error",
            "As the remote domain doesnt exist",
        ),
        {
            R.MAILBOXFULL: r"As their mailbox is full",
            R.NORELAYING: r"Due to the following SMTP relay error",
            R.HOSTUNKNOWN: r"As the remote domain doesnt exist",
        },
    ),
    _mta(  # Progress iMail Server
        "imailserver",
        ("Undeliverable Mail", "Body of message generated response:"),
        {
            R.HOSTUNKNOWN: r"Unknown host",
            R.USERUNKNOWN: r"Unknown user|Invalid final delivery userid",
            R.MAILBOXFULL: r"User mailbox exceeds allowed size",
            R.VIRUSDETECTED: r"Requested action not taken: virus detected",
            R.SPAMDETECTED: r"Blacklisted URL in message",
            R.EXPIRED: r"Delivery failed ",
        },
    ),
    _mta(  # Google Workspace notices without DSN fields (the Gmail table above found nothing)
        "googleworkspace",
        ("mailer-daemon@googlemail.com",),
        {
            R.USERUNKNOWN: r"because the address couldn.t be found\. Check for typos",
            R.NOTACCEPT: r"Null MX",
            R.NETWORKERROR: r" had no relevant answers\.| responded with code NXDOMAIN",
        },
    ),
    _mta(  # Symantec Email Security.cloud (MessageLabs) notices: its 542 refuses the recipient
        "messagelabs",
        ("MAILER-DAEMON@messagelabs.com",),
        {
            R.USERUNKNOWN: r"\b542 .{0,200}? Rejected|No such user",
            R.SECURITYERROR: r"Please turn on SMTP Authentication in your mail client",
        },
    ),
    _mta(  # Verizon Wireless gateways (vtext.com, vzwpix.com)
        "verizon",
        ("post_master@vtext.com", ".vzwpix.com"),
        {R.USERUNKNOWN: r"550 - Requested action not taken: no such user here|No valid recipients"},
    ),
    _mta(  # 1&1
        "einsundeins",
        ("Mail size limit exceeded", "postmaster.1and1.com"),
        {R.MESGTOOBIG: r"Mail size limit exceeded"},
    ),
    _mta(  # BIGLOBE and other Japanese ISPs on its system
        "biglobe",
        (
            "Non-delivered information",
            "Mail Delivery Failed... User unknown",
            "The number of messages in recipient's mailbox exceeded",
        ),
        {
            R.FILTERED: r"Mail Delivery Failed\.\.\. User unknown",
            R.MAILBOXFULL: r"The number of messages in recipient's mailbox exceeded the local "
            r"limit\.",
        },
    ),
)

# Rule 2: local delivery agents (their source code's error strings), lower-cased.
LOCAL_AGENTS: tuple[Mta, ...] = (
    _mta(
        "dovecot",
        ("> was automatically rejected:",),
        {
            R.MAILBOXFULL: r"not enough disk space|quota exceeded",
            R.USERUNKNOWN: r"mailbox doesn't exist: ",
        },
    ),
    _mta(
        "mail.local",
        ("mail.local: ",),
        {
            R.MAILBOXFULL: r"disc quota exceeded|mailbox full or quota exceeded",
            R.SYSTEMERROR: r"temporary file write error",
            R.USERUNKNOWN: r": (?:invalid mailbox path|unknown user:|user missing home directory|"
            r"user unknown)",
        },
    ),
    _mta(
        "procmail",
        ("procmail: ", "/procmail "),
        {
            R.MAILBOXFULL: r"quota exceeded while writing|user over quota",
            R.SYSTEMERROR: r"service unavailable",
            R.SYSTEMFULL: r"no space left to finish writing",
        },
    ),
    _mta(
        "maildrop",
        ("maildrop: ",),
        {
            R.MAILBOXFULL: r"maildir over quota\.",
            R.USERUNKNOWN: r"cannot find system user|invalid user specified\.",
        },
    ),
    _mta(
        "vpopmail",
        ("vdelivermail: ",),
        {
            R.FILTERED: r"user does not exist, but will deliver to ",
            R.MAILBOXFULL: r"domain is over quota|user is over quota",
            R.SUSPEND: r"account is locked email bounced",
            R.USERUNKNOWN: r"sorry, no mailbox here by that name\.",
        },
    ),
    _mta(
        "vmailmgr",
        ("vdeliver: ",),
        {
            R.MAILBOXFULL: r"delivery failed due to system quota violation",
            R.USERUNKNOWN: r"invalid or unknown (?:base user or domain|virtual user)|"
            r"user name does not refer to a virtual user",
        },
    ),
)


def _first(mta: Mta, text: str) -> Reason | None:
    if not _compiled(mta.any).search(text):
        return None
    for reason, pattern in mta.table:
        if finder(pattern)(text):
            return reason
    return None


_NOTICE_MTAS = (GMAIL, QMAIL, EXIM, *OTHERS)
_MARKER_TABLE: dict[str, list[str]] = {}
for _mta_ in _NOTICE_MTAS:
    _MARKER_TABLE.setdefault(_mta_.name, []).extend(re.escape(m) for m in _mta_.markers)
# Every marker at once, in one pass: most notices carry none.
_MARKERS = Scanner(_MARKER_TABLE)
_QMAIL_SUBJECTS = frozenset({"failure notice", "Failure Notice"})  # qmail-send.c
_NOTHING = Said()  # what most notices' own wording says


def _present(signature: str) -> frozenset[str]:
    """The names of the MTAs whose markers the signature holds."""
    return _MARKERS.keys_in(signature)


def said(text: str, subject: str = "", sender: str = "", command: str | None = None) -> Said:
    """What the notice's own wording says (`text` as written, not lower-cased)."""
    if not text:
        return _NOTHING
    if "MSEXCH:" in text:
        match = _EXCHANGE_CODE.search(text)
        if match and match.group(1).upper() in EXCHANGE_CODES:
            return Said(EXCHANGE_CODES[match.group(1).upper()])
    if "RESOLVER." in text or "QUEUE." in text or "SMTPSEND." in text:
        match = _EXCHANGE_NDR.search(text)
        if match and match.group(1) in EXCHANGE_NDR:
            return Said(EXCHANGE_NDR[match.group(1)])
    present = _present(f"{subject}\n{sender}\n{text}")
    if subject in _QMAIL_SUBJECTS:
        present |= {QMAIL.name}
    if not present:
        return _NOTHING
    if GMAIL.name in present:
        state = _GMAIL_STATE.search(text)
        step: str | None = None
        found = None
        if state and state.group(1) in GMAIL_STATES:
            step, found = GMAIL_STATES[state.group(1)]
        else:
            found = _first(GMAIL, text)
        if found is not None:
            # A specific status code in the remote reply overrides the notice's own wording.
            code = status.find_status(text)
            if code is not None and ".0" not in code:
                return Said(status.reason_of(code), step)
            return Said(found, step)
    if QMAIL.name in present:
        step = next((name for name, pattern in QMAIL_COMMANDS if pattern.search(text)), None)
        if step in ("EHLO", "HELO"):
            return Said(R.BLOCKED, step)
        if _QMAIL_ONHOLD.search(text):
            return Said(None, step)
        found = _first(QMAIL, text)
        if found is not None or step is not None:
            return Said(found, step)
    if EXIM.name in present:
        if command in ("EHLO", "HELO"):
            return Said(R.BLOCKED)
        if command != "MAIL":
            found = _first(EXIM, text)
            if found is not None:
                return Said(found)
    for mta in OTHERS:
        if mta.name in present:
            found = _first(mta, text)
            if found is not None:
                return Said(found)
    return _NOTHING


# Every local agent's markers, each with its agent, in the order of `LOCAL_AGENTS`: one loop of
# substring tests (most replies hold none).
_LOCAL_MARKERS = tuple((marker, agent) for agent in LOCAL_AGENTS for marker in agent.markers)


def local_agent(text: str, command: str | None) -> Reason | None:
    """The reason a local delivery agent's refusal gives (lower-cased text)."""
    if not text or (command and command != "DATA"):
        return None
    for marker, agent in _LOCAL_MARKERS:
        if marker in text:
            return _first(agent, text) or R.MAILERERROR
    return None
