"""Generated but realistic ESP traffic: delivery records, bounce messages, complaints.

Used by `bounced demo`, the daemon benchmark and the tests. Everything is derived from a seeded
random generator, so a scenario is reproducible. Messages look like what real MTAs send: Postfix
style DSNs (multipart/report with a delivery-status part and the returned headers), Exim style
plain-text bounces, ARF complaints as Yahoo and Comcast send them; replies are the providers'
published wording (Gmail's 4.7.28, Yahoo's TSS04, Microsoft's S3150 and 5.7.606, Orange's OFR
codes...). Return paths and a header carry signed references (bounced.signing), so attribution
can prove who sent each mail. Addresses use the example domains of the providers' real domains
only where the provider is the point (gmail.com, yahoo.com...): local parts are random.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

import orjson

from bounced.signing import Keyring, Reference, header_value, verp_address

VERP_DOMAIN = "bounces.esp.example"
VERP_PREFIX = "b+"


@dataclass(frozen=True, slots=True)
class Reply:
    code: int
    status: str
    text: str


# Provider replies, as the providers publish or send them.
USER_UNKNOWN = {
    "gmail.com": Reply(
        550,
        "5.1.1",
        "The email account that you tried to reach does not exist. "
        "Please try double-checking the recipient's email address for typos or "
        "unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser gsmtp",
    ),
    "outlook.com": Reply(
        550, "5.5.0", "Requested action not taken: mailbox unavailable (S2017062302)."
    ),
    "yahoo.com": Reply(
        554,
        "5.0.0",
        "delivery error: dd This user doesn't have a yahoo.com "
        "account ({rcpt}) [0] - mta1000.mail.gq1.yahoo.com",
    ),
    "orange.fr": Reply(
        550,
        "5.1.1",
        "Adresse d au moins un destinataire invalide. Invalid recipient. OFR_416 [416]",
    ),
    "gmx.de": Reply(550, "5.1.1", "Requested action not taken: mailbox unavailable"),
    "other": Reply(
        550, "5.1.1", "<{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table"
    ),
}
MAILBOX_FULL = Reply(
    452,
    "4.2.2",
    "The email account that you tried to reach is over quota. "
    "Please direct the recipient to https://support.google.com/mail/?p=OverQuota",
)
RATE_LIMIT = {
    "gmail.com": Reply(
        421,
        "4.7.28",
        "Our system has detected an unusual rate of unsolicited "
        "mail originating from your IP address. To protect our users from spam, "
        "mail sent from your IP address has been temporarily rate limited. Please "
        "visit https://support.google.com/mail/?p=UnsolicitedRateLimitError to "
        "review our Bulk Email Senders Guidelines. gsmtp",
    ),
    "yahoo.com": Reply(
        421,
        "4.7.0",
        "[TSS04] Messages from {ip} temporarily deferred due to "
        "unexpected volume or user complaints - 4.16.55.1; see "
        "https://postmaster.yahooinc.com/error-codes",
    ),
    "outlook.com": Reply(
        451,
        "4.7.650",
        "The mail server [{ip}] has been temporarily rate "
        "limited due to IP reputation. For e-mail delivery information, see "
        "https://postmaster.live.com (S775)",
    ),
    "orange.fr": Reply(
        421,
        "4.2.0",
        "mwinf5c10 ME Service refuse. Veuillez essayer plus tard. "
        "Service refused, please try later. OFR005_505 [505]",
    ),
}
BLOCK = {
    "outlook.com": Reply(
        550,
        "5.7.606",
        "Access denied, banned sending IP [{ip}]. To request "
        "removal from this list please visit https://sender.office.com/ and "
        "follow the directions. For more information please go to "
        "http://go.microsoft.com/fwlink/?LinkID=526655 AS(1430)",
    ),
    "other": Reply(
        554,
        "5.7.1",
        "Service unavailable; Client host [{ip}] blocked using "
        "zen.spamhaus.org; https://www.spamhaus.org/query/ip/{ip}",
    ),
}
# A content block, as filters word it (Gmail, Microsoft and appliances say much the same).
CONTENT_BLOCK = Reply(
    550,
    "5.7.1",
    "Our system has detected that this message is likely unsolicited mail. To reduce the amount "
    "of spam, this message has been blocked.",
)
MX = {
    "gmail.com": "gmail-smtp-in.l.google.com",
    "outlook.com": "outlook-com.olc.protection.outlook.com",
    "hotmail.com": "hotmail-com.olc.protection.outlook.com",
    "yahoo.com": "mta5.am0.yahoodns.net",
    "orange.fr": "smtp-in.orange.fr",
    "gmx.de": "mx00.emig.gmx.net",
    "mail.ru": "mxs.mail.ru",
}
PROVIDER_DOMAINS = (
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "orange.fr",
    "gmx.de",
    "mail.ru",
    "corp.example",
    "shop.example.net",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Client:
    name: str
    ips: tuple[str, ...]
    pool: str
    invalid_share: float  # share of its list that does not exist
    complaint_share: float


@dataclass(slots=True)
class Outbound:
    """One mail the ESP sent, and what became of it."""

    client: Client
    campaign: str
    ip: str
    recipient: str
    message_id: str
    sent_at: float


@dataclass(slots=True)
class Traffic:
    """Records to produce, by input topic role: bounces, complaints, deliveries."""

    bounces: list[bytes] = field(default_factory=list)
    complaints: list[bytes] = field(default_factory=list)
    deliveries: list[bytes] = field(default_factory=list)


DEMO_CLIENTS = (
    Client(
        name="acme",
        ips=("192.0.2.10", "192.0.2.11"),
        pool="grid",
        invalid_share=0.02,
        complaint_share=0.001,
    ),
    Client(
        name="bargain",
        ips=("198.51.100.20",),
        pool="dedicated",
        invalid_share=0.25,
        complaint_share=0.01,
    ),
    Client(
        name="newco",
        ips=("203.0.113.30",),
        pool="dedicated",
        invalid_share=0.05,
        complaint_share=0.02,
    ),
)


class Generator:
    """Makes messages and records for a scenario, from a seed and a keyring."""

    def __init__(self, keyring: Keyring, seed: int = 1) -> None:
        self.keyring = keyring
        self.rng = random.Random(seed)
        self.count = 0

    # -- addresses and ids ---------------------------------------------------------------

    def recipient(self) -> str:
        domain = self.rng.choice(PROVIDER_DOMAINS)
        first = self.rng.choice(("ana", "ben", "chloe", "dmitri", "eva", "farid", "gus", "hana"))
        return f"{first}.{self.rng.randrange(10**6):06d}@{domain}"

    def outbound(self, client: Client, campaign: str, when: float) -> Outbound:
        self.count += 1
        return Outbound(
            client=client,
            campaign=campaign,
            ip=self.rng.choice(client.ips),
            recipient=self.recipient(),
            message_id=f"{self.count:08x}.{client.name}@mta.esp.example",
            sent_at=when,
        )

    def return_path(self, out: Outbound) -> str:
        ref = Reference(client=out.client.name, campaign=out.campaign, recipient=out.recipient)
        return verp_address(self.keyring, ref, prefix=VERP_PREFIX, domain=VERP_DOMAIN)

    def ref_header(self, out: Outbound) -> str:
        ref = Reference(
            client=out.client.name,
            campaign=out.campaign,
            pool=out.client.pool,
            sending_ip=out.ip,
            message_id=out.message_id,
            recipient=out.recipient,
        )
        return header_value(self.keyring, ref)

    # -- delivery records ------------------------------------------------------------------

    def record(self, out: Outbound, event: str, reply: Reply | None, when: float) -> bytes:
        domain = out.recipient.rpartition("@")[2]
        doc: dict[str, object] = {
            "event": event,
            "timestamp": datetime.fromtimestamp(when, UTC).isoformat().replace("+00:00", "Z"),
            "recipient": out.recipient,
            "client": out.client.name,
            "campaign": out.campaign,
            "sending_ip": out.ip,
            "pool": out.client.pool,
            "receiving_domain": domain,
            "mx_host": MX.get(domain, f"mx.{domain}"),
            "message_id": out.message_id,
        }
        if reply is None:
            doc.update(reply_code=250, enhanced_status="2.0.0", reply_text="250 2.0.0 OK queued")
        else:
            text = reply.text.format(ip=out.ip, rcpt=out.recipient)
            doc.update(
                reply_code=reply.code,
                enhanced_status=reply.status,
                reply_text=f"{reply.code} {reply.status} {text}",
            )
        return orjson.dumps(doc)

    # -- messages --------------------------------------------------------------------------

    def _original_headers(self, out: Outbound) -> str:
        date = format_datetime(datetime.fromtimestamp(out.sent_at, UTC))
        return (
            f"Return-Path: <{self.return_path(out)}>\n"
            f"Received: from mta.esp.example (mta.esp.example [{out.ip}])\n"
            f"\tby mx.recipient.example with ESMTPS; {date}\n"
            f"From: {out.client.name.title()} <news@{out.client.name}.example>\n"
            f"To: <{out.recipient}>\n"
            f"Subject: Our offers for you\n"
            f"Date: {date}\n"
            f"Message-ID: <{out.message_id}>\n"
            f"X-Bounced-Ref: {self.ref_header(out)}\n"
            f"MIME-Version: 1.0\n"
            f"Content-Type: text/plain; charset=utf-8\n"
        )

    def dsn(self, out: Outbound, reply: Reply, when: float, *, action: str = "failed") -> bytes:
        """A Postfix-style DSN for an asynchronous bounce of `out`."""
        domain = out.recipient.rpartition("@")[2]
        mx = MX.get(domain, f"mx.{domain}")
        boundary = f"{self.rng.getrandbits(48):012X}.{int(when)}/mta.esp.example"
        text = reply.text.format(ip=out.ip, rcpt=out.recipient)
        date = format_datetime(datetime.fromtimestamp(when, UTC))
        subject = (
            "Undelivered Mail Returned to Sender"
            if action == "failed"
            else "Delayed Mail (still being retried)"
        )
        return (
            f"Return-Path: <>\n"
            f"X-Original-To: {self.return_path(out)}\n"
            f"Delivered-To: {self.return_path(out)}\n"
            f"Date: {date}\n"
            f"From: MAILER-DAEMON@mta.esp.example (Mail Delivery System)\n"
            f"Subject: {subject}\n"
            f"To: {self.return_path(out)}\n"
            f"Auto-Submitted: auto-replied\n"
            f"MIME-Version: 1.0\n"
            f"Content-Type: multipart/report; report-type=delivery-status;\n"
            f'\tboundary="{boundary}"\n'
            f"Message-Id: <{self.rng.getrandbits(64):016x}@mta.esp.example>\n\n"
            f"This is a MIME-encapsulated message.\n\n"
            f"--{boundary}\n"
            f"Content-Description: Notification\nContent-Type: text/plain; charset=us-ascii\n\n"
            f"This is the mail system at host mta.esp.example.\n\n"
            f"I'm sorry to have to inform you that your message could not\n"
            f"be delivered to one or more recipients. It's attached below.\n\n"
            f"<{out.recipient}>: host {mx}[192.0.2.200] said: {reply.code}\n"
            f"    {reply.status} {text} (in reply to RCPT TO command)\n\n"
            f"--{boundary}\n"
            f"Content-Description: Delivery report\nContent-Type: message/delivery-status\n\n"
            f"Reporting-MTA: dns; mta.esp.example\nArrival-Date: {date}\n\n"
            f"Final-Recipient: rfc822; {out.recipient}\n"
            f"Original-Recipient: rfc822;{out.recipient}\n"
            f"Action: {action}\nStatus: {reply.status}\nRemote-MTA: dns; {mx}\n"
            f"Diagnostic-Code: smtp; {reply.code} {reply.status} {text}\n\n"
            f"--{boundary}\n"
            f"Content-Description: Undelivered Message Headers\n"
            f"Content-Type: text/rfc822-headers\n\n"
            f"{self._original_headers(out)}\n"
            f"--{boundary}--\n"
        ).encode()

    def forged_dsn(self, recipient: str, when: float) -> bytes:
        """A bounce anyone could send: it names `recipient` as unknown but carries none of our
        references (no VERP return path, no signed header), as a forger or backscatter would."""
        domain = recipient.rpartition("@")[2]
        reply = USER_UNKNOWN.get(domain, USER_UNKNOWN["other"])
        text = reply.text.format(ip="192.0.2.250", rcpt=recipient)
        date = format_datetime(datetime.fromtimestamp(when, UTC))
        boundary = f"{self.rng.getrandbits(48):012X}.{int(when)}/mx.forger.example"
        return (
            f"Return-Path: <>\n"
            f"Date: {date}\n"
            f"From: MAILER-DAEMON@mx.forger.example (Mail Delivery System)\n"
            f"Subject: Undelivered Mail Returned to Sender\n"
            f"To: postmaster@{VERP_DOMAIN}\n"
            f"MIME-Version: 1.0\n"
            f"Content-Type: multipart/report; report-type=delivery-status;\n"
            f'\tboundary="{boundary}"\n\n'
            f"--{boundary}\n"
            f"Content-Type: text/plain; charset=us-ascii\n\n"
            f"<{recipient}>: host mx.{domain} said: {reply.code} {reply.status} {text}\n\n"
            f"--{boundary}\n"
            f"Content-Type: message/delivery-status\n\n"
            f"Reporting-MTA: dns; mx.forger.example\n\n"
            f"Final-Recipient: rfc822; {recipient}\n"
            f"Action: failed\nStatus: {reply.status}\n"
            f"Diagnostic-Code: smtp; {reply.code} {reply.status} {text}\n\n"
            f"--{boundary}\n"
            f"Content-Type: text/rfc822-headers\n\n"
            f"From: News <news@shop.example>\nTo: <{recipient}>\nSubject: Offers\n"
            f"Message-ID: <{self.rng.getrandbits(64):016x}@forger.example>\n\n"
            f"--{boundary}--\n"
        ).encode()

    def exim_bounce(self, out: Outbound, reply: Reply, when: float) -> bytes:
        """An Exim-style plain-text bounce (no delivery-status part)."""
        domain = out.recipient.rpartition("@")[2]
        text = reply.text.format(ip=out.ip, rcpt=out.recipient)
        date = format_datetime(datetime.fromtimestamp(when, UTC))
        return (
            f"Return-path: <>\n"
            f"Envelope-to: {self.return_path(out)}\n"
            f"Delivery-date: {date}\n"
            f"From: Mail Delivery System <Mailer-Daemon@relay.esp.example>\n"
            f"To: {self.return_path(out)}\n"
            f"Subject: Mail delivery failed: returning message to sender\n"
            f"Date: {date}\n"
            f"Auto-Submitted: auto-replied\n\n"
            f"This message was created automatically by mail delivery software.\n\n"
            f"A message that you sent could not be delivered to one or more of its\n"
            f"recipients. This is a permanent error. The following address(es) failed:\n\n"
            f"  {out.recipient}\n"
            f"    host mx.{domain} [192.0.2.201]\n"
            f"    SMTP error from remote mail server after RCPT TO:<{out.recipient}>:\n"
            f"    {reply.code} {reply.status} {text}\n\n"
            f"------ This is a copy of the message, including all the headers. ------\n\n"
            f"{self._original_headers(out)}\n"
            f"Hello!\n"
        ).encode()

    def complaint(self, out: Outbound, when: float) -> bytes:
        """An ARF (RFC 5965) complaint as a mailbox provider's feedback loop sends it."""
        boundary = f"ARF{self.rng.getrandbits(40):010x}"
        date = format_datetime(datetime.fromtimestamp(when, UTC))
        return (
            f"From: Feedback Loop <feedback@fbl.provider.example>\n"
            f"To: fbl@esp.example\n"
            f"Subject: FW: Our offers for you\n"
            f"Date: {date}\n"
            f"MIME-Version: 1.0\n"
            f"Content-Type: multipart/report; report-type=feedback-report;\n"
            f'\tboundary="{boundary}"\n\n'
            f"--{boundary}\nContent-Type: text/plain; charset=us-ascii\n\n"
            f"This is an email abuse report for an email message received from IP {out.ip}.\n\n"
            f"--{boundary}\nContent-Type: message/feedback-report\n\n"
            f"Feedback-Type: abuse\nUser-Agent: ProviderFBL/1.0\nVersion: 1\n"
            f"Original-Mail-From: <{self.return_path(out)}>\n"
            f"Original-Rcpt-To: <{out.recipient}>\n"
            f"Arrival-Date: {date}\nSource-IP: {out.ip}\n"
            f"Reported-Domain: {out.client.name}.example\n\n"
            f"--{boundary}\nContent-Type: message/rfc822\nContent-Disposition: inline\n\n"
            f"{self._original_headers(out)}\nHello!\n\n"
            f"--{boundary}--\n"
        ).encode()

    def malformed(self) -> Iterator[tuple[str, bytes]]:
        """Inputs that must be dead-lettered: (topic role, value)."""
        yield "bounces", bytes(self.rng.getrandbits(8) for _ in range(200)).replace(b":", b";")
        yield "bounces", b"Subject: " + b"x" * 300_000 + b"\n\nbody\n"
        yield "deliveries", b'{"event": "delivered", "timestamp": "yesterday"}'
        yield "deliveries", b"not json at all"
        yield "complaints", b""


