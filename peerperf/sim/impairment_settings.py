"""The run's impairment options, declared once: `--impair`, `--impair-peers`, `--impair-file`, ..."""

from __future__ import annotations

from dataclasses import dataclass

from peerperf.settings import setting


@dataclass(frozen=True)
class ImpairmentSettings:
    """Which peers run behind an impaired network, and how (see the README's "Network impairment")."""

    impair: str | None = setting(
        None,
        "impairment for peers, applied in process beneath DTLS/SCTP: a profile such as "
        "loss=2%,delay=40ms,jitter=10ms,rate=2mbit, or a profile name from --impair-file",
    )
    impair_peers: str = setting("100%", "share of peers --impair applies to (the others run unimpaired), e.g. 20%")
    impair_file: str | None = setting(
        None, "YAML or JSON file naming profiles (mobile, wifi, ...) and assigning them per room, routine or share"
    )
    impair_signaling: bool = setting(
        False, "impair the lighthouse WebSocket too (its delay, jitter and rate; TCP has no datagram loss)"
    )
    impair_seed: int = setting(0, "seed of every impaired peer's random draws (combined with the peer's index)")
