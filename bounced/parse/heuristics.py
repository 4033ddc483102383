"""The last resort: read a plain-text bounce of a format no reader knows.

How it works: a message is taken for a bounce only if it says so (a delivery-system sender, a
bounce subject, or a null Return-Path with bounce wording). When the bounce names its failed
recipients in an X-Failed-Recipients header, those are the recipients and the notice only
supplies their diagnostics. Otherwise the notice, the text before the returned message, is
searched for recipients in tiers, most specific first:

1. an address that opens a line (after indentation, a bullet, a number, ``>>>`` or ``<``);
2. an address after a word that introduces a recipient ("Recipient address:", "RCPT TO:",
   "delivering your mail to", "undeliverable to", ...);
3. an address in angle brackets;
4. any address.

The first tier that finds one wins, so that a "contact postmaster@..." further down never
outranks a real recipient line. Each recipient's diagnostic is the text that follows it up to
the next recipient (see `notice.segments`). Addresses of the report's own sender and receiver
and of the returned message's sender are never recipients; nor, below the first tier, are
role addresses such as postmaster@.
"""

from __future__ import annotations

import re

from bounced.model import DsnAction, Entry
from bounced.parse import fields as F
from bounced.parse import notice
from bounced.parse.entry import make_entry
from bounced.parse.message import Mail
from bounced.parse.phrases import trie

# Who sends bounces (From: display names and local parts).
DAEMON_SENDER = re.compile(
    r"mailer[-_ ]?daemon|postmaster|post_master|mail[-_ ]?daemon|"
    r"mail delivery (?:subsystem|system)|mail deliver system|"
    r"mail administrator|delivery (?:status )?notification|internet mail delivery|"
    r"(?:mail|message) ?router|mdaemon|smtp ?gateway|\bbounces?@|\bnobody@|"
    r"system administrator|mail ?system|microsoftexchange|returned mail|"
    r"mail\.delivery\.system|mailmaster|\bmta\b",
    re.IGNORECASE,
)
# Bounce subjects and wording are searched for in lower-cased text, as one trie of lower-case
# phrases (bounced/parse/phrases.py) that each open with a literal: the regex engine then skips to
# where a phrase's first letter stands, where IGNORECASE alternations try every alternative at
# every position (milliseconds on a long notice that is no bounce).
#
# Subjects of bounces across MTAs and locales (en, de, fr, es, it, nl, pl, pt, ru, ja, zh, ko,
# the Nordic languages, fi, hu, cs, tr).
_SUBJECT_PHRASES = (
    r"undeliver|not (?:be |been )?delivered|non[- ]?deliver|returned (?:mail|to sender)|"
    r"return(?:ed|ing)? (?:message|to sender)|delivery (?:status|failure|failed|problem|report|"
    r"notification|error|has failed)|failure notice|failed delivery|mail (?:delivery )?failed|"
    r"delivery to the following|could not (?:send|deliver|be delivered)|mail (?:system )?error|"
    r"message (?:status|not delivered|delivery|blocked|rejected)|delivery incomplete|"
    r"warning: (?:could not|message)|rejected|bounced?\b|blocked by|unable to deliver|"
    r"permanent (?:error|delivery failure)|mail failure|nondeliverable|failure delivery|"
    r"delevery|unzustellbar|nicht zugestellt|non[- ]remis|non distribu|no entregado|"
    r"no se (?:pudo|puede) entregar|non recapitabile|onbestelbaar|niet afgeleverd|"
    r"nie dostarczono|n[ãa]o (?:foi )?entregue|недоставлен|не доставлен|"
    r"kunde inte levereras|kunne ikke leveres|ei voitu toimittaa|nem kézbesíthető|"
    r"nelze doručit|teslim edilemedi|mancato recapito|impossibile recapitare|"
    r"échec de (?:la )?(?:remise|distribution)|zustellung fehlgeschlagen|"
    r"entrega fallida|falha na entrega|bezorging mislukt|ошибка доставки|"
    r"配信|エラー|未達|不達|退信|退回|無法傳遞|无法投递|投递失败|发送失败|"
    r"발송 ?실패|전송 ?실패|배달 ?실패|반송"
)
BOUNCE_SUBJECT = re.compile(trie([_SUBJECT_PHRASES]))
# Wording of a bounce body (matched on the whitespace-collapsed start of the notice), for
# messages that are bounces by their sender but not by their subject, or the other way round.
_WORDING_PHRASES = (
    r"could not be (?:delivered|sent)|was not delivered|not been delivered|"
    r"undeliverable|delivery (?:has )?failed|delivery to the following|did not reach|"
    r"permanent(?:ly)? (?:error|fatal)|following (?:address(?:es)?|recipients?)|"
    r"failed (?:addresses|recipients?)|no valid recipients|user unknown|unknown user|"
    r"no such (?:user|mailbox|address)|mailbox (?:is )?full|message (?:was )?rejected|"
    r"non-?deliverable|failed to (?:send|deliver)|unable to deliver|was blocked by|"
    r"couldn't be delivered|wasn't delivered|returning message to sender|"
    # the same in other locales (it, fr, de, es, pt, nl, pl, ru, the Nordic languages)
    r"non è stato (?:possibile )?recapitat|non è (?:stato )?possibile (?:recapitare|consegnare)|"
    r"impossibile recapitare|n'a pas pu être (?:remis|distribué|délivré|envoyé)|"
    r"ne (?:peut|pouvait) pas être (?:remis|distribué)|impossible de (?:remettre|distribuer)|"
    r"konnte nicht zugestellt werden|kann nicht zugestellt werden|nicht übermittelt werden|"
    r"unzustellbar|"
    r"no se (?:pudo|puede|ha podido) entregar|no (?:pudo|ha podido) ser entregad|"
    r"não (?:foi possível|pôde ser|pode ser) entreg|não foi entregue|"
    r"kon niet (?:worden )?(?:bezorgd|afgeleverd)|onbestelbaar|"
    r"nie (?:można|udało się) dostarczyć|nie został[ao]? dostarczon|"
    r"не (?:может быть|могло быть|было|удалось) доставлен|не удалось доставить|"
    r"kunde inte levereras|kunne ikke (?:leveres|afleveres)|"
    # the same in other locales (ja, zh, ko)
    r"配信(?:でき|に失敗)|送信できませんでした|届きませんでした|"
    r"投递失败|发送失败|无法(?:投递|送达)|未能(?:送达|成功发送)|没能成功发送|"
    r"발송(?:이|에) 실패|전송(?:이|에) 실패|배달(?:되지|할 수 없)|전달되지 않"
)
BOUNCE_WORDING = re.compile(trie([_WORDING_PHRASES]))

