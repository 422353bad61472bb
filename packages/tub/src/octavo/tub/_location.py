"""Finding a Tub's location: the address of our default route, without sending anything."""

from __future__ import annotations

import socket
from collections.abc import Iterable

__all__ = ["automatic_location", "get_local_ip_for"]

#: A public address whose route picks our default interface; no packet is sent.
_ROUTE_PROBE = ("198.41.0.4", 7)  # A.ROOT-SERVERS.NET


def get_local_ip_for(target: tuple[str, int] = _ROUTE_PROBE) -> str | None:
    """The local address of the route to ``target``, without sending anything.

    Connecting a UDP socket only selects a route; ``getsockname`` reveals the
    source address. Returns None when there is no route.
    """
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(target)
        address: str = s.getsockname()[0]
    except OSError:
        return None
    finally:
        s.close()
    if address.startswith("0."):
        return None
    return address


def automatic_location(
    local: str | None, extra_addresses: Iterable[str], ports: Iterable[int]
) -> str:
    """``Tub.setLocationAutomatically``'s hints: each address at each port, sorted.

    The addresses are ``local`` (if any), 127.0.0.1 and ``extra_addresses``.
    """
    addresses = {*extra_addresses, "127.0.0.1"}
    if local:
        addresses.add(local)
    return ",".join(sorted({f"{a}:{p}" for a in addresses for p in ports}))
