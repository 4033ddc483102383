"""Mail servers and gateways of commercial vendors, and anonymous MTAs known by their notices.

HCL Domino and Notes, Ipswitch IMail, MailFoundry, Trustwave MailMarshal, Trend Micro
InterScan, QUALITIA Active!hunter, Apache James, Sun/Oracle Messaging Server, and the MTAs the
bounce-parsing community knows only as X1, X2, X3 and X6. Most are recognised by a header or a
subject of their own; the anonymous ones by the exact wording of their notice.
"""

from __future__ import annotations

import re

from bounced.model import Entry, Reason
from bounced.parse import fields as F
from bounced.parse import notice
from bounced.parse.entry import make_entry
from bounced.parse.formats.base import Format, Registry, received_has
from bounced.parse.formats.providers import details_entries
from bounced.parse.message import Mail
from bounced.parse.notice import Layout

R = Reason
REGISTRY = Registry()
FORMATS: list[Format] = REGISTRY.formats
_ADDR = F.LOCAL + "@" + F.DOMAIN

# --- HCL Domino -------------------------------------------------------------------------------
# "Your message ... was not delivered to: <addr> because: <reason>"; the reason is Domino's own
# directory lookup in the server's language (en, es, fr, ja), or its router's hop limit.
_DOMINO_BECAUSE = re.compile(r"^because:[ \t]*$", re.MULTILINE)
_DOMINO_HINTS = (
    (
        re.compile(
            r"not listed in (?:Domino Directory|public Name & Address Book)|"
            r"no se encuentra en el Directorio de Domino|non r.{1,2}pertori.{1,2} dans l'annuaire "
            r"Domino|Domino ディレクトリには見つかりません"
        ),
        R.USERUNKNOWN,
    ),
    (re.compile(r"Maximum hop count exceeded"), R.NETWORKERROR),
)


def _is_domino(mail: Mail) -> bool:
    return mail.subject.startswith("DELIVERY FAILURE:") or "DELIVERY_FAILURE" in mail.subject


@REGISTRY.reader("domino", _is_domino)
def read_domino(mail: Mail) -> list[Entry]:
    """Domino: addresses after "was not delivered to:", the reason after "because:"."""
    text = mail.notice
    at = text.find("was not delivered to:")
    if at < 0:
        return []
    because = _DOMINO_BECAUSE.search(text, at)
    listing = text[at : because.start() if because else len(text)]
    reason = text[because.end() :].strip().split("\n\n")[0] if because else ""
    return [
        make_entry(address, reason, hint=notice.hint_of(reason, _DOMINO_HINTS))
        for address in F.find_addresses(listing)
    ]


# --- HCL Notes --------------------------------------------------------------------------------
# "------- Failure Reasons --------", the reason, then the address; "------- Returned Message".
_NOTES_HINTS = (
    (
        re.compile(
            r"User not listed in public Name & Address Book|ディレクトリのリストにありません"
        ),
        R.USERUNKNOWN,
    ),
    (re.compile(r"Message has exceeded maximum hop count"), R.NETWORKERROR),
)
_NOTES_ADDRESS = re.compile(r"^(?P<addr>" + _ADDR + r")[ \t]*$", re.MULTILINE | re.ASCII)


@REGISTRY.reader("notes", lambda mail: mail.subject.startswith("Undeliverable message"))
def read_notes(mail: Mail) -> list[Entry]:
    """Notes: each reason line comes before the address it concerns."""
    text = mail.notice
    at = text.find("------- Failure Reasons")
    if at < 0:
        return []
    text = text[text.find("\n", at) + 1 :]
    end = text.find("------- Returned Message")
    text = text if end < 0 else text[:end]
    entries = []
    start = 0
    for match in _NOTES_ADDRESS.finditer(text):
        reason = text[start : match.start()]
        start = match.end()
        entries.append(
            make_entry(match.group("addr"), reason, hint=notice.hint_of(reason, _NOTES_HINTS))
        )
    if not entries:
        entries = [make_entry(a, text) for a in mail.original_recipients[:1]]
    return entries


