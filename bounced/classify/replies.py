"""Provider reply rules: replies that are a rate limit, a reputation block or an authentication
failure, whatever reason their words suggest.

Theory of operation: the reason vocabulary follows the reference parser, which reads some rate
limits of large providers as "blocked", "rejected" or "badreputation", some blocks as
"securityerror" or "onhold", and a per-recipient rate limit of Tencent as "suspend". For the ESP
the difference that matters is whose move it is: a rate limit asks the sending IP to slow down
toward that provider (category rate: throttle), a reputation block asks for the IP or domain to
be fixed and delisted (category block: reputation), an authentication failure asks for the
sender's SPF, DKIM or DMARC setup to be fixed (category auth: alert); none of them says anything
about the recipient's address. `RULES` maps replies to that category; the first row that matches
wins, and each provider lists its most specific code first.

Rule 1: a pattern is lower-case, matched against the lower-cased reply text with its repeated
multi-line codes removed; where a provider's code is distinctive (TSS04, OFR005_104, S3150) the
code alone is the pattern. A comment names the provider documentation a row comes from.
Rule 2: rows may be restricted to providers (the MX roll-up), for codes or words that mean
something else elsewhere.
Rule 3: a row documented by the provider overrides whatever the reason is (Tencent's "mailbox
unavailable or access denied" is its per-recipient rate limit, not a suspended mailbox); a row
that only recognises common wording never overrides a reason about the address itself (hard
category) or a full mailbox.
"""

from __future__ import annotations

from dataclasses import dataclass

from bounced.classify.categories import ADDRESS_REASONS
from bounced.classify.scan import Scanner
from bounced.model import Action, Category, Provider, Reason

C = Category
P = Provider


@dataclass(frozen=True, slots=True)
class ReplyRule:
    """A provider reply and the category it belongs to."""

    pattern: str  # regex source, found through `SCANNER` (never compiled on its own)
    category: Category
    documented: bool  # Rule 3: the provider documents this reply (codes, exact texts)
    providers: frozenset[Provider] = frozenset()  # empty: any provider


def _doc(pattern: str, category: Category, *only: Provider) -> ReplyRule:
    return ReplyRule(pattern, category, documented=True, providers=frozenset(only))


def _wording(pattern: str, category: Category, *only: Provider) -> ReplyRule:
    return ReplyRule(pattern, category, documented=False, providers=frozenset(only))


