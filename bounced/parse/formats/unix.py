"""The open-source MTAs: Exim, qmail, Postfix, sendmail (V8 and V5), Courier, OpenSMTPD, DMA.

Their notices are templates in the MTA's source, so the markers below are quoted from it (file
names in the comments). When one of these bounces carries an RFC 3464 part the RFC 3464 reader
reads it and these readers only fill in what the fields leave out.

Hints are limited to the MTA's own error sentences (its retry timeout, its DNS lookup result,
its local delivery failure), never the remote server's reply, which is classification's job.
"""

from __future__ import annotations

import re

from bounced.model import DsnAction, Entry, Reason
from bounced.parse import dsn, notice
from bounced.parse import fields as F
from bounced.parse.entry import make_entry
from bounced.parse.formats.base import Format, Registry, any_header, received_has, words
from bounced.parse.message import Mail
from bounced.parse.notice import Hint, Layout

R = Reason
REGISTRY = Registry()
FORMATS: list[Format] = REGISTRY.formats

_ADDR = F.LOCAL + "@" + F.DOMAIN

# --- Exim -------------------------------------------------------------------------------------
# exim/src/deliver.c: the openings of a bounce and of a delay warning, and the frozen notices.
_EXIM_BEGIN = re.compile(
    r"^(?:This message was created automatically by mail delivery software\.|"
    r"A message that you sent (?:could not be delivered|has not yet been delivered|was rejected|"
    r"contained one or more recipient)|"
    r"A message sent by$|"
    r"Message [\w-]{1,40} (?:has been frozen|was frozen on arrival)|"
    r".{0,80} router encountered the following error\(s\):)",
    re.MULTILINE,
)
# Where the list of recipients ends: the copy of the message (deliver.c), MXLogic's header copy.
_EXIM_END = re.compile(
    r"^-{5,6} This is a copy of the message|^Included is a copy of the message header|"
    r"^-{5,6} The header of the original message is following",
    re.MULTILINE,
)
# deliver.c: the line that introduces the failed addresses (wrapped anywhere by the template).
_EXIM_LISTED = re.compile(
    r"address\(es\)\s+failed:|addresses\s+failed:|has\s+not\s+yet\s+been\s+delivered\s+is:|"
    r"address\s+failed:|delivered\s+to\s+all\s+of\s+its\s+recipients[^\n]{0,80}:"
)
_EXIM_SUBJECT = words(
    "Mail delivery failed",
    "Mail failure",
    "Message frozen",
    "Warning: message ",
    "error(s) in forwarding or filtering",
    "Delivery Status Notification",
)
# Exim's own message id: <E1P1YNN-0003AD-Ga@host>, 6-6-2 base-62 characters.
_EXIM_MESSAGE_ID = re.compile(r"<\w{7}-\w{6}-\w{2}@|<\w{6}-\w{6}-\w{2}@")
# A recipient line: two spaces, then the address (or a pipe, a file, an undisclosed alias).
_EXIM_RECIPIENT = re.compile(
    r"^  (?:<(?P<a>[^<>\s]{1,254})>|(?P<b>[^\s<>:]{1,254}))"
    r"(?: <(?P<alias>[^<>\s]{1,254})>)?:?(?:[ \t]+(?P<rest>.{0,2000}))?$"
)
_EXIM_GENERATED = re.compile(r"\(?generated (?:by|from) <?(?P<addr>" + _ADDR + ")", re.ASCII)
# exim/src: retry.c "retry timeout exceeded", smtp.c "all hosts have been failing ...",
# routers "Unrouteable address", dnslookup.c MX errors, appendfile.c "mailbox is full",
# deliver.c pipe and file failures, parser.c malformed addresses.
_EXIM_HINTS: tuple[Hint, ...] = (
    (re.compile(r"mailbox is full|error: quota exceed"), R.MAILBOXFULL),
    (
        re.compile(
            r"all (?:relevant MX records point to non-existent hosts|host address lookups "
            r"failed permanently)|Unrouteable address|unrouteable mail domain"
        ),
        R.HOSTUNKNOWN,
    ),
    (
        re.compile(
            r"an MX or SRV record indicated no SMTP service|no host found for existing SMTP"
        ),
        R.NOTACCEPT,
    ),
    (re.compile(r"Too many \"Received\" headers"), R.CONTENTERROR),
    (
        re.compile(
            r"retry timeout exceeded|retry time not reached for any host after a long failure|"
            r"all hosts have been failing for a long time|has been frozen|was frozen on arrival"
        ),
        R.EXPIRED,
    ),
    (
        re.compile(r"delivery to (?:file|pipe) forbidden|local delivery failed|^pipe to \|"),
        R.MAILERERROR,
    ),
)


