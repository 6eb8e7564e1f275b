"""The growing delay, as a schedule: free mistakes, then 2^(n-3) seconds, capped."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from idp.auth.services import failure_delay, seconds_to_wait

NOW = datetime(2026, 3, 2, 9, 0, 0)


@pytest.mark.parametrize("failures, delay", [
    (0, 0), (1, 0), (2, 0), (3, 1), (4, 2), (5, 4), (6, 8), (7, 16), (8, 32), (9, 60), (10, 60), (10_000, 60),
])
def test_three_mistakes_are_free_then_the_delay_doubles_up_to_a_minute(failures, delay):
    assert failure_delay(failures, cap=60) == delay


def test_the_wait_counts_from_the_last_failure():
    last = NOW - timedelta(seconds=5)
    assert seconds_to_wait(7, last, NOW, cap=60, window=900) == 11
    assert seconds_to_wait(7, last, NOW + timedelta(seconds=11), cap=60, window=900) == 0


def test_failures_are_forgotten_after_the_window_of_quiet():
    assert seconds_to_wait(50, NOW - timedelta(seconds=900), NOW, cap=60, window=900) == 0
    assert seconds_to_wait(50, NOW - timedelta(seconds=30), NOW, cap=60, window=900) == 30
