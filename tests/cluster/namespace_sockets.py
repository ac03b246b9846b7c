"""Watch the sockets of network namespaces while a test runs, from /proc (no process per poll).

`/proc/PID/net/{tcp,tcp6,udp,udp6}` list every socket of PID's network namespace, so one process per
namespace is enough to see them all. `NamespaceWatch` polls them in a thread and keeps every socket
seen, so a test can say which addresses its nodes used, and that nothing left their private subnet.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scripts.rehearsal.netns import pids_in

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
#: The kernel's TCP states, by their hex code in /proc/net/tcp (UDP sockets show 07, "close").
TCP_STATES = {"01": "ESTABLISHED", "02": "SYN_SENT", "06": "TIME_WAIT", "0A": "LISTEN"}
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Socket:
    """One socket as /proc/net shows it."""

    protocol: str
    local: Address
    local_port: int
    remote: Address
    remote_port: int
    state: str

    def addresses(self) -> tuple[Address, Address]:
        return self.local, self.remote


def _address(text: str) -> tuple[Address, int]:
    """`0100007F:1F90` (IPv4) or 32 hex digits + port (IPv6): each 32-bit word is in host (little-endian) order."""
    host, port = text.split(":")
    raw = bytes.fromhex(host)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    address: Address = ipaddress.IPv4Address(words) if len(words) == 4 else ipaddress.IPv6Address(words)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address, int(port, 16)


def sockets_of(pid: int) -> set[Socket]:
    """Every TCP and UDP socket of `pid`'s network namespace (empty once the process is gone)."""
    found = set()
    for protocol in ("tcp", "tcp6", "udp", "udp6"):
        try:
            lines = (Path("/proc") / str(pid) / "net" / protocol).read_text().splitlines()[1:]
        except OSError:
            return set()
        for line in lines:
            fields = line.split()
            local, local_port = _address(fields[1])
            remote, remote_port = _address(fields[2])
            state = TCP_STATES.get(fields[3], fields[3]) if protocol.startswith("tcp") else "UDP"
            found.add(Socket(protocol.rstrip("6"), local, local_port, remote, remote_port, state))
    return found


class NamespaceWatch:
    """The sockets seen in each namespace since the watch began (`seen[namespace]`)."""

    def __init__(self, namespaces: list[str]) -> None:
        self.seen: dict[str, set[Socket]] = {name: set() for name in namespaces}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        readers: dict[str, int] = {}
        while not self._stop.is_set():
            for namespace, seen in self.seen.items():
                found = sockets_of(readers[namespace]) if namespace in readers else set()
                if not found:  # no reader yet, or it ended: any process of the namespace will do
                    pids = pids_in(namespace)
                    if pids:
                        readers[namespace] = pids[0]
                        found = sockets_of(pids[0])
                seen.update(found)
            self._stop.wait(POLL_SECONDS)

    def outside(self, allowed: list[ipaddress.IPv4Network]) -> list[str]:
        """Sockets with an address outside loopback, the unspecified address and `allowed`."""

        def inside(address: Address) -> bool:
            return address.is_loopback or address.is_unspecified or any(address in net for net in allowed)

        return sorted(
            f"{namespace}: {s.protocol} {s.local}:{s.local_port} -> {s.remote}:{s.remote_port} {s.state}"
            for namespace, seen in self.seen.items()
            for s in seen
            if not all(inside(a) for a in s.addresses())
        )


@contextmanager
def watching(namespaces: list[str]) -> Iterator[NamespaceWatch]:
    watch = NamespaceWatch(namespaces)
    watch.start()
    try:
        yield watch
    finally:
        watch.stop()