_MACHINE_TRACE = re.compile(
    r"\b[245]\d\d[ -][^\n]{0,20}\b[245]\.\d{1,3}\.\d{1,3}\b|\b[45]\d\d [^\n]{0,80}(?:user|mailbox|"
    r"recipient|address|host)|mailer-daemon|postmaster|final-recipient|diagnostic-code",
    re.IGNORECASE,
)
_A = r"<?(?P<addr>" + F.LOCAL + "@" + F.DOMAIN + r")>?"
_BOUNDARY = r"(?<![\w.!#$%&'*+/=?^`{|}~-])"
# Tiers of recipient anchors, most specific first (see the module docstring).
_TIERS = (
    re.compile(
        r"^[ \t]{0,12}(?:[*>•・-]{1,3}[ \t]{0,4}|\d{1,3}[.)][ \t]{1,4}|"
        r"(?:[245]\d\d[ -])?)"
        + _BOUNDARY
        + _A
        + r"(?=[ \t]*(?::|\.\.\.|[ \t]on[ \t]|[ \t]-|[ \t][(\[<]|[ \t]{2,}|,|;|$))",
        re.MULTILINE | re.ASCII,
    ),
    re.compile(
        r"\b(?:recipient(?:\(s\)|s)?|rcpt to|(?:e-?mail )?address(?:es)?|adresse|"
        r"destinatario|empf[äa]nger|mailbox|(?:delivering|deliver|delivery)(?: your)?"
        r"(?: (?:mail|message|e-?mail))? to|undeliverable to|failed(?: recipient)?|"
        r"not be delivered to|could not be delivered to|delivery to)[ \t]{0,4}:?[ \t]{0,4}"
        + _BOUNDARY
        + _A,
        re.IGNORECASE | re.ASCII,
    ),
    re.compile(r"<(?P<addr>" + F.LOCAL + "@" + F.DOMAIN + ")>", re.ASCII),
    re.compile(_BOUNDARY + r"(?P<addr>" + F.LOCAL + "@" + F.DOMAIN + ")", re.ASCII),
)
_ROLE = re.compile(
    r"^(?:mailer-daemon|postmaster|abuse|noreply|no-reply|root|hostmaster|webmaster|"
    r"administrator|admin|support|help|security|info)@",
    re.IGNORECASE,
)


def is_automated(mail: Mail) -> bool:
    """True when the message comes from a machine: a delivery-system sender, a null
    Return-Path, Auto-Submitted, X-Failed-Recipients or a report content type."""
    return bool(
        DAEMON_SENDER.search(mail.sender)
        or mail.field("return-path").strip() == "<>"
        or mail.sender_address == ""
        or mail.has("x-failed-recipients")
        or mail.field("auto-submitted").lower().startswith("auto-")
        or mail.content_type == "multipart/report"
    )


def looks_like_bounce(mail: Mail) -> bool:
    """True for a machine's message that says it is a bounce (subject or wording), or for
    any message whose subject and wording both say so (a bounce forwarded by a person)."""
    subject = BOUNCE_SUBJECT.search(mail.subject.lower()) is not None
    if subject and is_automated(mail):
        return True
    text = F.collapse(mail.notice[:6000])
    if BOUNCE_WORDING.search(text.lower()) is None:
        return False
    if is_automated(mail):
        return True
    # A person's message (a bounce forwarded by hand) also needs a machine's trace: a reply
    # or status code, or a delivery system's name.
    return subject and _MACHINE_TRACE.search(text) is not None


