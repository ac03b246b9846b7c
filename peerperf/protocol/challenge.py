"""The lighthouse's VALIDATION challenge (reference 1.3): with auth on, a peer answers the OPEN challenge
with the hex HMAC-SHA256 of it under the shared secret. One definition for both ends."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any


def challenge_signature(secret: str, challenge: str) -> str:
    """The VALIDATION payload a peer sends when auth is on: hex HMAC-SHA256 of the challenge."""
    return hmac.new(secret.encode(), challenge.encode(), hashlib.sha256).hexdigest()


def signature_matches(secret: str, challenge: str, payload: Any) -> bool:
    """Whether a VALIDATION `payload` is the signature of `challenge` (compared in constant time)."""
    return isinstance(payload, str) and hmac.compare_digest(payload, challenge_signature(secret, challenge))
