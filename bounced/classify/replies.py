"""Provider reply rules: replies that are a rate limit or a reputation block, whatever their words.

Theory of operation: the reason vocabulary follows the reference parser, which reads some rate
limits of large providers as "blocked", "rejected" or "badreputation" and some blocks as
"securityerror" or "onhold". For the ESP the difference that matters is whose move it is: a
rate limit asks the sending IP to slow down toward that provider (category rate, throttle), a
reputation block asks for the IP or domain to be fixed and delisted (category block,
reputation); neither says anything about the recipient's address. `RULES` maps the documented
reply of each provider to that category. The first matching row wins; rows for one provider
list their most specific code first.

Rule 1: a pattern is lower-case, matched against the lower-cased reply text with its repeated
multi-line codes removed; where the provider's code is distinctive (TSS04, OFR005_104, S3150)
the code alone is the pattern.
Rule 2: rows may be restricted to providers (the MX roll-up), for codes that mean something
else elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bounced.classify.scan import Scanner
from bounced.model import Action, Category, Provider

C = Category
P = Provider


@dataclass(frozen=True, slots=True)
class ReplyRule:
    """A documented provider reply and the category it belongs to."""

    pattern: re.Pattern[str]
    category: Category
    providers: frozenset[Provider] = frozenset()  # empty: any provider


def _rule(pattern: str, category: Category, *only: Provider) -> ReplyRule:
    return ReplyRule(re.compile(pattern), category, frozenset(only))


RULES: tuple[ReplyRule, ...] = (
    # Gmail (support.google.com/mail/answer/188131, /a/answer/3726730).
    _rule(r"4\.7\.28 .{0,40}unusual rate of", C.RATE),  # 421 4.7.28 unusual rate: rate limited
    _rule(r"unusual rate of unsolicited mail .{0,120}temporarily rate limited", C.RATE),
    _rule(r"very low reputation of the sending (?:ip|domain).{0,200}rate limited", C.RATE),
    _rule(r"421[ -]4\.7\.0 .{0,80}very low reputation of the sending", C.RATE),  # 421: deferred
    _rule(r"very low reputation of the sending (?:ip|domain)", C.BLOCK),  # 550 5.7.1: blocked
    _rule(r"unusual rate of unsolicited mail", C.BLOCK),  # 550 5.7.1 / 5.7.28: blocked
    _rule(r"receiving mail (?:at a rate that prevents|too quickly)", C.RATE),  # 4.2.1/5.2.1
    _rule(r"ip not in whitelist for rcpt domain", C.BLOCK),
    # Microsoft (learn.microsoft.com Exchange Online NDR 5.7.606-649, 4.7.650, S3150, RP-00x).
    _rule(r"4\.7\.65[0-9] .{0,120}rate limited due to ip reputation", C.RATE),
    _rule(r"rate limited due to ip reputation", C.RATE),
    _rule(r"banned sending ip|5\.7\.6[0-4][0-9] access denied", C.BLOCK),  # 5.7.606-649
    _rule(r"\(s3150\)|part of their network is on our block list", C.BLOCK),
    _rule(r"rp-00[1-3]\b", C.RATE),  # outlook.com: rate limited for IP reputation
    _rule(r"sc-00[1-4]\b|dy-001\b|ou-00[12]\b", C.BLOCK),  # outlook.com policy blocks
    _rule(r"has exceeded the maximum number of connections|\(s3115\)", C.RATE),  # 4.7.652
    _rule(r"4\.7\.5\d\d .{0,40}(?:access denied, please try again later|server busy)", C.RATE),
    # Yahoo (senders.yahooinc.com/smtp-error-codes).
    _rule(r"\[tss04\]|temporarily deferred due to unexpected volume or user complaints", C.RATE),
    _rule(r"\[tss0[59]\]|\[tss1[0-9]\]|will be permanently deferred", C.BLOCK),
    _rule(r"\[bl2[0-9]\]|because the ip is in spamhaus's list", C.BLOCK),
    _rule(r"max message per connection reached|user is receiving mail too quickly", C.RATE),
    # Orange and Wanadoo (OFR codes), La Poste (LPN codes): the number after the label.
    _rule(r"ofr\w{0,6}_104\b|lpn\w{0,6}_104\b|trop de connexions", C.RATE),  # connections
    _rule(r"ofr\w{0,6}_(?:101|102|103|510|999)\b|lpn\w{0,6}_(?:101|102|103|510|999)\b", C.BLOCK),
    _rule(r"ofr\w{0,6}_(?:105|109|201|424|505)\b|lpn\w{0,6}_(?:105|109|201|424|505)\b", C.RATE),
    _rule(r"lpn\w{0,6}_(?:107|108|423)\b", C.BLOCK),  # service refused: IP suspended
    # SFR (postmaster.sfr.fr): "abus detecte" blocks, connection rate limits.
    _rule(r"abus detecte gu_eib_0[0-9]", C.BLOCK, P.SFR),
    _rule(r"too many connections|trop de connexions|4\.7\.0 .{0,40}ratelimit", C.RATE, P.SFR),
    # Free (postmaster.free.fr).
    _rule(r"too many (?:spams|errors) from your ip", C.BLOCK, P.FREE),
    _rule(r"too many connections|trop de connexions|frequence", C.RATE, P.FREE),
    # GMX, Web.de, 1&1 (postmaster.gmx.net / web.de error codes).
    _rule(r"reject due to policy restrictions|ip address is block ?listed|nemesis", C.BLOCK, P.GMX),
    _rule(r"too many (?:connections|messages)|temporarily deferred|rate limit", C.RATE, P.GMX),
    # Mail.ru (help.mail.ru/mail/postmaster/smtp-errors).
    _rule(
        r"ratelimit|too many (?:messages|connections|recipients)|try again later", C.RATE, P.MAILRU
    ),
    _rule(r"we do not accept mail from dynamic ips|spam message rejected", C.BLOCK, P.MAILRU),
    # Yandex (yandex.ru/support/mail/web/spam/honest-mailers).
    _rule(r"message rejected under suspicion of spam", C.BLOCK, P.YANDEX),
    _rule(r"exceeded message rate limit|too many connections|try again later", C.RATE, P.YANDEX),
    # Apple iCloud (support.apple.com/102322).
    _rule(r"deferred due to excessive volume", C.RATE),
    # Generic provider wording for connection and rate limits.
    _rule(r"too many (?:concurrent )?(?:connections|smtp sessions)|connection rate limit", C.RATE),
    _rule(r"rate[- ]?limit|throttl", C.RATE),
)

_DEFAULT_ACTION = {C.RATE: Action.THROTTLE, C.BLOCK: Action.REPUTATION}
# Row number -> its pattern, scanned in one pass.
SCANNER: Scanner[int] = Scanner({i: (row.pattern.pattern,) for i, row in enumerate(RULES)})


def category_of(text: str, provider: Provider) -> tuple[Category, Action] | None:
    """The category and action a provider reply rule gives the lower-cased reply, if any."""
    if not text:
        return None
    for number in sorted(SCANNER.keys_in(text)):
        row = RULES[number]
        if not row.providers or provider in row.providers:
            return row.category, _DEFAULT_ACTION[row.category]
    return None
