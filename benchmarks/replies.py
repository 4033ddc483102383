"""Real SMTP replies of large receivers, read as the DSNs they arrive in: where each one lands.

    python benchmarks/replies.py [--replies FILE] [--show N]

Each reply of the file (one JSON object per line with `response`, `reply`, `status`, `provider`
and a severity from 0 to 4 for the sender) is put in a minimal RFC 3464 DSN, addressed to a
mailbox of its provider with one of the provider's inbound hosts as Remote-MTA, and read by the
parser and the classifier as any bounce is. Prints the
categories found per severity, and how many of the replies that speak of the sender (severity
2 and up: rate limits, reputation, blocks, authentication) were read as the sender's problem
(`block`, `rate` or `auth`) rather than the address's (`hard`) or nobody's (`soft`).
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_REPLIES = (
    HERE.parent.parent / "shared" / "corpus" / "extra" / "provider_replies_smtp-field-manual.jsonl"
)
# Receiving domain and an inbound MX host name of each provider the file names (from their MX
# records), as a DSN's Remote-MTA field names it; others get "<provider>.example".
DOMAINS = {
    "google": ("gmail.com", "gmail-smtp-in.l.google.com"),
    "outlook": ("outlook.com", "outlook-com.olc.protection.outlook.com"),
    "yahoo": ("yahoo.com", "mta7.am0.yahoodns.net"),
    "aol": ("aol.com", "mx-aol.mail.gm0.yahoodns.net"),
    "apple": ("icloud.com", "mx01.mail.icloud.com"),
    "comcast": ("comcast.net", "mx1a1.comcast.net"),
    "att": ("att.net", "ff-ip4-mx-vip1.prodigy.net"),
    "yandex": ("yandex.ru", "mx.yandex.ru"),
    "mailru": ("mail.ru", "mxs.mail.ru"),
    "rambler": ("rambler.ru", "mx.rambler.ru"),
    "zoho": ("zoho.com", "mx.zoho.com"),
    "free": ("free.fr", "mx1.free.fr"),
    "orange": ("orange.fr", "smtp-in.orange.fr"),
    "sfr": ("sfr.fr", "mx1.sfr.fr"),
    "laposte": ("laposte.net", "smtpz4.laposte.net"),
    "gmx": ("gmx.de", "mx00.emig.gmx.net"),
    "webde": ("web.de", "mx-ha02.web.de"),
    "qq": ("qq.com", "mx1.qq.com"),
}
SENDER_SIDE = {"block", "rate", "auth"}
_CODE = re.compile(r"[245]\.\d{1,3}\.\d{1,3}")


def dsn_of(row: dict[str, Any]) -> bytes:
    """A minimal DSN carrying one reply, as an MTA that got it would write it."""
    text = re.sub(r"^smtp;\s*", "", str(row["response"]), flags=re.IGNORECASE)
    text = " ".join(text.split())
    provider = str(row["provider"])
    domain, host = DOMAINS.get(provider, (f"{provider}.example", f"mx.{provider}.example"))
    reply = str(row.get("reply") or "")
    status = str(row.get("status") or "")
    if not _CODE.fullmatch(status):
        status = "4.0.0" if reply.startswith("4") else "5.0.0"
    action = "delayed" if status.startswith("4") else "failed"
    return (
        "From: Mail Delivery System <MAILER-DAEMON@relay.sender.example>\n"
        "To: bounces@sender.example\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\n\nDelivery to the following recipient failed.\n\n"
        "--B\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; relay.sender.example\n\n"
        f"Final-Recipient: rfc822; user@{domain}\nAction: {action}\nStatus: {status}\n"
        f"Remote-MTA: dns; {host}\nDiagnostic-Code: smtp; {text}\n\n--B--\n"
    ).encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=Path, default=DEFAULT_REPLIES)
    parser.add_argument("--show", type=int, default=20, help="sender-side misreadings to list")
    args = parser.parse_args()
    if not args.replies.is_file():
        print(f"no replies file at {args.replies}", file=sys.stderr)
        return 2
    from bounced.errors import ParseError
    from bounced.pipeline import process

    rows = [json.loads(line) for line in args.replies.read_text().splitlines() if line.strip()]
    table: dict[int, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    missed: list[str] = []
    for row in rows:
        severity = int(row["severity_0to4"])
        try:
            signals = process(dsn_of(row)).signals
        except ParseError as exc:
            table[severity][f"error:{exc.code}"] += 1
            continue
        category = signals[0].category.value if signals else "none"
        table[severity][category] += 1
        if severity >= 2 and category not in SENDER_SIDE:
            reason = signals[0].reason.value if signals else "-"
            missed.append(f"    sev {severity} {category}/{reason}: {row['response'][:110]}")
    print(f"{len(rows)} replies from {args.replies.name}")
    print("severity  categories")
    for severity in sorted(table):
        counts = ", ".join(f"{name} {n}" for name, n in table[severity].most_common())
        print(f"{severity:>8}  {counts}")
    sender = sum(n for s, c in table.items() if s >= 2 for n in c.values())
    read = sum(n for s, c in table.items() if s >= 2 for k, n in c.items() if k in SENDER_SIDE)
    if sender:
        print(f"sender-side replies (severity >= 2) read as block/rate/auth: {read}/{sender}")
    for line in missed[: args.show]:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
