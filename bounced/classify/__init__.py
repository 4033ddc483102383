"""Entry -> Verdict: reason, category, default action, hard flag, status and provider.

Theory of operation, for one recipient (the order of the reference parser, Sisimai 5, whose
reason vocabulary and decisions the results are meant to compare with):
1. A feedback report is a complaint; nothing else is looked at.
2. The reply text is normalised (multi-line replies joined, the repeated reply code and
   enhanced code dropped) and its codes are read: the enhanced status code of the report and the
   one in the text are weighed (`status.prefer`), the reply code is found.
3. A reason the report states (the reader's hint) is final unless it is only a first guess
   (`decide.RETRY`).
4. A local delivery agent's refusal is read with its own table (`mta.local_agent`).
5. When the receiving system has its own documented replies (`rhost`), its table decides.
6. The generic decision (`decide.generic`): status codes, phrase tables and SMTP command.
7. The category and default action come from the reason (`categories`), unless a provider reply
   rule (`replies`) says the reply is a rate limit or a reputation block: those are the sender's
   problem whatever reason the reply text suggests. A `filtered` reply whose only phrases say
   the user is unknown is about the address, maybe for a while (the soft category), not the
   sender.
8. A recipient without any status code gets the reference parser's internal code for its
   reason (X.9.NNN), with the class digit the reply says (4 temporary, 5 permanent).
"""

from __future__ import annotations

import re

from bounced.classify import categories, decide, mta, patterns, providers, replies, rhost, status
from bounced.model import Action, Category, DsnAction, Entry, Kind, Reason, Report, Verdict
from bounced.parse.fields import collapse

__all__ = ["classify", "verdicts"]

R = Reason
_SMTP_TYPES = frozenset({None, "", "smtp", "x-postfix", "esmtp"})
_UNIX_TYPES = frozenset({"x-unix", "unix"})
_FAILING = frozenset({DsnAction.FAILED, DsnAction.DELAYED})
_UNKNOWN_USER_ONLY = frozenset({R.USERUNKNOWN})
# "550-5.7.1 ...": a multi-line reply. The hyphen comes first and the code is checked behind
# it, so that the search skips from hyphen to hyphen instead of trying every position.
_CONTINUED = re.compile(r"-(?<=(?<![0-9.])[245][0-9][0-9]-)")


def classify(entry: Entry, report: Report) -> Verdict:
    """Classify one entry of a report."""
    provider = providers.provider_of(entry.recipient, entry.remote_mta)
    if report.kind is Kind.FEEDBACK:
        category, action, _ = categories.TABLE[R.FEEDBACK]
        return Verdict(
            reason=R.FEEDBACK,
            category=category,
            action=action,
            hard=False,
            status=None,
            reply_code=None,
            provider=provider,
        )
    text = normalise(entry.diagnostic)
    lowered = text.lower()
    in_text = status.find_status(text)
    reply_in_text = None
    if not entry.reply_code or (entry.status and in_text and entry.status[0] != in_text[0]):
        # Read only when it can matter (most reports give the reply code): in place of the
        # report's, or to settle a disagreement between the two status codes (`status.prefer`).
        reply_in_text = status.find_reply(text, in_text[0] if in_text else "")
    reply = entry.reply_code or reply_in_text
    code = status.prefer(entry.status, in_text, str(reply_in_text or ""))
    if code and code[0] == "2" and (reply or 0) >= 400 and entry.action in _FAILING:
        # A failure whose status says success (a broken MTA's "Status: 2.0.0" beside a 550
        # reply): the reply and the action are right, the status is not.
        code = in_text if in_text and in_text[0] == str(reply)[0] else None
    reason = _reason(entry, report, text, lowered, code=code, reply=reply)
    evidence = f"{code or ''} {text}" if (code or text) else ""
    hard = status.is_hard(reason, evidence)
    category, action = categories.of(reason, hard)
    if reason is R.FILTERED and patterns.reasons_in(lowered) == _UNKNOWN_USER_ONLY:
        # The reference parser's "filtered": a reply that only says the user is unknown, after
        # DATA or with no command to tell. Japanese carriers give the same "User unknown"
        # after DATA to a sender the recipient's reception filter refuses, so the address may
        # exist; it is not the sender's reputation either. Counted as a soft bounce: repeats
        # suppress the address (with an expiry), a delivery clears them.
        category, action = Category.SOFT, Action.COUNT
    override = replies.category_of(lowered, provider, reason)
    if override is not None:
        category, action = override
    if code is None and reason is not R.DELIVERED:
        # No code anywhere: the reply code's class, or the wording, says temporary or not.
        temporary = (reply or 0) // 100 == 4 or status.says_temporary(lowered)
        code = status.pseudo(reason, temporary)
    return Verdict(
        reason=reason,
        category=category,
        action=action,
        hard=hard,
        status=code,
        reply_code=reply,
        provider=provider,
    )