RULES: tuple[ReplyRule, ...] = (
    # Gmail (support.google.com/a/answer/3726730 "SMTP error reference", /mail/answer/188131).
    _doc(r"4\.7\.28 .{0,40}unusual rate of", C.RATE),  # 421 4.7.28: temporarily rate limited
    _doc(r"unusual rate of unsolicited mail .{0,120}temporarily rate limited", C.RATE),
    _doc(r"very low reputation of the sending (?:ip|domain).{0,200}rate limited", C.RATE),
    _doc(r"421[ -]4\.7\.0 .{0,80}very low reputation of the sending", C.RATE),  # deferred
    _doc(r"very low reputation of the sending (?:ip|domain)", C.BLOCK),  # 550 5.7.1: blocked
    _doc(r"unusual rate of unsolicited mail", C.BLOCK),  # 550 5.7.1 / 5.7.28: blocked
    _doc(r"receiving mail (?:at a rate that prevents|too quickly)", C.RATE),  # 4.2.1/5.2.1
    _doc(r"ip not in whitelist for rcpt domain", C.BLOCK),
    _doc(r"5\.7\.26 .{0,200}(?:spf|dkim|dmarc)|senders to authenticate with", C.AUTH),
    _doc(r"4\.7\.(?:2[3467]|30|32|40) .{0,40}rate limited", C.AUTH),  # 421 auth: rate limited
    # Microsoft (learn.microsoft.com Exchange Online NDRs, postmaster.live.com troubleshooting).
    _doc(r"4\.7\.65[0-9] .{0,120}rate limited due to ip reputation", C.RATE),
    _doc(r"rate limited due to ip reputation", C.RATE),  # 4.7.650/651 (S775, S843, S3114)
    _doc(r"banned sending ip|5\.7\.6[0-4][0-9] access denied", C.BLOCK),  # 5.7.606-649
    _doc(r"\(s3150\)|part of their network is on our block list", C.BLOCK),
    _doc(r"rp-00[1-3]\b", C.RATE),  # outlook.com: rate limited for IP/domain reputation
    _doc(r"sc-00[1-4]\b|dy-001\b|ou-00[12]\b", C.BLOCK),  # outlook.com policy blocks
    _doc(r"has exceeded the maximum number of connections|\(s3115\)", C.RATE),  # 4.7.652
    _doc(r"4\.7\.5\d\d .{0,40}(?:access denied, please try again later|server busy)", C.RATE),
    _doc(r"exceeded the limit for the number of messages they can send", C.RATE),  # 5.2.121
    _doc(r"exceeded their limit for the number of messages they can receive", C.RATE),  # 5.2.122
    _doc(r"5\.7\.515 |5\.7\.509 |does not pass dmarc verification", C.AUTH),
    # Yahoo (senders.yahooinc.com/smtp-error-codes).
    _doc(r"\[tss04\]|temporarily deferred due to unexpected volume or user complaints", C.RATE),
    _doc(r"\[tss0[59]\]|\[tss1[0-9]\]|will be permanently deferred", C.BLOCK),
    _doc(r"\[bl2[0-9]\]|because the ip is in spamhaus's list", C.BLOCK),
    _doc(r"max message per connection reached|user is receiving mail too quickly", C.RATE),
    _doc(r"yahoo requires all senders to authenticate", C.AUTH),
    # Orange and Wanadoo (OFR codes), La Poste (LPN codes): the number after the label.
    _doc(r"ofr\w{0,6}_104\b|lpn\w{0,6}_104\b|trop de connexions", C.RATE),  # too many connections
    _doc(r"ofr\w{0,6}_(?:101|102|103|510|999)\b|lpn\w{0,6}_(?:101|102|103|510|999)\b", C.BLOCK),
    _doc(r"ofr\w{0,6}_(?:105|109|201|424|505)\b|lpn\w{0,6}_(?:105|109|201|424|505)\b", C.RATE),
    _doc(r"lpn\w{0,6}_(?:107|108|423)\b", C.BLOCK),  # service refused: IP suspended
    _doc(r"ofr\w{0,6}_(?:401|517)\b|lpn\w{0,6}_(?:401|517)\b", C.AUTH),  # SPF, DMARC
    # SFR (postmaster.sfr.fr): "abus detecte" blocks, connection rate limits.
    _doc(r"abus detecte gu_eib_0[0-9]", C.BLOCK, P.SFR),
    _doc(r"too many connections|trop de connexions|4\.7\.0 .{0,40}ratelimit", C.RATE, P.SFR),
    # Free (postmaster.free.fr).
    _doc(r"too many spams from your ip", C.BLOCK, P.FREE),
    _doc(r"too many errors from your ip|too many connections|trop de connexions", C.RATE, P.FREE),
    # GMX, Web.de, 1&1 (postmaster.gmx.net / web.de "Fehlercodes").
    _doc(r"reject due to policy restrictions|ip address is block ?listed|nemesis", C.BLOCK, P.GMX),
    _doc(r"reject due to spf policy", C.AUTH, P.GMX),
    _doc(r"too many (?:connections|messages)|temporarily deferred|rate limit", C.RATE, P.GMX),
    # Mail.ru (help.mail.ru/mail/postmaster/smtp-errors).
    _doc(
        r"ratelimit|too many (?:messages|connections|recipients)|try again later", C.RATE, P.MAILRU
    ),
    _doc(r"we do not accept mail from dynamic ips|spam message rejected", C.BLOCK, P.MAILRU),
    # Yandex (yandex.ru/support/mail/web/spam/honest-mailers).
    _doc(r"message rejected under suspicion of spam", C.BLOCK, P.YANDEX),
    _doc(r"exceeded message rate limit|too many connections|try again later", C.RATE, P.YANDEX),
    # Apple iCloud (support.apple.com/102322).
    _doc(r"deferred due to excessive volume", C.RATE, P.APPLE),
    _doc(r"421 4\.7\.0 .{0,40}too many errors", C.RATE, P.APPLE),
    # Tencent QQ (service.mail.qq.com/detail/122): per-recipient and per-sender frequency limits.
    _doc(r"mailbox unavailable or access deni\w{1,2}d", C.RATE, P.TENCENT),
    _doc(r"frequency (?:of receiving messages is )?limited", C.RATE, P.TENCENT),
    # Comcast (postmaster.comcast.net/smtp-error-codes).
    _doc(r"too many recent messages", C.RATE, P.COMCAST),
    # Common wording (Rule 3: never overrides a reason about the address).
    _wording(
        r"too many (?:concurrent )?(?:connections|smtp sessions)|connection rate limit", C.RATE
    ),
    _wording(r"rate[- ]?limit|throttl|too many errors from", C.RATE),
    _wording(r"\bspf\b.{0,40}(?:fail|policy|not permitted|doesn't allow)|dmarc|dkim", C.AUTH),
    _wording(r"\bspam\b|\brbl\b|blacklist|blocklist|block list|spamhaus", C.BLOCK),
)

_DEFAULT_ACTION = {
    C.RATE: Action.THROTTLE,
    C.BLOCK: Action.REPUTATION,
    C.AUTH: Action.ALERT,
}
# Row number -> its pattern, scanned in one pass.
SCANNER: Scanner[int] = Scanner({i: (row.pattern,) for i, row in enumerate(RULES)})


def category_of(text: str, provider: Provider, reason: Reason) -> tuple[Category, Action] | None:
    """The category and action a reply rule gives the lower-cased reply, if any (Rule 3:
    common wording does not override a reason about the recipient's address or mailbox)."""
    if not text:
        return None
    for number in sorted(SCANNER.keys_in(text)):
        row = RULES[number]
        if row.providers and provider not in row.providers:
            continue
        if not row.documented and reason in ADDRESS_REASONS:
            continue
        return row.category, _DEFAULT_ACTION[row.category]
    return None