def _is_exim(mail: Mail) -> bool:
    if any_header(mail, ("x-mx-bounce", "x-mxl-hash", "x-mxl-notehash")):
        return True  # McAfee SaaS (formerly MXLogic) runs Exim
    score = ("Mail Delivery System" in mail.sender) + bool(_EXIM_SUBJECT.search(mail.subject))
    score += bool(_EXIM_MESSAGE_ID.search(mail.field("message-id")))
    return score >= 2 or (score >= 1 and mail.has("x-failed-recipients"))


@REGISTRY.reader("exim", _is_exim)
def read_exim(mail: Mail) -> list[Entry]:
    """Exim: each failed address on a line indented by two spaces, its error indented below."""
    text = notice.region(mail.notice, Layout(anchor=_EXIM_RECIPIENT, end=_EXIM_END))
    begin = _EXIM_BEGIN.search(text)
    if begin is None:
        return []
    start = begin.end()
    listed = _EXIM_LISTED.search(text, start, start + 1500)
    if listed is not None:
        start = listed.end()  # skip "A message sent by <sender>" (a bounce to someone else)
    found: list[tuple[str, list[str]]] = []  # (address as written, lines about it)
    for line in text[start:].split("\n"):
        match = _EXIM_RECIPIENT.match(line) if line.startswith("  ") else None
        if match is not None and line[2] != " ":
            written = match.group("a") or match.group("b") or ""
            if "@" in written or written in ("pipe", "save", "an") or not found or _bare(written):
                found.append((written, [line[2:]]))
                continue
        if found and line.strip():
            found[-1][1].append(line.strip())
    return _exim_entries(mail, found)


def _bare(word: str) -> bool:
    """A local part on its own (Exim prints "  kijitora" for an unqualified recipient)."""
    return bool(re.fullmatch(r"[\w.+-]{1,64}", word)) and not word.isdigit()


def _exim_entries(mail: Mail, found: list[tuple[str, list[str]]]) -> list[Entry]:
    failed = mail.failed_recipients
    entries: list[Entry] = []
    seen: set[str] = set()
    for written, lines in found:
        text = "\n".join(lines)
        address = F.clean_address(written)
        generated = _EXIM_GENERATED.search(text)
        if not F.is_address(address):
            if generated is not None:
                address = generated.group("addr")
            else:
                local = address.lower()
                same = [a for a in failed if a.lower().partition("@")[0] == local]
                address = same[0] if same else (failed[0] if len(failed) == 1 else "")
        if not F.is_address(address) or address.lower() in seen:
            continue
        seen.add(address.lower())
        diagnostic = "\n".join(line for line in lines[1:] if not _EXIM_GENERATED.match(line))
        rest = _EXIM_RECIPIENT.match("  " + lines[0])
        if rest is not None and rest.group("rest"):
            diagnostic = rest.group("rest") + "\n" + diagnostic
        entries.append(
            make_entry(
                address,
                diagnostic or text,
                remote_mta=notice.remote_host(text),
                hint=notice.hint_of(text, _EXIM_HINTS),
                action=DsnAction.DELAYED if _exim_delayed(mail) else None,
            )
        )
    return entries


def _exim_delayed(mail: Mail) -> bool:
    """A delay warning (deliver.c: "has not yet been delivered"), not a bounce."""
    return "has not yet been delivered" in mail.notice[:2000]


