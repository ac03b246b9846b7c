"""Watch the machine's sockets while a test runs: everything must stay on loopback.

Reads the kernel's socket tables (`/proc/net/{tcp,tcp6,udp,udp6}`, what `ss -tanu` prints) every
50 ms in a thread and records any TCP/UDP socket whose local or peer address is not loopback and was
not already there when the watch began (the machine's own services). A test wraps the real stack in
`loopback_only()` and fails if anything left 127.0.0.1. Reading the tables needs no tool (no `ss`)
and no subprocess per poll; the owning process is looked up only for a socket that breaks the rule.
"""

from __future__ import annotations

import contextlib
import ipaddress
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TABLES = ("tcp", "tcp6", "udp", "udp6")
#: Connected UDP sockets that send nothing: Chromium's host resolver connect()s one to this address, port
#: 443, to read which local address the kernel would pick (is IPv6 globally reachable?), then closes it.
#: Seen once in CI from a headless Chromium with every background feature off; no datagram leaves.
SILENT_PROBES = {("udp6", ipaddress.ip_address("2001:4860:4860::8888"), 443)}


@dataclass(frozen=True)
class Socket:
    """One row of a kernel socket table."""

    protocol: str
    local: tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]
    peer: tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]
    inode: int

    def stays_on_loopback(self) -> bool:
        unconnected = self.peer[1] == 0 and self.peer[0].is_unspecified  # listeners, unbound UDP: where they bind
        return _is_loopback(self.local[0]) and (unconnected or _is_loopback(self.peer[0]))

    def is_silent_probe(self) -> bool:
        return (self.protocol, *self.peer) in SILENT_PROBES


def _is_loopback(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _address(text: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]:
    """`0100007F:1F90` -> (127.0.0.1, 8080): the kernel prints each 32-bit word in host (little-endian) order."""
    host, port = text.split(":")
    raw = b"".join(bytes.fromhex(host[i : i + 8])[::-1] for i in range(0, len(host), 8))
    return ipaddress.ip_address(raw), int(port, 16)


def parse_table(protocol: str, text: str) -> list[Socket]:
    """The sockets of one `/proc/net/<protocol>` table."""
    sockets = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        sockets.append(Socket(protocol, _address(fields[1]), _address(fields[2]), int(fields[9])))
    return sockets


def _sockets(proc: Path = Path("/proc/self/net")) -> set[Socket]:
    found: set[Socket] = set()
    for protocol in TABLES:
        with contextlib.suppress(FileNotFoundError):  # no IPv6 in this kernel
            rows = parse_table(protocol, (proc / protocol).read_text())
            found.update(s for s in rows if not (s.stays_on_loopback() or s.is_silent_probe()))
    return found


def owner(inode: int) -> str:
    """Which process holds socket `inode` (`name pid=N`), to blame; `?` when it is gone or out of sight."""
    target = f"socket:[{inode}]"
    for fd in Path("/proc").glob("[0-9]*/fd/*"):
        with contextlib.suppress(OSError):
            if inode and fd.readlink().as_posix() == target:
                pid = fd.parent.parent.name
                return f"{(fd.parent.parent / 'comm').read_text().strip()} pid={pid}"
    return "?"


def describe(socket: Socket) -> str:
    local, peer = socket.local, socket.peer
    return f"{socket.protocol} {local[0]}:{local[1]} -> {peer[0]}:{peer[1]} {owner(socket.inode)}"


@contextlib.contextmanager
def loopback_only() -> Iterator[set[str]]:
    """Yield the set of non-loopback sockets seen (filled in during the block, asserted empty after)."""
    before = _sockets()
    known: set[Socket] = set()
    seen: set[str] = set()
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            for socket in _sockets() - before - known:
                known.add(socket)
                seen.add(describe(socket))
            stop.wait(0.05)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join()
    assert not seen, "traffic left loopback:\n" + "\n".join(sorted(seen))
