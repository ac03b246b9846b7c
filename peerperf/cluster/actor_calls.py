"""Awaiting Ray actor calls from asyncio code."""

from __future__ import annotations

from typing import Any


async def awaited(ref: Any) -> Any:
    """An actor call's `ObjectRef` as a coroutine (for `asyncio.wait_for`, `gather` and tasks)."""
    return await ref
