"""What counts against the throttle: failed sign-ins per username and per client address,
and sign-ups per client address.

Per username stops guessing one account's password from many addresses; per address stops
one client from trying many accounts. Only failures count for sign-ins, so a user who types
their password right is never held back by the limit.
"""

from __future__ import annotations

import math

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
    """One sign-in attempt, checked before the password is and recorded after.

    Args:
        context: The service.
        username: The name tried (compared case-insensitively, as the store does).
        address: The client's address.
    """

    def __init__(self, context: ServiceContext, username: str, address: str) -> None:
        self._throttle = context.throttle
        settings = context.settings
        self._limits = (
            (f"login:user:{username.casefold()}", settings.login_failures_per_user),
            (f"login:addr:{address}", settings.login_failures_per_address),
        )

    def check(self) -> None:
        """Refuse the attempt when a limit is reached.

        Raises:
            ProblemError: 429 with ``Retry-After``.
        """
        waits = [self._throttle.retry_after(key, limit) for key, limit in self._limits]
        longest = max((wait for wait in waits if wait is not None), default=None)
        if longest is not None:
            raise _refuse(longest)

    def failed(self) -> None:
        """Count a failure against the username and the address."""
        for key, _ in self._limits:
            self._throttle.hit(key)

    def succeeded(self) -> None:
        """Clear the username's failures; the address keeps its count, so that one good
        account cannot be used to reset the counter while guessing others."""
        self._throttle.reset(self._limits[0][0])


def check_signup_allowed(context: ServiceContext, address: str) -> None:
    """Count a sign-up attempt from ``address``, refusing it over the limit.

    Raises:
        ProblemError: 429 with ``Retry-After``.
    """
    key = f"signup:addr:{address}"
    wait = context.throttle.retry_after(key, context.settings.signups_per_address)
    if wait is not None:
        raise _refuse(wait)
    context.throttle.hit(key)
