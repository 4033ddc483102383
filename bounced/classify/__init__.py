"""Entry -> Verdict: reason, category, default action, hard flag, status and provider.

Theory of operation, for one recipient:
1. a reason the format itself stated (an explicit hint) wins;
2. a 2.x.x status is a delivery;
3. the reply text is matched against the reason patterns (classify/patterns.py);
4. the status code's own meaning (classify/status.py) decides what the text did not;
5. fallbacks: a delayed action means expired, some text means onhold, else undefined.
The category and action come from the reason (classify/categories.py). A missing enhanced
status is derived from the reply code and reason.
"""

from __future__ import annotations

from bounced.classify import categories, patterns, providers, status
from bounced.model import DsnAction, Entry, Kind, Reason, Report, Verdict

__all__ = ["classify", "verdicts"]


def classify(entry: Entry, report: Report) -> Verdict:
    """Classify one entry of a report."""
    provider = providers.provider_of(entry.recipient, entry.remote_mta)
    reason = _reason(entry, report)
    category, action, hard = categories.TABLE[reason]
    return Verdict(
        reason=reason,
        category=category,
        action=action,
        hard=hard,
        status=entry.status or _derived_status(entry),
        reply_code=entry.reply_code,
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


def _reason(entry: Entry, report: Report) -> Reason:
    if report.kind is Kind.FEEDBACK:
        return Reason.FEEDBACK
    if entry.hint is not None:
        return entry.hint
    if entry.status and entry.status[0] == "2":
        return Reason.DELIVERED
    text = entry.diagnostic.lower()
    found = patterns.match(text) if text else None
    if found is not None:
        return found
    found = status.reason_of_status(entry.status)
    if found is not None:
        return found
    if entry.action is DsnAction.DELAYED:
        return Reason.EXPIRED
    return Reason.ONHOLD if text else Reason.UNDEFINED


def _derived_status(entry: Entry) -> str | None:
    if entry.reply_code is not None:
        return status.REPLY_TO_STATUS.get(entry.reply_code, f"{str(entry.reply_code)[0]}.0.0")
    return None