def demo_traffic(keyring: Keyring, *, seed: int = 7, mails: int = 600, start: float) -> Traffic:
    """A few campaigns from three clients, with every kind of outcome and a few bad inputs."""
    gen = Generator(keyring, seed)
    rng = gen.rng
    out = Traffic()
    when = start
    for n in range(mails):
        client = DEMO_CLIENTS[n % len(DEMO_CLIENTS)]
        mail = gen.outbound(client, f"c{1 + n // 200}", when)
        domain = mail.recipient.rpartition("@")[2]
        when += 0.5
        roll = rng.random()
        if roll < client.invalid_share:
            reply = USER_UNKNOWN.get(domain, USER_UNKNOWN["other"])
            if rng.random() < 0.5:  # refused during the SMTP session: the MTA logs it
                out.deliveries.append(gen.record(mail, "bounced", reply, when))
            else:  # accepted by a relay, bounced later: a DSN comes back
                out.deliveries.append(gen.record(mail, "delivered", None, when))
                maker = gen.dsn if rng.random() < 0.7 else gen.exim_bounce
                out.bounces.append(maker(mail, reply, when + 60))
        elif domain in RATE_LIMIT and client.name == "acme" and roll < 0.12:
            out.deliveries.append(gen.record(mail, "deferred", RATE_LIMIT[domain], when))
        elif client.name == "bargain" and domain in ("outlook.com", "corp.example") and roll < 0.6:
            out.deliveries.append(
                gen.record(mail, "bounced", BLOCK.get(domain, BLOCK["other"]), when)
            )
        elif roll > 1 - 0.03:
            out.deliveries.append(gen.record(mail, "deferred", MAILBOX_FULL, when))
            out.bounces.append(gen.dsn(mail, MAILBOX_FULL, when + 3600, action="delayed"))
        else:
            out.deliveries.append(gen.record(mail, "delivered", None, when))
            if rng.random() < client.complaint_share * 3:
                out.complaints.append(gen.complaint(mail, when + 7200))
    if out.bounces:
        out.bounces.append(out.bounces[0])  # the same bounce delivered twice counts once
    for role, value in gen.malformed():
        getattr(out, role).append(value)
    return out
