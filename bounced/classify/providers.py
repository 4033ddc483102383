"""Which mailbox provider receives for an address: the MX roll-up.

Rule 1: the remote MTA's host name, when the report gives one, wins over the recipient domain,
because a company domain hosted by Google or Microsoft is that provider's mail for throttling
purposes (it shares their limits and reputation systems).
Rule 2: both tables match a name or any parent domain of it ("mx1.mail.yahoo.com" matches
"yahoo.com"), longest suffix first.

Domains come from the providers' published domain lists and MX records.
"""

from __future__ import annotations

from bounced.model import Provider

P = Provider

# Recipient domains of consumer mailbox providers.
DOMAINS: dict[str, Provider] = {
    **dict.fromkeys(("gmail.com", "googlemail.com", "google.com"), P.GMAIL),
    **dict.fromkeys(
        (
            "outlook.com",
            "hotmail.com",
            "live.com",
            "msn.com",
            "passport.com",
            "outlook.fr",
            "hotmail.fr",
            "live.fr",
            "hotmail.co.uk",
            "live.co.uk",
            "outlook.de",
            "hotmail.de",
            "hotmail.it",
            "hotmail.es",
            "outlook.es",
            "outlook.jp",
            "hotmail.co.jp",
            "live.jp",
            "windowslive.com",
            "onmicrosoft.com",
        ),
        P.MICROSOFT,
    ),
    **dict.fromkeys(
        (
            "yahoo.com",
            "yahoo.co.uk",
            "yahoo.fr",
            "yahoo.de",
            "yahoo.es",
            "yahoo.it",
            "yahoo.ca",
            "yahoo.com.br",
            "yahoo.co.in",
            "yahoo.com.au",
            "ymail.com",
            "rocketmail.com",
            "aol.com",
            "aol.fr",
            "aol.de",
            "aim.com",
            "verizon.net",
            "att.net.yahoo",
        ),
        P.YAHOO,
    ),
    **dict.fromkeys(("icloud.com", "me.com", "mac.com", "privaterelay.appleid.com"), P.APPLE),
    **dict.fromkeys(("orange.fr", "wanadoo.fr", "voila.fr"), P.ORANGE),
    **dict.fromkeys(("sfr.fr", "neuf.fr", "cegetel.net", "club-internet.fr", "9online.fr"), P.SFR),
    **dict.fromkeys(("free.fr", "aliceadsl.fr", "libertysurf.fr", "online.fr"), P.FREE),
    **dict.fromkeys(("laposte.net", "laposte.fr"), P.LAPOSTE),
    **dict.fromkeys(("bbox.fr",), P.BOUYGUES),
    **dict.fromkeys(
        (
            "gmx.de",
            "gmx.net",
            "gmx.at",
            "gmx.ch",
            "gmx.com",
            "gmx.fr",
            "web.de",
            "mail.com",
            "email.com",
            "1und1.de",
        ),
        P.GMX,
    ),
    **dict.fromkeys(("mail.ru", "bk.ru", "inbox.ru", "list.ru", "internet.ru"), P.MAILRU),
    **dict.fromkeys(
        ("yandex.ru", "yandex.com", "ya.ru", "yandex.by", "yandex.kz", "yandex.ua"), P.YANDEX
    ),
    **dict.fromkeys(("comcast.net", "xfinity.com"), P.COMCAST),
    **dict.fromkeys(("att.net", "sbcglobal.net", "bellsouth.net", "pacbell.net"), P.ATT),
    **dict.fromkeys(
        ("charter.net", "spectrum.net", "twc.com", "rr.com", "roadrunner.com"), P.CHARTER
    ),
    **dict.fromkeys(("cox.net",), P.COX),
    **dict.fromkeys(("qq.com", "foxmail.com", "vip.qq.com"), P.TENCENT),
    **dict.fromkeys(("163.com", "126.com", "yeah.net", "188.com"), P.NETEASE),
    **dict.fromkeys(("zoho.com", "zohomail.com", "zoho.eu"), P.ZOHO),
    **dict.fromkeys(("proton.me", "protonmail.com", "pm.me"), P.PROTON),
    **dict.fromkeys(("fastmail.com", "fastmail.fm"), P.FASTMAIL),
    **dict.fromkeys(("docomo.ne.jp",), P.DOCOMO),
    **dict.fromkeys(("ezweb.ne.jp", "au.com", "dion.ne.jp"), P.KDDI),
    **dict.fromkeys(("softbank.ne.jp", "i.softbank.jp", "vodafone.ne.jp"), P.SOFTBANK),
}