# --- Ipswitch IMail ---------------------------------------------------------------------------
# IMail (X-Mailer: <SMTP32 vN>): "<reason>: <addr>" or "undeliverable to <addr>", and the remote
# reply after "Body of message generated response:". The reasons are IMail's own.
_IMAIL_RECIPIENT = re.compile(
    r"^(?:[A-Z][^:@\n]{3,80}: |undeliverable to )(?P<addr>" + _ADDR + r")", re.M | re.A
)
_IMAIL_RESPONSE = re.compile(r"Body of message generated response:")
_IMAIL_HINTS = (
    (re.compile(r"^Unknown host"), R.HOSTUNKNOWN),
    (re.compile(r"^(?:Unknown user|Invalid final delivery userid)"), R.USERUNKNOWN),
    (re.compile(r"^User mailbox exceeds allowed size"), R.MAILBOXFULL),
    (re.compile(r"^Delivery failed \d+ attempts"), R.EXPIRED),
)


def _is_imail(mail: Mail) -> bool:
    return mail.subject.startswith("Undeliverable Mail") and (
        mail.field("x-mailer").startswith("<SMTP32 v") or "Original message follows." in mail.body
    )


@REGISTRY.reader("imail", _is_imail)
def read_imail(mail: Mail) -> list[Entry]:
    """IMail: one line per recipient; the remote response, if quoted, goes to all of them."""
    text = notice.unfold(mail.notice)
    said = _IMAIL_RESPONSE.search(text)
    response = text[said.end() :].strip() if said else ""
    entries = []
    for match in _IMAIL_RECIPIENT.finditer(text):
        line_end = text.find("\n", match.end())
        line = text[match.start() : len(text) if line_end < 0 else line_end]
        entries.append(
            make_entry(
                match.group("addr"),
                response + "\n" + line if response else line,
                hint=notice.hint_of(line, _IMAIL_HINTS),
            )
        )
    return entries


# --- MailFoundry ------------------------------------------------------------------------------
# "Unable to deliver message to: <addr>" then "Delivery failed for the following reason:".
REGISTRY.layout(
    "mailfoundry",
    lambda mail: (
        mail.subject == "Message delivery has failed" and received_has(mail, "(MAILFOUNDRY) id")
    ),
    Layout(
        anchor=re.compile(r"^Unable to deliver message to: <(?P<addr>" + _ADDR + ")>", re.M | re.A),
    ),
)

# --- Trustwave MailMarshal --------------------------------------------------------------------
# "Could not be delivered because of" <reason> "The following recipients were affected:" and
# the addresses indented below.
_MARSHAL_AFFECTED = re.compile(r"^The following recipients were affected:", re.MULTILINE)


@REGISTRY.reader("mailmarshal", lambda mail: mail.subject.startswith('Undeliverable Mail: "'))
def read_mailmarshal(mail: Mail) -> list[Entry]:
    """MailMarshal: one reason for every affected recipient."""
    text = mail.notice
    at = text.find("Could not be delivered because of")
    affected = _MARSHAL_AFFECTED.search(text)
    if affected is None:
        return []
    reason = text[at + 33 : affected.start()] if 0 <= at < affected.start() else ""
    listing = text[affected.end() :].split("\n\n\n")[0]
    return [make_entry(address, reason) for address in F.find_addresses(listing)]


# --- Trend Micro InterScan --------------------------------------------------------------------
# InterScan Messaging Security Suite: "Unable to deliver message to <addr>" or the transcript
# "Sent <<< RCPT TO:<addr>" / "Received >>> 550 ...".
_INTERSCAN_LAYOUT = Layout(
    anchor=re.compile(
        r"(?:Unable to deliver message to |<<< RCPT TO:)<(?P<addr>" + _ADDR + ")>", re.A | re.I
    ),
    hints=((re.compile(r"Please check if address is correct"), R.USERUNKNOWN),),
)
REGISTRY.layout(
    "interscan",
    lambda mail: (
        mail.sender.startswith('"InterScan')
        or "InterScan" in mail.sender
        or "InterScan" in mail.field("content-type")
        or " InterScan " in mail.notice
    ),
    _INTERSCAN_LAYOUT,
)

