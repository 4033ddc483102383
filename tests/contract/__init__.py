"""Contract suites: one set of tests that every implementation of a port must pass."""

import pytest

# The suites live outside test modules; let pytest explain their failed asserts too.
pytest.register_assert_rewrite("tests.contract.store_contract")
