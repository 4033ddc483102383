"""Parse time by kind of input: what one message costs when it is not a typical small bounce.

    python benchmarks/inputs.py [--seed 3] [--runs 5]

A bounce costs about the same whatever its size, since the returned message is hardly read; a
message that no reader knows is searched as a whole, so it costs by its length. This builds one
message of each kind below (from a fixed seed), reads each with `process()` in this process,
and prints the best time of `--runs` rounds, in microseconds and megabytes per second:

- reply-6k, reply-60k: a person's reply to the return path (no bounce), 6 KB and 60 KB;
- html-50k: the same as an HTML message with a style sheet, paragraphs and links;
- attach-1M: a short text with a 1 MB base64 attachment;
- ja-6k: a Japanese reply (text stored two bytes a character);
- bounce-200k: a Postfix DSN returning a 200 KB message.

Run it from the checkout (the pure Python build) or with PYTHONPATH set to a compiled tree
(benchmarks/compiled.py) to see that build.
"""

from __future__ import annotations

import argparse
import base64
import random
import time

from bounced.pipeline import process

WORDS = [
    "thanks", "for", "your", "message", "about", "the", "invoice", "we", "will", "look", "into",
    "it", "and", "get", "back", "to", "you", "soon", "please", "find", "attached", "details",
    "regarding", "our", "meeting", "next", "week",
]  # fmt: skip
JAPANESE = (
    "お世話になっております。請求書の件でご連絡いたしました。来週の会議の詳細を添付いたします。\n"
)
HEADER = (
    "From: Alice Example <alice@example.org>\nTo: bounces@sender.example\n"
    "Subject: Re: your newsletter\nDate: Sun, 29 Nov 2026 10:00:00 +0000\n"
    "Message-ID: <reply@example.org>\n"
)


def _lines(rng: random.Random, count: int) -> str:
    return "\n".join(" ".join(rng.choice(WORDS) for _ in range(12)) for _ in range(count))


def inputs(seed: int) -> dict[str, bytes]:
    """One message of each kind (see the module docstring)."""
    rng = random.Random(seed)
    html = "".join(
        f"<p>{' '.join(rng.choice(WORDS) for _ in range(12))}</p>"
        f"<div><a href='https://www.example.org/{i}'>link</a></div>"
        for i in range(600)
    )
    attachment = base64.encodebytes(rng.randbytes(1_000_000)).decode()
    dsn = (
        "From: MAILER-DAEMON@mx.example.net\nTo: bounces@sender.example\n"
        "Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\n\nThis is the mail system at host mx.example.net.\n\n"
        "<u@example.com>: host mx.example.com said: 550 5.1.1 user unknown (in reply to RCPT "
        "TO command)\n\n--B\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; u@example.com\n"
        "Action: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\n\n"
        "--B\nContent-Type: message/rfc822\n\n" + HEADER + "\n" + _lines(rng, 3000) + "\n--B--\n"
    )
    texts = {
        "reply-6k": HEADER + "\n" + _lines(rng, 90),
        "reply-60k": HEADER + "\n" + _lines(rng, 900),
        "html-50k": HEADER + "MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n"
        "<html><head><style>p{color:red}</style></head><body>" + html + "</body></html>",
        "attach-1M": HEADER + 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n'
        "--b\nContent-Type: text/plain\n\n" + _lines(rng, 10) + "\n--b\n"
        "Content-Type: application/pdf\nContent-Transfer-Encoding: base64\n\n"
        + attachment
        + "\n--b--\n",
        "ja-6k": HEADER
        + "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
        + JAPANESE * 150,
        "bounce-200k": dsn,
    }
    return {name: text.encode() for name, text in texts.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=3, help="seed of the generated texts")
    parser.add_argument("--runs", type=int, default=5, help="rounds; the best is kept")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    messages = inputs(args.seed)
    print(f"{'input':12} {'bytes':>9}  {'kind':11} {'time':>10}  {'speed':>10}")
    for name, raw in messages.items():
        kind = process(raw).report.kind  # also compiles what is compiled on first use
        # Enough reads per round for a steady time, fewer for the big inputs.
        count = max(3, min(500, 2_000_000 // len(raw)))
        best = float("inf")
        for _ in range(args.runs):
            started = time.perf_counter()
            for _ in range(count):
                process(raw)
            best = min(best, (time.perf_counter() - started) / count)
        print(
            f"{name:12} {len(raw):9,}  {kind:11} {best * 1e6:8,.0f} µs  "
            f"{len(raw) / best / 1e6:6.1f} MB/s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
