"""Settings for the whole test run."""

from __future__ import annotations

import os

# `bounced parse`, run in process or as a child by the tests, does not write its regex cache
# into the home folder of whoever runs them; tests/unit/test_regex_cache.py tests it in
# folders of its own.
os.environ.setdefault("BOUNCED_REGEX_CACHE", "0")
