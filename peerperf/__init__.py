"""peerperf: a load-testing harness for lighthouse-coordinated WebRTC comms meshes.

The public surface (docs/api.md): `from peerperf import RunConfig`, `from peerperf.run import run`,
`from peerperf.analysis import load, summary, compare, report, check` and, for routine authors,
`from peerperf.routines import RoutinePeer`.
"""

from typing import TYPE_CHECKING, Any

from peerperf.cluster.network_mode import choose_network

choose_network()  # before anything imports ray: Ray reads its network mode once, at import

if TYPE_CHECKING:
    from peerperf.config import RunConfig

__version__ = "0.1.0"
__all__ = ["RunConfig", "__version__"]


def __getattr__(name: str) -> Any:
    """`RunConfig` loads on first use (PEP 562): `import peerperf` stays cheap for the services and the CLI."""
    if name == "RunConfig":
        from peerperf.config import RunConfig

        globals()[name] = RunConfig
        return RunConfig
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
