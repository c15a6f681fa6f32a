"""How another machine names the address a worker serves /healthz and /metrics at."""

from __future__ import annotations

import ipaddress
import socket

from bot.config.fields import authority


def reachable(host: str, port: int) -> str:
    """Return 'host:port' as another machine names it: a wildcard host becomes this machine's name."""
    try:
        # 0.0.0.0 and :: listen on every address here; written down, they name no machine.
        wildcard = ipaddress.ip_address(host).is_unspecified
    except ValueError:  # a host name
        wildcard = False
    return authority(socket.gethostname() if wildcard else host, port)
