"""Which account an identity from a sign-in provider signs in to.

Only an e-mail the provider vouches for is trusted, and it links to the account with that
e-mail; without one, a password-less account is created. Accounts get e-mails only from
administrators or from such verified sign-ins (self sign-up takes none), so nobody can claim
an address ahead of its owner and be linked to their Google sign-in.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

from pinsphere import PinStore, User
from pinsphere.errors import AuthenticationError, Conflict, NotFound, PermissionDenied
from pinsphere_http.oidc import VerifiedIdentity

__all__ = ["account_for"]

_NOT_NAME = re.compile(r"[^\w.-]+")
_ATTEMPTS = 5


def _username_from(email: str) -> str:
    local = unicodedata.normalize("NFC", email.split("@", 1)[0])
    name = _NOT_NAME.sub("-", local).strip("._-")[:50]
    return name or "user"


def account_for(store: PinStore, identity: VerifiedIdentity) -> User:
    """The account the identity signs in to, created if there is none.

    Raises:
        PermissionDenied: The provider does not vouch for an e-mail.
        AuthenticationError: The linked account is disabled.
    """
    if not identity.email or not identity.email_verified:
        raise PermissionDenied("the sign-in provider did not confirm an e-mail address")
    email = identity.email
    try:
        user = store.users.find_by_email(email)
    except NotFound:
        user = _create(store, email)
    if user.disabled:
        raise AuthenticationError("the account is disabled")
    return user


def _create(store: PinStore, email: str) -> User:
    base = _username_from(email)
    for attempt in range(_ATTEMPTS):
        name = base if attempt == 0 else f"{base}-{secrets.randbelow(10_000):04d}"
        try:
            return store.users.create(name, password=None, email=email, role="member")
        except Conflict:
            try:
                # Another sign-in with the same e-mail may have won the race.
                return store.users.find_by_email(email)
            except NotFound:
                continue  # the username was taken: try a suffixed one
    raise Conflict("could not choose a username; ask an administrator to create the account")
