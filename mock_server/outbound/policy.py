"""Which addresses an outbound call may reach: `webhook_targets` / `fetch_targets`.

`any` (every address), `private` (loopback and private networks), `loopback` (this machine,
where users run receivers) or an allow-list of host names and networks. The mock's own
listeners are refused under every policy: that check lives in `listeners.py`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

KEYWORDS = ("any", "private", "loopback")


def normalized(address: Address) -> Address:
    """One spelling per address: an IPv4-mapped IPv6 address (::ffff:127.0.0.1) is the
    IPv4 address it carries, so no check is passed by writing it the other way."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def this_host(address: Address) -> bool:
    """Loopback, or the unspecified address (0.0.0.0, ::), which connects to this host."""
    address = normalized(address)
    return address.is_loopback or address.is_unspecified


@dataclass(frozen=True)
class TargetPolicy:
    kind: str = "any"  # a KEYWORD, or "list"
    networks: tuple[Network, ...] = ()
    hosts: tuple[str, ...] = ()

    @classmethod
    def parse(cls, value: str | Sequence[str]) -> TargetPolicy:
        """A keyword, or an allow-list (a sequence, or a comma-separated string) of host
        names and addresses/CIDR networks; ValueError names what is wrong."""
        if isinstance(value, str):
            if value.strip() in KEYWORDS:
                return cls(kind=value.strip())
            value = value.split(",")
        entries = [str(v).strip() for v in value if str(v).strip()]
        if not entries:
            raise ValueError(f"must be {', '.join(KEYWORDS)} or a list of hosts/CIDRs")
        networks: list[Network] = []
        hosts: list[str] = []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                if not entry.replace("-", "").replace(".", "").replace("*", "").isalnum():
                    raise ValueError(f"{entry!r} is neither a host name nor a CIDR") from None
                hosts.append(entry.lower().rstrip("."))
        return cls(kind="list", networks=tuple(networks), hosts=tuple(hosts))

    def allows(self, host: str, address: Address) -> bool:
        """May a call to `host` (as the URL names it) connect to `address` (what it
        resolved to)? Every address a name resolves to must pass."""
        address = normalized(address)
        if self.kind == "any":
            return True
        if self.kind == "loopback":
            return this_host(address)
        if self.kind == "private":
            return this_host(address) or address.is_private
        return any(address in net for net in self.networks) or self._host_listed(host)

    def _host_listed(self, host: str) -> bool:
        name = host.lower().rstrip(".")
        for entry in self.hosts:
            if entry.startswith("*."):
                if name.endswith(entry[1:]):
                    return True
            elif name == entry:
                return True
        return False

    def describe(self) -> str:
        if self.kind != "list":
            return self.kind
        return ", ".join([*map(str, self.networks), *self.hosts])
