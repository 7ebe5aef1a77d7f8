"""Where callbacks may go: only to public addresses, unless the station allows otherwise.

An agency names the URL and our workers POST to it, so a URL naming a private, loopback or
link-local address (a database, a cloud metadata service) would let a partner reach inside
the station's network. Every address the host resolves to must be public. The check is
made when the URL is registered and again before each POST, since DNS answers change.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class ForbiddenDestination(ValueError):
    """The URL's host is not a public address."""


def check(url: str, *, allow_private: bool) -> None:
    """Raise ForbiddenDestination unless every address of the URL's host is public."""
    if allow_private:
        return
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise ForbiddenDestination("the URL has no host")
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise ForbiddenDestination(f"the host {host!r} does not resolve") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise ForbiddenDestination(f"the host {host!r} resolves to a non-public address")
