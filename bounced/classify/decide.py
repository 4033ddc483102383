"""The generic decision: which reason a reply names, given its text, codes and SMTP command.

Theory of operation (the order of the reference parser, Sisimai 5, so that results compare):
1. A reason stated by the report that is not a "retry" reason (`RETRY`: weak guesses such as a
   bare 5.1.1 or onhold) is final.
2. A 2.x.x status is a delivery.
3. For SMTP diagnostics, the reasons of `PROBE_ORDER` are probed in turn. A probe combines the
   reason the status code names, the phrase table of the reason and the SMTP command the reply
   answered (a reply to RCPT is about the address, one after DATA about the content), see
   `_probe`. The first probe that holds wins.
4. Otherwise the status code's own reason decides, unless it is a retry reason or the diagnostic
   is not SMTP: then the phrase tables of `FALLBACK_ORDER` are searched, then the status code's
   reason, then the status subject (x.6 content, x.7 security), then the reply code, the DSN
   action (delayed: expired) and the command (a refused HELO: blocked).
5. Last: a vacation wording, onhold when there is a reply text to go by, undefined when not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bounced.classify import patterns, status
from bounced.model import Reason

R = Reason

# Reasons that are only a first guess: later steps may replace them (reference parser's
# ShouldBeRetried).
RETRY = frozenset(
    {
        R.UNDEFINED,
        R.ONHOLD,
        R.SYSTEMERROR,
        R.SECURITYERROR,
        R.EXPIRED,
        R.NETWORKERROR,
        R.HOSTUNKNOWN,
        R.USERUNKNOWN,
    }
)
NOT_EXPLICIT = frozenset({R.UNDEFINED, R.ONHOLD})

# Step 3: probed in this order; the first that holds wins.
PROBE_ORDER: tuple[Reason, ...] = (
    R.MAILBOXFULL,
    R.MESGTOOBIG,
    R.EXCEEDLIMIT,
    R.SUSPEND,
    R.HASMOVED,
    R.NORELAYING,
    R.AUTHFAILURE,
    R.USERUNKNOWN,
    R.FILTERED,
    R.REQUIREPTR,
    R.NOTCOMPLIANTRFC,
    R.BADREPUTATION,
    R.CONTENTERROR,
    R.REJECTED,
    R.HOSTUNKNOWN,
    R.SPAMDETECTED,
    R.SPEEDING,
    R.TOOMANYCONN,
    R.BLOCKED,
)
# Step 4: phrase tables searched in this order when the status code does not decide.
FALLBACK_ORDER: tuple[Reason, ...] = (
    R.MAILBOXFULL,
    R.AUTHFAILURE,
    R.BADREPUTATION,
    R.SPEEDING,
    R.SPAMDETECTED,
    R.VIRUSDETECTED,
    R.POLICYVIOLATION,
    R.NORELAYING,
    R.SYSTEMERROR,
    R.NETWORKERROR,
    R.SUSPEND,
    R.CONTENTERROR,
    R.SYSTEMFULL,
    R.NOTACCEPT,
    R.EXPIRED,
    R.FAILEDSTARTTLS,
    R.SECURITYERROR,
    R.MAILERERROR,
)
# Commands sent before the message itself: a refusal there is not about the content.
BEFORE_DATA = frozenset({"CONN", "EHLO", "HELO", "MAIL", "RCPT"})
# Reasons that, found in a reply with a 5.1.1 code, mean the code is not about the address.
_NOT_USERUNKNOWN = (
    R.NORELAYING,
    R.BLOCKED,
    R.MAILBOXFULL,
    R.HASMOVED,
    R.REJECTED,
    R.NOTACCEPT,
)


@dataclass(slots=True)
class Facts:
    """What the decision looks at, for one recipient."""

    text: str  # reply text, lower-cased, whitespace collapsed
    status: str | None = None  # the preferred enhanced status code
    reply: int | None = None
    command: str | None = None  # CONN, EHLO, HELO, MAIL, RCPT, DATA, ...
    smtp: bool = True  # the diagnostic is an SMTP reply (or of unknown type)
    unix: bool = False  # the diagnostic is a local delivery program's (x-unix)
    delayed: bool = False  # the DSN action is "delayed"
    stated: Reason | None = None  # a reason the report or the MTA's wording already gives
    _found: frozenset[Reason] | None = field(default=None, repr=False)

    @property
    def coded(self) -> Reason | None:
        """The reason the status code names by itself."""
        return status.reason_of(self.status)

    def phrases(self) -> frozenset[Reason]:
        """The reasons the reply text holds a phrase of, or names as the answer to its SMTP
        command: all found at once, when first asked for."""
        if self._found is None:
            self._found = (
                patterns.reasons_in(self.text) | patterns.answered(self.text, self.command)
                if self.text
                else frozenset()
            )
        return self._found

    def says(self, reason: Reason) -> bool:
        """True when the reply text holds a phrase of the reason (`phrases`)."""
        found = self._found
        return reason in (found if found is not None else self.phrases())


def _probe(reason: Reason, facts: Facts, coded: Reason | None) -> bool:
    """Does the reason hold? (reference parser's ProbesInto, one rule per reason)."""
    if facts.stated is reason:
        return True
    command = facts.command
    if reason is R.MAILBOXFULL or reason is R.EXCEEDLIMIT or reason is R.AUTHFAILURE:
        return coded is reason or facts.says(reason)
    if reason is R.REQUIREPTR or reason is R.TOOMANYCONN or reason is R.BLOCKED:
        return coded is reason or facts.says(reason)
    if reason is R.MESGTOOBIG:
        if coded is reason:
            return True
        if coded is R.EXCEEDLIMIT or facts.status == "5.2.3":
            return False
        return facts.says(reason)
    if reason is R.SUSPEND:
        return facts.reply == 525 or facts.says(reason)
    if reason is R.NORELAYING:
        return command not in ("CONN", "EHLO", "HELO") and facts.says(reason)
    if reason is R.USERUNKNOWN:
        if coded is R.SUSPEND:
            return False
        if coded is R.USERUNKNOWN:
            return not any(facts.says(other) for other in _NOT_USERUNKNOWN)
        return command == "RCPT" and facts.says(reason)
    if reason is R.FILTERED:
        if coded is R.SUSPEND:
            return False
        if coded is R.FILTERED:
            return facts.says(R.USERUNKNOWN) or facts.says(R.FILTERED)
        if command in BEFORE_DATA:
            return False
        return facts.says(R.FILTERED) or facts.says(R.USERUNKNOWN)
    if reason is R.CONTENTERROR:
        if _probe(R.SPAMDETECTED, facts, coded):
            return False
        return coded is reason or facts.says(reason)
    if reason is R.REJECTED:
        if coded is reason:
            return True
        if command == "MAIL":
            return facts.says(reason)
        if command == "DATA" and coded is not R.USERUNKNOWN:
            return facts.says(reason)
        if coded is None or coded in (R.SECURITYERROR, R.SYSTEMERROR):
            return facts.says(reason)
        return False
    if reason is R.HOSTUNKNOWN:
        if coded is reason:
            return not facts.says(R.NETWORKERROR)
        return facts.says(reason)
    if reason is R.SPAMDETECTED:
        if not facts.status:
            return False
        if coded is reason:
            return True
        if command in BEFORE_DATA:
            return False
        return facts.says(reason)
    # hasmoved, notcompliantrfc, badreputation, speeding
    return facts.says(reason)


def _possible(facts: Facts, coded: Reason | None) -> frozenset[Reason]:
    """The reasons whose probe can hold: each needs its own code, its phrases or the report's
    word (a 525 reply aside, and filtered, which an unknown-user phrase also proves), so the
    probes of the others need not run."""
    possible = set(facts.phrases())
    possible.update(reason for reason in (coded, facts.stated) if reason is not None)
    if facts.reply == 525:
        possible.add(R.SUSPEND)
    if R.USERUNKNOWN in possible:
        possible.add(R.FILTERED)
    return frozenset(possible)


def _fallback(facts: Facts, coded: Reason | None) -> Reason | None:
    """Step 4 (reference parser's "anotherone")."""
    if facts.stated is not None and facts.stated not in NOT_EXPLICIT:
        return facts.stated
    if coded is not None and coded not in RETRY and facts.smtp:
        return coded
    for reason in FALLBACK_ORDER:
        if facts.says(reason):
            return reason
    if coded is not None:
        return coded
    associated = status.REPLY_REASON.get(facts.reply) if facts.reply else None
    if associated is not None:
        return associated
    subject = (facts.status or "")[:3]
    if subject in ("5.6", "4.6"):
        return R.CONTENTERROR
    if subject in ("5.7", "4.7"):
        return R.SECURITYERROR
    if facts.unix:
        return R.MAILERERROR
    if facts.reply is not None and (400 < facts.reply < 408 or 500 < facts.reply < 508):
        return R.SYNTAXERROR
    if facts.delayed:
        return R.EXPIRED
    if facts.command in ("CONN", "EHLO", "HELO"):
        return R.BLOCKED  # refused on connecting or at the greeting, for no stated reason
    return None


def generic(facts: Facts) -> Reason:
    """Steps 2 to 5 of the module docstring."""
    if facts.status and facts.status[0] == "2":
        return R.DELIVERED
    coded = facts.coded
    if facts.smtp:
        possible = _possible(facts, coded)
        for reason in PROBE_ORDER:
            if reason in possible and _probe(reason, facts, coded):
                return reason
    found = _fallback(facts, coded)
    if found is R.UNDEFINED:
        found = None
    if found is None and facts.delayed:
        found = R.EXPIRED
    if found is not None:
        return found
    if facts.says(R.VACATION):
        return R.VACATION
    return R.ONHOLD if facts.text else R.UNDEFINED