# --- qmail ------------------------------------------------------------------------------------
# qmail-send.c "Hi. This is the qmail-send program at ...", and the openings of qmail clones
# and patches (qmail-ldap, netqmail derivatives, Spanish and Japanese ISP variants).
_QMAIL_BEGIN = re.compile(
    r"^(?:Hi\. This is the qmail|He/Her is not |"
    r".{0,40}unable to deliver your message to the following addresses|"
    r"Su mensaje no pudo ser entregado|"
    r"Sorry, we were unable to deliver your message to the following address|"
    r"This is the machine generated message from mail service|"
    r"This is the mail delivery agent at|"
    r"Unable to deliver message to the following address|"
    r"Unfortunately, your mail was not delivered to the following address:|"
    r"Your mail message to the following address|"
    r"Your message to the following addresses|"
    r"We're sorry\.)",
    re.MULTILINE,
)
_QMAIL_RECIPIENT = re.compile(r"^<(?P<addr>" + _ADDR + r")>:", re.MULTILINE | re.ASCII)
# qmail-remote.c, qmail-local.c, error_str.c and qmail-ldap: the MTA's own failure sentences.
_QMAIL_HINTS: tuple[Hint, ...] = (
    (re.compile(r"Sorry, I couldn't find any host "), R.HOSTUNKNOWN),
    (re.compile(r"Sorry, I couldn't find a mail exchanger or IP address"), R.NOTACCEPT),
    (
        re.compile(
            r"Sorry, I wasn't able to establish an SMTP connection|"
            r"Sorry\. Although I'm listed as a best-preference MX or A for that host"
        ),
        R.NETWORKERROR,
    ),
    (re.compile(r"Sorry, no mailbox here by that name"), R.USERUNKNOWN),
    (re.compile(r"Mailaddress is administrativ\w{0,4}ly disabled"), R.SUSPEND),
    (re.compile(r"The message exeeded the maximum size the user accepts"), R.EXCEEDLIMIT),
    (
        re.compile(r"Requested action not taken: mailbox unavailable \(not enough free space\)"),
        R.SYSTEMFULL,
    ),
)
# qmail-send.c: it gave up retrying. Only a reason when no remote host answered.
_QMAIL_EXPIRED = re.compile(r"this message has been in the queue too long")
_QMAIL_ANSWERED = re.compile(r"Remote host said:|Connected to |does not like recipient")


def _is_qmail(mail: Mail) -> bool:
    subject = mail.subject.lower()
    return subject == "failure notice" or received_has(mail, "(qmail ")


@REGISTRY.reader("qmail", _is_qmail)
def read_qmail(mail: Mail) -> list[Entry]:
    """qmail: "<address>:" on a line of its own, then the failure in qmail-remote's words."""
    text = mail.notice
    begin = _QMAIL_BEGIN.search(text)
    if begin is None:
        return []
    entries = []
    for seg in notice.segments(text[begin.end() :], _QMAIL_RECIPIENT):
        hint = notice.hint_of(seg.text, _QMAIL_HINTS)
        if (
            hint is None
            and _QMAIL_EXPIRED.search(seg.text)
            and not _QMAIL_ANSWERED.search(seg.text)
        ):
            hint = R.EXPIRED
        entries.append(
            make_entry(seg.address, seg.text, remote_mta=notice.remote_host(seg.text), hint=hint)
        )
    return entries


# --- sendmail V5 ------------------------------------------------------------------------------
# sendmail 5.x savemail.c: "----- Transcript of session follows -----", then transcript lines
# "550 <addr>... User unknown" and "While talking to host:" / ">>> RCPT To:<addr>".
_V5_BEGIN = re.compile(r"^ {0,4}-{5} Transcript of session follows -{5}", re.MULTILINE)
_V5_RECIPIENT = re.compile(
    r"^(?:[245]\d\d[ -]|>>> RCPT To: ?)<(?P<addr>" + _ADDR + r")>",
    re.MULTILINE | re.ASCII | re.IGNORECASE,
)


