"""Reason agreement with Sisimai on its own wording, one reply at a time.

    python benchmarks/reference.py [--sisimai-lib DIR] [--list N]

Sisimai names a bounce reason by searching the reply text for the phrases of each reason's
module (`Sisimai/Reason/*.pm`: a list of phrases, and lists of words that must appear in order).
This benchmark reads those phrases from the installed library (or the one under
`--sisimai-lib`, a PERL5LIB folder: see `speed.py` for Debian's packages), puts each into a
delivery status notification as the diagnostic of one failed recipient, under several status
codes (none, 5.0.0, 4.0.0, 5.1.1, 5.7.1), and has both Sisimai and `bounced parse` read every
message. It prints how often the two name the same reason, setting by setting, and the most
common disagreements (`--list N` prints the phrases behind the first N).

Nothing here is a sample of real mail: the messages are built at run time from the library's
phrase tables, so the figure says how closely the decision rules follow the reference parser's,
not how well either reads real bounces (`accuracy.py` does that). Debian also has Sisimai 5.3
(`libsisimai-perl_5.3.0-1_all.deb`, unpacked as `speed.py` shows for 5.7), whose tables are
those of the corpus's labels; 5.7 added many phrases and moved some between reasons. Sisimai
5.5 and newer merged and renamed reasons: `ratelimited` counts as agreeing with `speeding` or
`toomanyconn`, and `emailtoolarge` with `mesgtoobig`.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
DRIVER = r"""
use strict; use warnings; use Sisimai;
for my $path (@ARGV) {
    my $v = Sisimai->can('rise') ? Sisimai->rise($path) : Sisimai->make($path);
    print $path, "\t", (($v && @$v) ? $v->[0]->reason : ''), "\n";
}
"""
SETTINGS = ("none", "5.0.0", "4.0.0", "5.1.1", "5.7.1")
RENAMED = {"ratelimited": {"speeding", "toomanyconn"}, "emailtoolarge": {"mesgtoobig"}}
# A Perl string literal, double- or single-quoted.
_LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"|\'([^\'\n]*)\'')
_LIST = re.compile(r"state \$(index|pairs) = \[(.*?)\];\s*$", re.DOTALL | re.MULTILINE)
_COMMENT = re.compile(r"#[^\n]*")
_PAIR = re.compile(r"\[([^\[\]]*)\]")
MESSAGE = """\
From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: sender@example.org
Subject: Undelivered Mail Returned to Sender
Date: Mon, 2 Nov 2026 10:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

This is the mail system at host mx.example.net.

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; user@example.com
Action: failed
{status}Diagnostic-Code: smtp; {diagnostic}

--b
Content-Type: text/rfc822-headers

From: sender@example.org
To: user@example.com
Subject: hello

--b--
"""


def phrases_of(module: Path) -> list[str]:
    """The phrases of one reason module; words that must appear in order are joined by a word."""
    found: list[str] = []
    for kind, written in _LIST.findall(module.read_text(encoding="utf-8", errors="replace")):
        body = _COMMENT.sub("", written)
        if kind == "index":
            found.extend(a or b for a, b in _LITERAL.findall(body))
        else:
            for pair in _PAIR.findall(body):
                words = [a or b for a, b in _LITERAL.findall(pair)]
                if words:
                    found.append(" ".join(" example ".join(words).split()))
    return [p.replace('\\"', '"') for p in found if p.strip()]


def message(phrase: str, setting: str) -> str:
    temporary = setting.startswith("4")
    code = "450" if temporary else "550"
    status = "" if setting == "none" else f"Status: {setting}\n"
    # The phrase between a reply code and a made-up word, so that a phrase that begins or ends
    # with a space (a whole word) is met as it is in a real reply.
    diagnostic = f"{code} {phrase.strip()} xyzzy"
    return MESSAGE.format(status=status, diagnostic=diagnostic)


def sisimai_reasons(perl: str, lib: Path | None, folder: Path, files: list[Path]) -> dict[str, str]:
    driver = folder / "reasons.pl"
    driver.write_text(DRIVER)
    include = ["-I", str(lib)] if lib is not None else []
    out = subprocess.run(
        [perl, *include, str(driver), *map(str, files)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = (line.partition("\t") for line in out.splitlines())
    return {Path(path).name: reason for path, _, reason in rows}


def bounced_reasons(folder: Path) -> dict[str, str]:
    out = subprocess.run(
        [sys.executable, "-m", "bounced", "parse", "--format", "scorer", str(folder)],
        capture_output=True,
        check=True,
    ).stdout
    reasons = {}
    for line in out.splitlines():
        record = orjson.loads(line)
        reasons[Path(record["path"]).name] = record.get("reason") or ""
    return reasons


def agrees(theirs: str, ours: str) -> bool:
    return theirs == ours or ours in RENAMED.get(theirs, ())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sisimai-lib", type=Path, help="a PERL5LIB folder holding Sisimai")
    parser.add_argument("--list", type=int, default=0, metavar="N")
    args = parser.parse_args()
    perl = shutil.which("perl")
    if perl is None:
        print("perl not found", file=sys.stderr)
        return 2
    include = ["-I", str(args.sisimai_lib)] if args.sisimai_lib else []
    probe = subprocess.run(
        [perl, *include, "-MSisimai", "-e", "print $INC{'Sisimai.pm'}, ' ', Sisimai->version"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        print("Sisimai not found (apt-get install libsisimai-perl)", file=sys.stderr)
        return 2
    location, _, version = probe.stdout.partition(" ")
    modules = sorted(Path(location).with_suffix("").joinpath("Reason").glob("*.pm"))
    phrases = [(m.stem.lower(), p) for m in modules for p in phrases_of(m)]
    print(f"Sisimai {version}: {len(phrases)} phrases of {len(modules)} reason modules")
    total_agree = total = 0
    disagreements: Counter[tuple[str, str]] = Counter()
    examples: dict[tuple[str, str], list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="bounced-reference-") as name:
        for setting in SETTINGS:
            folder = Path(name, setting)
            folder.mkdir()
            files = []
            for i, (_, phrase) in enumerate(phrases):
                path = folder / f"{i:05d}.eml"
                path.write_text(message(phrase, setting))
                files.append(path)
            theirs = sisimai_reasons(perl, args.sisimai_lib, Path(name), files)
            ours = bounced_reasons(folder)
            agree = 0
            for i, (_, phrase) in enumerate(phrases):
                key = f"{i:05d}.eml"
                if agrees(theirs[key], ours[key]):
                    agree += 1
                    continue
                pair = (theirs[key] or "(none)", ours[key] or "(none)")
                disagreements[pair] += 1
                examples.setdefault(pair, []).append(f"status {setting}: {phrase!r}")
            total_agree += agree
            total += len(phrases)
            share = agree / len(phrases)
            print(f"status {setting:>5}: same reason {agree}/{len(phrases)} ({share:.1%})")
    print(f"all settings: same reason {total_agree}/{total} ({total_agree / total:.1%})")
    print("most common disagreements (Sisimai -> bounced):")
    for n, (pair, count) in enumerate(disagreements.most_common(15)):
        print(f"  {pair[0]:>16} -> {pair[1]:<16} {count}")
        if n < args.list:
            for line in examples[pair][:10]:
                print(f"      {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
