"""What counts against the throttle: failed sign-ins per username and per client address,
and sign-ups per client address.

Per username stops guessing one account's password from many addresses; per address stops
one client from trying many accounts. Only failures count for sign-ins, so a user who types
their password right is never held back by the limit. Each attempt is counted in the same
atomic step as the check, and taken back if it did not fail, so that attempts racing each
other never get past a limit together.
"""

from __future__ import annotations

import math
import secrets
from types import TracebackType

from pinsphere.errors import AuthenticationError
from pinsphere_http.context import ServiceContext
from pinsphere_http.problems import ProblemError

__all__ = ["LoginAttempt", "check_signup_allowed"]


def _refuse(retry_after: float) -> ProblemError:
    seconds = max(1, math.ceil(retry_after))
    return ProblemError(
        429,
        "too-many-attempts",
        "too many attempts; try again later",
        headers={"Retry-After": str(seconds)},
    )


class LoginAttempt:
    """One sign-in attempt, counted before the password is checked and kept only if it fails.

    Used around the password check::

        with LoginAttempt(context, username, address, reset_on_success=True):
            user = context.store.users.authenticate(username, password)

    Entering counts the attempt against the username and the address in one atomic step, or
    refuses it (429) when either is at its limit. Counting before the check rather than
    after a failure keeps the limit exact: otherwise attempts in flight together (threads of
    one worker, or several workers sharing a throttle) would all pass the check before any
    failure was counted, each guessing one more password than the limit allows.

    Leaving with :class:`~pinsphere.errors.AuthenticationError` keeps the count: a failure.
    Leaving any other way takes it back, so only failures count and a user who types their
    password right is never held back; a success with ``reset_on_success`` also clears the
    username's failures (the address keeps its count, so that one good account cannot be
    used to reset the counter while guessing others).

    Args:
        context: The service.
        username: The name tried (compared case-insensitively, as the store does).
        address: The client's address.
        reset_on_success: Clear the username's failures after a success.
    """

    def __init__(
        self,
        context: ServiceContext,
        username: str,
        address: str,
        *,
        reset_on_success: bool = False,
    ) -> None:
        self._throttle = context.throttle
        settings = context.settings
        self._user_key = f"login:user:{username.casefold()}"
        self._address_key = f"login:addr:{address}"
        self._limits = {
            self._user_key: settings.login_failures_per_user,
            self._address_key: settings.login_failures_per_address,
        }
        self._reset_on_success = reset_on_success
        self._event = secrets.token_hex(8)

    def __enter__(self) -> LoginAttempt:
        """Count the attempt, or refuse it when a limit is reached.

        Raises:
            ProblemError: 429 with ``Retry-After``.
        """
        wait = self._throttle.acquire(self._limits, self._event)
        if wait is not None:
            raise _refuse(wait)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if isinstance(error, AuthenticationError):
            return
        if error is None and self._reset_on_success:
            self._throttle.reset(self._user_key)
            self._throttle.release([self._address_key], self._event)
        else:
            self._throttle.release(self._limits, self._event)


def check_signup_allowed(context: ServiceContext, address: str) -> None:
    """Count a sign-up attempt from ``address``, refusing it over the limit.

    Raises:
        ProblemError: 429 with ``Retry-After``.
    """
    key = f"signup:addr:{address}"
    # Checked and counted in one step, so that simultaneous sign-ups cannot overshoot.
    limits = {key: context.settings.signups_per_address}
    wait = context.throttle.acquire(limits, secrets.token_hex(8))
    if wait is not None:
        raise _refuse(wait)