def verdicts(report: Report) -> list[tuple[Entry, Verdict]]:
    """Every entry of a report that is to be acted on, with its verdict."""
    if report.kind in (Kind.NOT_BOUNCE, Kind.AUTO_REPLY, Kind.DELIVERED):
        return []
    out = []
    for entry in report.entries:
        if report.kind is not Kind.FEEDBACK and entry.action not in (
            DsnAction.FAILED,
            DsnAction.DELAYED,
        ):
            continue
        out.append((entry, classify(entry, report)))
    return out


def normalise(diagnostic: str) -> str:
    """The reply text with a multi-line reply's repeated codes dropped ("550-5.7.1 ...").

    ``550-5.7.1 Our system ... 550-5.7.1 likely unsolicited ... 550 5.7.1 https://...`` becomes
    ``550 5.7.1 Our system ... likely unsolicited ... https://...``, so that phrases spanning
    the reply's lines match.
    """
    text = diagnostic
    if "  " in text or "\n" in text or "\t" in text or "\r" in text:
        text = collapse(text)
    if not _CONTINUED.search(text):
        return text
    reply = status.find_reply(text)
    if reply is None or f"{reply}-" not in text:
        return text
    code = status.find_status(text) or ""
    for separator in ("-", " "):
        if code:
            text = text.replace(f"{reply}{separator}{code}", "")
        text = text.replace(f"{reply}{separator}", "")
    text = collapse(text)
    return f"{reply} {code} {text}" if code else f"{reply} {text}"


# SMTP commands as reports name them, in the reference parser's order: when a reply names several,
# the last of this order is the one that failed (RCPT after MAIL, DATA after RCPT).
_COMMAND = re.compile(
    r"(?<![0-9@-Z`-z])(HELO|EHLO|STARTTLS|RCPT|DATA|QUIT|XFORWARD)(?![0-9@-Z`-z])|"
    r"(AUTH) (?:PLAIN|LOGIN|CRAM-|DIGEST-)|(MAIL) F"
)
_COMMAND_RANK = {
    name: rank
    for rank, name in enumerate(
        ("HELO", "EHLO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "QUIT", "XFORWARD")
    )
}


_COMMAND_WORDS = ("HELO", "EHLO", "STARTTLS", "AUTH ", "MAIL F", "RCPT", "DATA", "QUIT", "XFORWARD")


def find_command(text: str) -> str | None:
    """The SMTP command a reply text says it answered (upper-case names only), or None."""
    if not any(word in text for word in _COMMAND_WORDS):
        return None
    best: str | None = None
    for match in _COMMAND.finditer(text):
        name = match.group(1) or match.group(2) or match.group(3)
        if best is None or _COMMAND_RANK[name] > _COMMAND_RANK[best]:
            best = name
    return best


def _reason(
    entry: Entry, report: Report, text: str, lowered: str, *, code: str | None, reply: int | None
) -> Reason:
    """Steps 3 to 6 of the module docstring."""
    if entry.hint is not None and entry.hint not in decide.RETRY:
        return entry.hint  # final: the notice's own wording need not be read
    command = entry.command or find_command(text)
    said = mta.said(text, report.subject, report.sender, command)
    facts = decide.Facts(
        text=lowered,
        status=code,
        reply=reply,
        command=command or said.command,
        smtp=entry.diagnostic_type in _SMTP_TYPES,
        unix=(entry.diagnostic_type or "") in _UNIX_TYPES,
        delayed=entry.action is DsnAction.DELAYED,
        stated=entry.hint or said.reason,
    )
    stated = facts.stated
    if stated is not None and stated not in decide.RETRY:
        return stated
    found = mta.local_agent(facts.text, facts.command)
    if found is not None and found not in decide.NOT_EXPLICIT:
        return found
    system = _system(entry, report, facts.text)
    if system is not None:
        found = rhost.find(
            system,
            rhost.Reply(
                text=facts.text,
                raw=text,
                status=facts.status,
                reply=facts.reply,
                command=facts.command,
            ),
        )
        if found is not None and found not in decide.NOT_EXPLICIT:
            return found
    return decide.generic(facts)


def _system(entry: Entry, report: Report, lowered: str) -> rhost.System | None:
    """The receiving system: by recipient domain, remote host (named by the report, else in the
    lower-cased reply text), then the reporting host."""
    system = rhost.system_of_domain(entry.recipient.rpartition("@")[2])
    if system is None:
        system = rhost.system_of_host(entry.remote_mta or rhost.host_in(lowered) or "")
    if system is None and report.reporting_mta:
        system = rhost.system_of_host(report.reporting_mta)
    return system