_V5_TALKING = re.compile(r"^[Ww]hile talking to ([\w.-]{1,255}):")


def _is_v5sendmail(mail: Mail) -> bool:
    return mail.subject.startswith("Returned mail: ") and "Unsent message follows" in mail.body


@REGISTRY.reader("v5sendmail", _is_v5sendmail)
def read_v5sendmail(mail: Mail) -> list[Entry]:
    """Sendmail 5: recipients in the transcript lines that name them.

    The remote host's replies ("<<< ...") come before the line that names the recipient, so
    they are kept until that line and given to it, with the host and command of the session.
    """
    text = mail.notice
    begin = _V5_BEGIN.search(text)
    if begin is None:
        return []
    found: dict[str, list[str]] = {}
    hosts: dict[str, str | None] = {}
    pending: list[str] = []
    host: str | None = None
    last = ""
    for line in text[begin.end() :].split("\n"):
        if not line.strip():
            continue
        talking = _V5_TALKING.match(line)
        if talking is not None:
            host, pending = talking.group(1).rstrip(".").lower(), []
            continue
        match = _V5_RECIPIENT.match(line)
        key = match.group("addr").lower() if match else ""
        if match is None or key == last:
            # A line that names the current recipient again belongs to it; any other line
            # (a reply, the next host's lines) waits for the recipient it comes before.
            (found[last] if last and last in line.lower() else pending).append(line)
            continue
        found.setdefault(key, []).extend([*pending, line])
        hosts.setdefault(key, host)
        pending, last = [], key
    if not found:
        return [make_entry(address, "\n".join(pending)) for address in mail.original_recipients[:1]]
    return [
        make_entry(key, "\n".join(lines), remote_mta=hosts[key]) for key, lines in found.items()
    ]


# --- DragonFly Mail Agent ---------------------------------------------------------------------
# dma/mail.c "This is the DragonFly Mail Agent ..." and "There was an error delivering your
# mail to <addr>."; net.c "%s [%s] did not like our %s:"; dma.c gives up after MAX_TIMEOUT.
_DMA_LAYOUT = Layout(
    begin=re.compile(r"^This is the DragonFly Mail Agent ", re.MULTILINE),
    end=re.compile(r"^(?:Original message follows|Message headers follow)", re.MULTILINE),
    anchor=re.compile(
        r"^There was an error delivering your mail to <(?P<addr>" + _ADDR + r")>",
        re.MULTILINE | re.ASCII,
    ),
    hints=(
        (re.compile(r"Could not deliver for the last \d+ seconds"), R.EXPIRED),
        (re.compile(r"DNS lookup failure: host .{1,255} not found"), R.HOSTUNKNOWN),
    ),
)
REGISTRY.layout(
    "dragonfly",
    lambda mail: (
        received_has(mail, "(DragonFly Mail Agent")
        or "This is the DragonFly Mail Agent" in mail.notice[:500]
    ),
    _DMA_LAYOUT,
)

# --- OpenSMTPD --------------------------------------------------------------------------------
# smtpd/bounce.c NOTICE_INTRO and the recipient lines "addr: error"; queue.c "Envelope
# expired"; mta.c relay failures.
_OPENSMTPD_LAYOUT = Layout(
    begin=re.compile(r"^ {0,4}This is the MAILER-DAEMON, please DO NOT REPLY", re.MULTILINE),
    end=re.compile(r"^ {0,4}Below is a copy of the original message", re.MULTILINE),
    anchor=re.compile(r"^(?P<addr>" + _ADDR + r"): ", re.MULTILINE | re.ASCII),
    hints=(
        (re.compile(r"Envelope expired"), R.EXPIRED),
        (re.compile(r"Invalid domain name|Domain does not exist"), R.HOSTUNKNOWN),
        (
            re.compile(
                r"Destination seem to reject all mails|No MX found for (?:domain|destination)"
            ),
            R.NOTACCEPT,
        ),
        (re.compile(r"Could not retrieve credentials"), R.SECURITYERROR),
        (
            re.compile(
                r"Address family mismatch on destination MXs|All routes to destination blocked|"
                r"bad DNS lookup error code|Could not retrieve source address|Loop detected|"
                r"Network error on destination MXs|No valid route to (?:remote MX|destination)|"
                r"Temporary failure in MX lookup"
            ),
            R.NETWORKERROR,
        ),
    ),
)
REGISTRY.layout(
    "opensmtpd",
    lambda mail: (
        received_has(mail, " (OpenSMTPD) with ")
        or "This is the MAILER-DAEMON, please DO NOT REPLY" in mail.notice[:1000]
    ),
    _OPENSMTPD_LAYOUT,
)

