"""Login rules: the growing delay after failed attempts.

Brute force is slowed down in three layers, from the cheapest:

1. Flask-Limiter, per client address (``IDP_LOGIN_LIMIT_PER_ADDRESS``) and
   per account named in the form (``IDP_LOGIN_LIMIT_PER_ACCOUNT``), checked
   before the view runs: a flood is answered 429 without touching the
   database or computing an argon2 hash.
2. A growing delay per account: after three consecutive failures, further
   attempts are refused for 2^(n-3) seconds, capped (``IDP_LOGIN_DELAY_CAP``,
   60 s). The refusal is immediate: nothing sleeps, so a guessing campaign
   never holds a worker thread or a database connection (a ``sleep`` in the
   view would let a few hundred slow requests exhaust the pool for everyone).
3. Browsers that already logged in to an account ("known browsers", see
   ``idp.auth.throttle``) are exempt from the per-account delay and limits
   and get their own per-browser budget instead.

Why an attacker cannot lock a real user out for long: the delay is capped at
a minute and counts only real failures (refused attempts do not extend it);
the failures are forgotten after ``IDP_LOGIN_FAILURE_WINDOW`` of quiet; one
success resets them; the per-address limits make one source hammer slowly;
and the user's own browser, being known, is not subject to the per-account
delay or limits at all, so someone else's failures never lock him out there.

Unknown logins get exactly the same treatment, counted in the rate-limit
storage instead of the ``users`` row, so the delay does not tell whether an
account exists.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta

# The first failures are free: people mistype.
FREE_FAILURES = 3


def failure_delay(failures: int, cap: int) -> int:
    """Seconds to refuse attempts after ``failures`` consecutive failures."""
    if failures < FREE_FAILURES:
        return 0
    exponent = failures - FREE_FAILURES
    # 2**exponent grows without bound; compare before computing it.
    return cap if exponent >= cap.bit_length() else min(2 ** exponent, cap)


def active_failures(failures: int, last_failure_at: datetime | None, now: datetime, window: int) -> int:
    """Consecutive failures still remembered: forgotten after ``window`` seconds of quiet."""
    if not failures or last_failure_at is None or last_failure_at <= now - timedelta(seconds=window):
        return 0
    return failures


def seconds_to_wait(failures: int, last_failure_at: datetime | None, now: datetime, *, cap: int,
                    window: int) -> int:
    """Whole seconds before another attempt is allowed (0: allowed now)."""
    failures = active_failures(failures, last_failure_at, now, window)
    delay = failure_delay(failures, cap)
    if not delay:
        return 0
    remaining = (last_failure_at + timedelta(seconds=delay) - now).total_seconds()
    return max(0, math.ceil(remaining))


def account_wait(user, now: datetime, *, cap: int, window: int) -> int:
    """Seconds the account ``user`` must wait before another attempt."""
    return seconds_to_wait(user.failed_logins, user.last_failed_login_at, now, cap=cap, window=window)


def record_account_failure(user, now: datetime, *, window: int) -> int:
    """Count a failed attempt (password or second factor) on ``user``; the caller commits."""
    user.failed_logins = active_failures(user.failed_logins, user.last_failed_login_at, now, window) + 1
    user.last_failed_login_at = now
    return user.failed_logins


def record_account_success(user) -> None:
    """A complete login resets the count; ``last_failed_login_at`` stays as history."""
    user.failed_logins = 0