def excluded_addresses(mail: Mail) -> set[str]:
    """Addresses that are never the failed recipient: the report's parties, the sender's."""
    out = {a.lower() for a in F.find_addresses(mail.sender)}
    for name in ("to", "delivered-to", "envelope-to"):
        for value in mail.field_all(name):
            out.update(a.lower() for a in F.find_addresses(value))
    original = mail.original
    for name in ("from", "return-path", "sender", "reply-to"):
        for value in original.get_all(name):
            out.update(a.lower() for a in F.find_addresses(value))
    return out


def find_recipients(text: str, excluded: set[str]) -> list[notice.Segment]:
    """Recipients a notice names, with their text, from the most specific tier that has any."""
    for level, tier in enumerate(_TIERS):
        found = [
            seg
            for seg in notice.segments(text, tier, keep_prefix=level == 1)
            if seg.address.lower() not in excluded
            and (level == 0 or not _ROLE.match(seg.address))
            and (level == 0 or "." in seg.address.rpartition("@")[2])
        ]
        if found:
            return found
    return []


def known_recipients(text: str, addresses: list[str]) -> list[notice.Segment]:
    """Segments of a notice for recipients known beforehand (X-Failed-Recipients).

    Each address's text runs from its first mention to the first mention of the next one.
    """
    lowered = text.lower()
    found = sorted(
        (at, address) for address in addresses if (at := lowered.find(address.lower())) >= 0
    )
    texts: dict[str, str] = {}
    for index, (at, address) in enumerate(found):
        stop = found[index + 1][0] if index + 1 < len(found) else len(text)
        if index + 1 < len(found):
            stop = max(at, text.rfind("\n", 0, stop))
        texts[address.lower()] = text[at + len(address) : stop].lstrip(" \t:>.;,-")
    return [notice.Segment(address=a, text=texts.get(a.lower(), "")) for a in addresses]


def read_notice(mail: Mail, text: str | None = None) -> list[Entry]:
    """Entries for the recipients a plain-text notice names."""
    text = mail.notice if text is None else text
    failed = mail.failed_recipients
    found = known_recipients(text, failed) if failed else []
    if not found:
        found = find_recipients(text, excluded_addresses(mail))
    return [
        make_entry(seg.address, seg.text, remote_mta=notice.remote_host(seg.text)) for seg in found
    ]


def fallback_recipients(mail: Mail) -> list[Entry]:
    """For a bounce that names no recipient in its text: the returned message's addressee.

    Used only for a machine's bounce whose notice gives no address; the whole notice is then
    the diagnostic.
    """
    if not is_automated(mail):
        return []
    recipients = mail.failed_recipients or mail.original_recipients
    if not recipients or (len(recipients) > 1 and not mail.failed_recipients):
        return []
    text = notice.essential(mail.notice)
    return [make_entry(address, text) for address in recipients]


# What flufl.bounce is given at most: real bounces are far smaller, and its time grows with
# the square of the line count.
_LIBRARY_MAX_BYTES = 256_000
_LIBRARY_MAX_LINES = 3_000


def library_recipients(mail: Mail) -> list[Entry]:
    """flufl.bounce's reading of a machine's bounce that no reader here understood.

    Its pattern tables cover long-gone MTAs and ISPs; it is slow (it parses with the standard
    library), so it runs only when everything else found nothing. Its addresses get the
    notice's paragraph about them as their diagnostic.
    """
    source = mail.source
    if not is_automated(mail) or len(source) > _LIBRARY_MAX_BYTES:
        return []
    if source.count("\n") > _LIBRARY_MAX_LINES:
        return []  # its detectors walk the lines once per part and line: quadratic time
    # Imported here: flufl.bounce, the standard library's email package and logging cost
    # ~25 ms at startup, and most runs never need them.
    import email  # noqa: PLC0415
    import logging  # noqa: PLC0415

    from flufl.bounce import all_failures  # noqa: PLC0415

    # flufl.bounce logs its detectors' failures; they are handled here, not printed.
    log = logging.getLogger("flufl.bounce")
    if log.propagate:
        log.addHandler(logging.NullHandler())
        log.propagate = False

    try:
        message = email.message_from_string(source)
        temporary, permanent = all_failures(message)
    except Exception:  # noqa: BLE001 - a failure of the third-party reader means "nothing found"
        return []
    excluded = excluded_addresses(mail)
    entries = []
    for found, action in ((permanent, DsnAction.FAILED), (temporary, DsnAction.DELAYED)):
        for raw in sorted(found):
            address = raw.decode("ascii", "replace") if isinstance(raw, bytes) else str(raw)
            if not F.is_address(address) or address.lower() in excluded or _ROLE.match(address):
                continue
            text = notice.paragraph(mail.notice, address) or notice.essential(mail.notice)
            entries.append(make_entry(address, text, action=action))
    return entries