# --- Websense SurfControl --------------------------------------------------------------------
# "Your message could not be sent." then "Addressed To: <addr>" and, per attempt,
# "<addr>: [ip], <reply>"; X-SEF-Processed and its X-Mailer are its own.
REGISTRY.layout(
    "surfcontrol",
    lambda mail: (
        mail.has("x-sef-processed")
        or mail.field("x-mailer").startswith("SurfControl")
        or mail.notice.startswith("Your message could not be sent.")
    ),
    Layout(
        begin=re.compile(r"^Your message could not be sent\.", re.MULTILINE),
        anchor=re.compile(r"^Addressed To: (?P<addr>" + _ADDR + ")", re.MULTILINE | re.ASCII),
    ),
)

# --- QUALITIA Active!hunter -------------------------------------------------------------------
# Sendmail-like text with ">>> addr <addr>" lines; the X-AHMAILID header is its own.
REGISTRY.layout(
    "activehunter",
    lambda mail: mail.has("x-ahmailid"),
    Layout(
        begin=re.compile(r"^ {0,4}-{5} The following addresses had permanent fatal errors", re.M),
        anchor=re.compile(r"^>>> (?P<addr>" + _ADDR + ")", re.MULTILINE | re.ASCII),
    ),
)

# --- Apache James -----------------------------------------------------------------------------
# mailets/AbstractNotify.java: "Error message below:" then "Message details:" with RCPT TO.
REGISTRY.reader(
    "apachejames",
    lambda mail: (
        mail.subject == "[BOUNCE]"
        or ".JavaMail." in mail.field("message-id")
        or received_has(mail, "JAMES SMTP Server")
    ),
)(lambda mail: details_entries(mail, fallback=False))

# --- Sun / Oracle Communications Messaging Server ---------------------------------------------
# "Your message cannot be delivered to the following recipients:" then "Recipient address:",
# "Reason:", "Diagnostic code:", "Remote system:" lines per recipient.
REGISTRY.layout(
    "messagingserver",
    lambda mail: (
        "Recipient address: " in mail.notice
        and "cannot be delivered to the following recipients" in mail.notice
    ),
    Layout(
        anchor=re.compile(r"^[ \t]{0,8}Recipient address: (?P<addr>" + _ADDR + ")", re.M | re.A),
    ),
)

# --- Anonymous MTAs ---------------------------------------------------------------------------
# X1: "---The following addresses had delivery errors---" then "addr [reason]".
REGISTRY.layout(
    "x1",
    lambda mail: "---The following addresses had delivery errors---" in mail.notice,
    Layout(
        begin=re.compile(r"^-{3}The following addresses had delivery errors-{3}", re.M),
        end=re.compile(r"^-{5}\S|\n\n\n", re.MULTILINE),
        anchor=re.compile(r"^(?P<addr>" + _ADDR + r")(?= \[)", re.MULTILINE | re.ASCII),
    ),
)
# X2: "Unable to deliver message to the following address(es)." then "<addr>:" blocks, or
# "Delivery failed: addr" with "Remote host said[...]" and "STEP:" lines.
REGISTRY.layout(
    "x2",
    lambda mail: (
        "Unable to deliver message to the following address" in mail.notice
        or "Your delivery to the following address has been failed" in mail.notice
    ),
    Layout(
        anchor=re.compile(
            r"^(?:<(?P<addr>" + _ADDR + r")>:|Delivery failed: (?P<addr2>" + _ADDR + "))",
            re.MULTILINE | re.ASCII,
        ),
    ),
)
# X3: "This is an automatically generated Delivery Status Notification." then "  * addr" and a
# "Technical details:" section with "SMTP:RCPT host ...: <reply>".
REGISTRY.layout(
    "x3",
    lambda mail: (
        mail.subject.startswith("Delivery status notification")
        and "automatically generated Delivery Status Notification" in mail.notice
    ),
    Layout(
        anchor=re.compile(r"^ {1,8}\* (?P<addr>" + _ADDR + ")", re.MULTILINE | re.ASCII),
    ),
)
# X6: "We had trouble delivering your message. Full details follow:" then "SMTP Server <host>
# rejected recipient <addr> (Error following RCPT command). It responded as follows: [...]".
REGISTRY.layout(
    "x6",
    lambda mail: mail.subject.startswith("There was an error sending your mail"),
    Layout(
        anchor=re.compile(
            r"(?:rejected recipient <|returned permanent errors: )(?P<addr>" + _ADDR + ")", re.A
        ),
    ),
)
