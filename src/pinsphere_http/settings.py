"""Settings of the HTTP service, read from ``PINSPHERE_*`` environment variables.

They only shape the HTTP face; what the store accepts (upload limits, page sizes, password
hashing) stays in :class:`pinsphere.StoreSettings`.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from pinsphere_http.throttle import THROTTLE_SCHEMES

__all__ = ["HTTPSettings"]

MIB = 1024 * 1024

GOOGLE_DISCOVERY_URL = "https://accounts.google.com/.well-known/openid-configuration"


def _split_commas(value: object) -> object:
    # Lists come from the environment as "a, b, c", which reads better than JSON in a unit file.
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class HTTPSettings(BaseSettings):
    """How the REST service behaves.

    Every field can be set with an environment variable of the same name in capitals prefixed
    with ``PINSPHERE_`` (``PINSPHERE_SECRET_KEY``, ``PINSPHERE_CORS_ORIGINS=https://a,https://b``).
    Durations are seconds (``PINSPHERE_ACCESS_TOKEN_LIFETIME=900``) or ISO 8601 (``PT15M``).

    Attributes:
        secret_key: Signs access and refresh tokens and the sign-in state cookie. Required
            in production and identical on every worker; when absent, one is read from (or
            generated into) ``secret_key_file``, else generated per process with a warning.
        secret_key_file: Where to keep a generated key (``pinsphere serve`` puts it next to
            an embedded store).
        token_issuer: The ``iss`` claim of the tokens this service signs.
        access_token_lifetime: How long an access token is accepted (refresh tokens live
            as long as the store's ``refresh_token_lifetime``).
        cors_origins: Origins allowed to call the API from a browser; empty turns CORS off.
        cors_allow_credentials: Let browsers send cookies cross-origin; never with ``*``.
        signup_enabled: Whether ``POST /api/v1/auth/signup`` creates accounts.
        max_upload_bytes: The largest file accepted; ``None`` uses the store's limit.
        max_form_field_bytes: The largest text field of an upload form.
        trusted_proxies: Addresses or networks of reverse proxies whose
            ``X-Forwarded-For`` tells the client's address.
        download_chunk_size: Bytes per read when streaming media (1 MiB is ~3x faster than
            Starlette's 64 KiB default).
        thumbnail_max_age: How long browsers (and, for public pins only, shared caches)
            may reuse a thumbnail without asking again.
        login_window: The sliding window of the login throttle.
        login_failures_per_user: Failed sign-ins allowed per username in the window.
        login_failures_per_address: Failed sign-ins allowed per client address in the window.
        signups_per_address: Sign-up attempts allowed per client address in the window.
        throttle_url: Where those attempts are counted: ``None`` in each worker's memory,
            else a Redis URL (``redis://host:6379/0``, ``rediss://…``, ``unix:///path``;
            the ``redis`` extra) shared by every worker, so that the limits hold for the
            service as a whole rather than once per worker, and survive restarts. A secret,
            as the URL may carry Redis's password.
        google_client_id: OAuth client id; Google sign-in is off without it.
        google_client_secret: OAuth client secret.
        google_discovery_url: The provider's OpenID discovery document.
        google_redirect_url: The callback URL registered with the provider; by default it is
            derived from the request.
        cookie_secure: Mark cookies ``Secure``; ``None`` decides from the request's scheme.
    """

    model_config = SettingsConfigDict(env_prefix="PINSPHERE_", extra="ignore")

    secret_key: SecretStr | None = None
    secret_key_file: Path | None = None
    token_issuer: str = "pinsphere"  # noqa: S105 - an issuer name
    access_token_lifetime: timedelta = timedelta(minutes=15)

    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    cors_allow_credentials: bool = False

    signup_enabled: bool = True
    max_upload_bytes: int | None = Field(default=None, gt=0)
    max_form_field_bytes: int = Field(default=64 * 1024, gt=0)
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    download_chunk_size: int = Field(default=MIB, gt=0)
    thumbnail_max_age: timedelta = timedelta(hours=1)

    login_window: timedelta = timedelta(minutes=15)
    login_failures_per_user: int = Field(default=10, gt=0)
    login_failures_per_address: int = Field(default=100, gt=0)
    signups_per_address: int = Field(default=20, gt=0)
    throttle_url: SecretStr | None = None

    google_client_id: str | None = None
    google_client_secret: SecretStr | None = None
    google_discovery_url: str = GOOGLE_DISCOVERY_URL
    google_redirect_url: str | None = None
    cookie_secure: bool | None = None

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _lists_from_commas(cls, value: object) -> object:
        return _split_commas(value)

    @field_validator("access_token_lifetime", "login_window", mode="before")
    @classmethod
    def _seconds(cls, value: object) -> object:
        # "900" in the environment means seconds, as it would in a JSON number.
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            ipaddress.ip_network(entry, strict=False)  # ValueError names the bad entry
        return value

    @field_validator("throttle_url", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        # PINSPHERE_THROTTLE_URL= (set but empty) reads as "no shared throttle".
        return None if value == "" else value

    @field_validator("throttle_url")
    @classmethod
    def _redis_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        # Said here, naming the setting, rather than when the first worker starts.
        if value is not None:
            scheme = urlsplit(value.get_secret_value()).scheme
            if scheme not in THROTTLE_SCHEMES:
                raise ValueError(
                    f"the throttle URL must be redis://, rediss:// or unix://, not {scheme!r}"
                )
        return value

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        # HS256 with a short key can be brute-forced offline from any token.
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("the secret key needs at least 32 characters")
        return value

    @model_validator(mode="after")
    def _no_wildcard_with_credentials(self) -> HTTPSettings:
        # Browsers refuse it anyway, and reflecting any origin instead would let every site
        # make credentialed calls.
        if self.cors_allow_credentials and "*" in self.cors_origins:
            raise ValueError("CORS origin '*' cannot be combined with credentials")
        return self
