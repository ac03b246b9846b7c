"""Watch the machine's sockets while a test runs: everything must stay on loopback.

Polls `ss` every 50 ms in a thread and records any TCP/UDP socket whose local or peer address is
not loopback and was not already there when the watch began (the machine's own services). A test
wraps the real stack in `loopback_only()` and fails if anything left 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import threading
from collections.abc import Iterator


def _sockets() -> set[str]:
    out = subprocess.run(["ss", "-tanupH"], capture_output=True, text=True, check=True).stdout
    found = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 6:
            continue
        local, peer = parts[4], parts[5]
        unconnected = peer.endswith(":*")  # listeners and unconnected UDP: only where they bind matters
        if _is_loopback(local) and (unconnected or _is_loopback(peer)):
            continue
        owner = " ".join(parts[6:])  # users:(("name",pid=N,fd=M)): who to blame
        found.add(f"{parts[0]} {local} -> {peer} {owner}".rstrip())
    return found


def _is_loopback(address: str) -> bool:
    return address.startswith(("127.", "[::1]", "[::ffff:127."))


@contextlib.contextmanager
def loopback_only() -> Iterator[set[str]]:
    """Yield the set of non-loopback sockets seen (filled in during the block, asserted empty after)."""
    assert shutil.which("ss"), "ss (iproute2) is needed to check the network rule"
    before = _sockets()
    seen: set[str] = set()
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            seen.update(_sockets() - before)
            stop.wait(0.05)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join()
    assert not seen, "traffic left loopback:\n" + "\n".join(sorted(seen))
