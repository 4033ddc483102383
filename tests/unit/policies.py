"""Policies for tests about the daemon's mechanics rather than about the policy's rules."""

from __future__ import annotations

from dataclasses import replace

from bounced.policy.config import PolicyConfig, default_policy
from bounced.policy.reputation import ReputationPolicy


def trusting_config() -> PolicyConfig:
    """The default policy, except that a bounce without a signed reference suppresses its
    address globally at once: the fixture messages carry no reference."""
    policy = default_policy()
    return replace(policy, attribution=replace(policy.attribution, unverified_global="suppress"))


def trusting() -> ReputationPolicy:
    return ReputationPolicy(trusting_config())
