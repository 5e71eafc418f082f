"""What every request handler needs, built once per app and kept on ``app.state``."""

from __future__ import annotations

from dataclasses import dataclass

from pinsphere import PinStore
from pinsphere_http.client_address import ClientAddressResolver
from pinsphere_http.oidc import OpenIDProvider
from pinsphere_http.settings import HTTPSettings
from pinsphere_http.throttle import Throttle
from pinsphere_http.tokens import TokenSigner

__all__ = ["ServiceContext"]


@dataclass(frozen=True)
class ServiceContext:
    """The store and the service's collaborators.

    Attributes:
        store: The store every request works on.
        settings: The service's settings.
        signer: Signs and checks tokens.
        throttle: Counts sign-in and sign-up attempts.
        client_address: Finds a request's client address.
        max_upload_bytes: The effective upload limit.
        google: The Google sign-in provider, when configured.
    """

    store: PinStore
    settings: HTTPSettings
    signer: TokenSigner
    throttle: Throttle
    client_address: ClientAddressResolver
    max_upload_bytes: int
    google: OpenIDProvider | None = None
