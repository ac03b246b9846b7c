"""The loopback watch itself: it reads the kernel's socket tables right and catches a socket that leaves."""

from __future__ import annotations

import ipaddress
import os
import socket
import time

import pytest

from tests.netwatch import loopback_only, parse_table

TCP = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0 100 0 0 10 0
   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 112 1 0 20 4 30 10 -1
   2: 0A00020F:C350 08080808:01BB 01 00000000:00000000 00:00000000 00000000     0        0 113 1 0 20 4 30 10 -1
"""
UDP6 = """  sl  local_address                         remote_address                        st tx_queue rx_queue tr
   0: 00000000000000000000000001000000:14E9 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 114 2 0 0
   1: 0000000000000000FFFF00000100007F:14E9 0000000000000000FFFF00000F02000A:0035 01 00000000:00000000 00:00000000 00000000 0 0 115 2 0 0
   2: 000000FD000000000000000002000000:CC92 60480120000060480000000088880000:01BB 01 00000000:00000000 00:00000000 00000000 0 0 116 2 0 0
"""  # noqa: E501  (kernel table lines)


def test_the_kernel_tables_are_read_as_addresses_and_ports() -> None:
    listener, local, outside = parse_table("tcp", TCP)
    assert listener.local == (ipaddress.ip_address("127.0.0.1"), 8080) and listener.stays_on_loopback()
    assert local.peer == (ipaddress.ip_address("127.0.0.1"), 50000) and local.stays_on_loopback()
    assert outside.peer == (ipaddress.ip_address("8.8.8.8"), 443) and not outside.stays_on_loopback()
    bound, mapped, probe = parse_table("udp6", UDP6)
    assert bound.local == (ipaddress.ip_address("::1"), 5353) and bound.stays_on_loopback()
    assert mapped.peer == (ipaddress.ip_address("::ffff:10.0.2.15"), 53) and not mapped.stays_on_loopback()
    assert mapped.inode == 115 and not mapped.is_silent_probe()
    # Chromium's IPv6 reachability check (connect() only, as seen in CI): not on loopback, yet silent.
    assert probe.local == (ipaddress.ip_address("fd00::2"), 52370)
    assert probe.peer == (ipaddress.ip_address("2001:4860:4860::8888"), 443)
    assert not probe.stays_on_loopback() and probe.is_silent_probe()


def test_a_socket_aimed_off_loopback_is_caught_and_its_owner_named() -> None:
    """A connected UDP socket sends nothing, yet the kernel table shows where it points."""
    with (
        pytest.raises(AssertionError, match="traffic left loopback") as failure,
        loopback_only() as seen,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
    ):
        udp.connect(("203.0.113.1", 9))  # TEST-NET-3 (documentation only); connect() sends no datagram
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:  # bounded poll: the watch samples every 50 ms
            time.sleep(0.05)
    assert "203.0.113.1:9" in str(failure.value) and f"pid={os.getpid()}" in str(failure.value)


def test_loopback_traffic_passes() -> None:
    with loopback_only(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        udp.sendto(b"x", udp.getsockname())
        assert udp.recv(1) == b"x"
