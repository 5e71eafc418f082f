"""The client's address, believing ``X-Forwarded-For`` only from trusted proxies.

Throttling by address needs the real client, but the header is written by whoever sends the
request; only the hops added by proxies we run are true. So the list is read from the right,
skipping trusted proxies, and the first address that is not one of them is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.requests import Request

__all__ = ["ClientAddressResolver"]

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ClientAddressResolver:
    """Finds the client address of a request.

    Args:
        trusted_proxies: Addresses or networks of the reverse proxies in front of the service.
    """

    def __init__(self, trusted_proxies: Sequence[str]) -> None:
        self._trusted: tuple[_Network, ...] = tuple(
            ipaddress.ip_network(entry, strict=False) for entry in trusted_proxies
        )

    def _is_trusted(self, address: str) -> bool:
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(parsed in network for network in self._trusted)

    def __call__(self, request: Request) -> str:
        """The client's address (``unknown`` when the server does not say)."""
        peer = request.client.host if request.client else "unknown"
        if not self._trusted or not self._is_trusted(peer):
            return peer
        hops = [
            hop.strip()
            for header in request.headers.getlist("x-forwarded-for")
            for hop in header.split(",")
            if hop.strip()
        ]
        for hop in reversed(hops):
            if not self._is_trusted(hop):
                return hop
        return hops[0] if hops else peer