# --- Smail 3 and Deutsche Telekom's fork of it ---------------------------------------------
# smail-3/src/notify.c: "|----- Failed addresses follow: -----|", then " addr ... failed: why"
# (Smail) or " <addr>" with the reply on the next line (T-Online), then "|----- Message header
# follows: -----|". The "Message log" above says why, for every address.
REGISTRY.layout(
    "smail",
    lambda mail: "Failed addresses follow:" in mail.notice,
    Layout(
        begin=re.compile(r"^\|-{5,} Failed addresses follow: -{5,}\|", re.MULTILINE),
        end=re.compile(r"^\|-{5,} Message (?:header|text|body) follows", re.MULTILINE),
        anchor=re.compile(
            r"^ {1,4}(?:<(?P<addr>" + _ADDR + r")>[ \t]*$|(?P<addr2>" + _ADDR + r") \.\.\. )",
            re.MULTILINE | re.ASCII,
        ),
    ),
)

# --- Courier ----------------------------------------------------------------------------------
# courier/module.dsn/dsn*.txt "UNDELIVERABLE MAIL", "DELAYS IN DELIVERING YOUR MESSAGE"; the
# recipient lines "<addr>:" then ">>> RCPT TO" / "<<< reply"; esmtpclient.c DNS failures.
_COURIER_LAYOUT = Layout(
    begin=re.compile(r"UNDELIVERABLE MAIL|DELAYS IN DELIVERING YOUR MESSAGE"),
    end=re.compile(r"^-{20,}$", re.MULTILINE),
    anchor=re.compile(r"^<(?P<addr>" + _ADDR + r")>:", re.MULTILINE | re.ASCII),
    hints=(
        (re.compile(r"No such domain\."), R.HOSTUNKNOWN),
        (re.compile(r"This domain's DNS violates RFC 1035\."), R.SYSTEMERROR),
        (re.compile(r"DNS lookup failed\."), R.NETWORKERROR),
    ),
)
REGISTRY.layout(
    "courier",
    lambda mail: (
        "Courier mail server at " in mail.sender
        or mail.field("message-id").startswith("<courier.")
        or mail.subject.startswith(("NOTICE: mail delivery status.", "WARNING: delayed mail."))
    ),
    _COURIER_LAYOUT,
)

# --- Postfix ----------------------------------------------------------------------------------
# postfix/src/bounce/bounce_notify_util.c and the bounce(5) templates: "The mail system", then
# "<addr>: host mx[ip] said: ... (in reply to RCPT TO command)", continuation lines indented.
_POSTFIX_LAYOUT = Layout(
    begin=re.compile(
        r"^ {0,20}The (?:Postfix |mail system|\w{1,40} program)|"
        r"^This is the (?:Postfix|mail system)",
        re.MULTILINE,
    ),
    anchor=re.compile(
        r"^<(?P<addr>" + _ADDR + r")>(?: \(expanded from <[^>\n]{1,254}>\))?:",
        re.MULTILINE | re.ASCII,
    ),
    hints=dsn.POSTFIX_HINTS,  # local(8)'s and the resolver's own words, as in X-Postfix fields
)
REGISTRY.layout(
    "postfix",
    lambda mail: (
        mail.subject == "Undelivered Mail Returned to Sender"
        or mail.subject.startswith("Delayed Mail (still being retried)")
    ),
    _POSTFIX_LAYOUT,
)