# Host-name suffixes of the providers' inbound MX and outbound report hosts.
HOSTS: dict[str, Provider] = {
    **dict.fromkeys(("google.com", "googlemail.com", "gmail-smtp-in.l.google.com"), P.GMAIL),
    **dict.fromkeys(
        (
            "outlook.com",
            "protection.outlook.com",
            "hotmail.com",
            "office365.us",
            "live.com",
            "outbound.protection.outlook.com",
            "prod.outlook.com",
        ),
        P.MICROSOFT,
    ),
    **dict.fromkeys(("yahoodns.net", "yahoo.com", "yahoo.net", "aol.com", "yahoo.co.jp"), P.YAHOO),
    **dict.fromkeys(("icloud.com", "apple.com", "mail.icloud.com", "me.com"), P.APPLE),
    **dict.fromkeys(("orange.fr", "wanadoo.fr"), P.ORANGE),
    **dict.fromkeys(("sfr.fr", "neuf.fr"), P.SFR),
    **dict.fromkeys(("free.fr", "proxad.net"), P.FREE),
    **dict.fromkeys(("laposte.net",), P.LAPOSTE),
    **dict.fromkeys(("bbox.fr",), P.BOUYGUES),
    **dict.fromkeys(
        (
            "gmx.net",
            "web.de",
            "mail.com",
            "kundenserver.de",
            "ui-r.com",
            "1and1.com",
            "schlund.de",
            "gmx.com",
        ),
        P.GMX,
    ),
    **dict.fromkeys(("mail.ru",), P.MAILRU),
    **dict.fromkeys(("yandex.ru", "yandex.net", "yandex.com"), P.YANDEX),
    **dict.fromkeys(("comcast.net",), P.COMCAST),
    **dict.fromkeys(("att.net", "sbcglobal.net"), P.ATT),
    **dict.fromkeys(("charter.net", "rr.com", "spectrum.net"), P.CHARTER),
    **dict.fromkeys(("cox.net",), P.COX),
    **dict.fromkeys(("qq.com",), P.TENCENT),
    **dict.fromkeys(("163.com", "126.com", "netease.com", "126.net"), P.NETEASE),
    **dict.fromkeys(("zoho.com", "zoho.eu", "zohomail.com"), P.ZOHO),
    **dict.fromkeys(("protonmail.ch", "proton.me"), P.PROTON),
    **dict.fromkeys(("messagingengine.com",), P.FASTMAIL),
    **dict.fromkeys(("docomo.ne.jp",), P.DOCOMO),
    **dict.fromkeys(("ezweb.ne.jp", "au.com"), P.KDDI),
    **dict.fromkeys(("softbank.ne.jp",), P.SOFTBANK),
}


def _lookup(name: str, table: dict[str, Provider]) -> Provider | None:
    name = name.strip().strip(".").lower()
    while name:
        found = table.get(name)
        if found is not None:
            return found
        dot = name.find(".")
        if dot < 0:
            return None
        name = name[dot + 1 :]
    return None


def provider_of(recipient: str, remote_mta: str | None = None) -> Provider:
    """The provider receiving for `recipient`, using the remote MTA host when known."""
    if remote_mta:
        found = _lookup(remote_mta, HOSTS)
        if found is not None:
            return found
    domain = recipient.rpartition("@")[2]
    return _lookup(domain, DOMAINS) or Provider.OTHER
