"""Peer id rules shared by the lighthouse and the peer library (reference 1.3 "Id assignment")."""

from __future__ import annotations

import random
import re
import secrets
import string

#: The peer library's id pattern at snapshot A: alphanumerics, single separators inside.
PEER_ID_PATTERN = re.compile(r"^[A-Za-z0-9]+(?:[ _-][A-Za-z0-9]+)*$")
#: Longest id accepted; the perf test used 42 characters (an ETH address's length).
MAX_PEER_ID_LENGTH = 128
#: Alphabet of server-assigned ids. The original's 87-character alphabet includes `/`, `?` and
#: `#`, which break URL paths; peerperf assigns alphanumeric ids (settable with ID_ALPHABET).
ASSIGNED_ID_ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
#: Letters and digits: random ids (peer ids, session ids, test-id suffixes) are drawn from these.
ALPHANUMERIC = string.ascii_letters + string.digits


def random_id(length: int, rng: random.Random | None = None) -> str:
    """`length` random letters and digits: from `rng` when given (seeded runs), else from `secrets`."""
    choice = rng.choice if rng is not None else secrets.choice
    return "".join(choice(ALPHANUMERIC) for _ in range(length))


def is_valid_peer_id(peer_id: str) -> bool:
    """True when `peer_id` is safe for signaling frames and URL paths."""
    return len(peer_id) <= MAX_PEER_ID_LENGTH and PEER_ID_PATTERN.match(peer_id) is not None


def counter_id(index: int, alphabet: str, length: int) -> str:
    """The lighthouse's assigned id number `index`: base-len(alphabet) digits, wrapping."""
    base = len(alphabet)
    digits = []
    for _ in range(length):
        index, digit = divmod(index, base)
        digits.append(alphabet[digit])
    return "".join(reversed(digits))


#: Test ids become file names: letters, digits, `-` and `_` only, checked before any path is built.
TEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def is_valid_test_id(test_id: str) -> bool:
    """True when `test_id` is safe to use as a file name inside the results folder."""
    return TEST_ID_PATTERN.fullmatch(test_id) is not None
