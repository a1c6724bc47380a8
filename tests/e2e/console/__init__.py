"""Helpers of the web console's browser tests (tests/e2e/test_console*.py)."""
