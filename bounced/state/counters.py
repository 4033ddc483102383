"""Counters in time buckets: what happened, per subject, per five minutes.

Rule 1: every signal counts once under its category (hard, soft, block, rate, auth, complaint,
...) for each subject it is attributed to with proof (`Attribution.verified`: a signed reference
or the ESP's own delivery log): the client, the sending IP, client x provider and IP x provider.
Signals without proof count nowhere: a forged or misattributed bounce never moves anyone's
reputation (it may still suppress an address; see bounced/policy/suppression.py).
Rule 2: every delivery record counts as sent and delivered, sent and bounced, or deferred, for the
same subjects; its reply, if any, is also a signal and counts under rule 1.
Rule 3: mail to a known spam trap counts as a `trap` hit for the same subjects; which addresses
are traps is policy (bounced/policy), so the policy adds these deltas (`deltas_for_trap`).
Buckets are `BUCKET_SECONDS` wide and keyed by their number (epoch seconds // width), so rolling
windows of 1 h, 24 h and 7 d are sums over a range of buckets.
"""

from __future__ import annotations

from bounced.classify.providers import provider_of
from bounced.model import Signal
from bounced.records import DeliveryEvent, DeliveryRecord
from bounced.store.ports import CounterDelta

BUCKET_SECONDS = 300


def bucket_of(epoch: float) -> int:
    """The bucket number of a time."""
    return int(epoch) // BUCKET_SECONDS


def subjects(client: str | None, ip: str | None, provider: str) -> list[tuple[str, str]]:
    """The (scope, key) pairs a fact counts under."""
    out: list[tuple[str, str]] = []
    if client:
        out.append(("client", client))
        out.append(("client_provider", f"{client}|{provider}"))
    if ip:
        out.append(("ip", ip))
        out.append(("ip_provider", f"{ip}|{provider}"))
    return out


def deltas_for_signal(signal: Signal, when: float) -> list[CounterDelta]:
    """Counter increments for one signal (none without proof of who sent the mail)."""
    who = signal.attribution
    if not who.verified:
        return []
    bucket = bucket_of(when)
    metric = str(signal.category)
    return [
        CounterDelta(scope=scope, key=key, bucket=bucket, metric=metric, delta=1)
        for scope, key in subjects(who.client, who.sending_ip, signal.provider)
    ]


RECORD_METRICS: dict[DeliveryEvent, tuple[str, ...]] = {
    DeliveryEvent.DELIVERED: ("sent", "delivered"),
    DeliveryEvent.BOUNCED: ("sent", "bounced"),
    DeliveryEvent.DEFERRED: ("deferred",),
}


def deltas_for_record(record: DeliveryRecord) -> list[CounterDelta]:
    """Counter increments for one delivery record."""
    provider = provider_of(record.recipient, record.mx_host)
    bucket = bucket_of(record.timestamp)
    return [
        CounterDelta(scope=scope, key=key, bucket=bucket, metric=metric, delta=1)
        for scope, key in subjects(record.client, record.sending_ip, provider)
        for metric in RECORD_METRICS[record.event]
    ]


def deltas_for_trap(
    client: str | None, ip: str | None, provider: str, when: float
) -> list[CounterDelta]:
    """Counter increments for one spam-trap hit."""
    bucket = bucket_of(when)
    return [
        CounterDelta(scope=scope, key=key, bucket=bucket, metric="trap", delta=1)
        for scope, key in subjects(client, ip, provider)
    ]
