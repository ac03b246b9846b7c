"""Which network Ray and the peers use: loopback (default) or the cluster's network.

Ray reads `RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER` once, when `ray` is first imported: with it at 0, Ray
binds and advertises 127.0.0.1; otherwise it maps even an explicit `127.0.0.1` back to the machine's
interface address. So the choice must be made before anything imports `ray`, which is why
`peerperf/__init__.py` calls `choose_network()` first thing.

Ray also probes cloud metadata (169.254.169.254) at start-up: its dashboard's usage-stats module
asks which cloud it runs on before checking whether usage stats are enabled, and there is no switch
for it. Those probes use `requests`, which honours proxy variables, so in loopback mode the processes
that start or join Ray get `http_proxy` pointed at a closed loopback port (loopback hosts exempted):
the probe is refused on the machine and nothing leaves it. That is `confine_ray_process()`, called by
`peerperf.cluster.runtime` just before it starts or joins Ray (the driver) and passed to Ray's
workers through the runtime environment; `import peerperf` leaves every proxy variable alone, so a
program that only uses the protocol or peer library keeps its own HTTP clients working.

Set `PEERPERF_NETWORK=cluster` on the nodes of a real cluster (cluster.yaml does) to use the nodes'
own addresses; anything else keeps every socket on loopback.
"""

from __future__ import annotations

import os

NETWORK_ENV = "PEERPERF_NETWORK"
LOOPBACK = "loopback"
CLUSTER = "cluster"
#: Ray's own switches, set at `import peerperf` (Ray reads them once, at its import); they touch nothing else.
RAY_LOOPBACK_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
#: What loopback mode sets in the processes that start or join Ray, and in every Ray process they start.
PROXY_ENV = {
    # Discard port on loopback: nothing listens, so outbound probes fail at once, locally.
    "http_proxy": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "no_proxy": "127.0.0.1,localhost,::1",
    "NO_PROXY": "127.0.0.1,localhost,::1",
}
ALWAYS_ENV = {"RAY_USAGE_STATS_ENABLED": "0"}


def mode() -> str:
    return CLUSTER if os.environ.get(NETWORK_ENV, LOOPBACK) == CLUSTER else LOOPBACK


def ray_environment() -> dict[str, str]:
    """The variables Ray processes started by peerperf must see."""
    return {**ALWAYS_ENV, **({**RAY_LOOPBACK_ENV, **PROXY_ENV} if mode() == LOOPBACK else {})}


def choose_network() -> None:
    """Set Ray's own network switches in this process (call before `ray` is imported); nothing else."""
    switches = {**ALWAYS_ENV, **(RAY_LOOPBACK_ENV if mode() == LOOPBACK else {})}
    for key, value in switches.items():
        os.environ.setdefault(key, value)


def confine_ray_process() -> None:
    """In loopback mode, point this process's proxy variables at loopback: it is about to start or join
    Ray, whose start-up probes must not leave the machine (they inherit this environment)."""
    if mode() == LOOPBACK:
        os.environ.update(PROXY_ENV)


def check_ray_mode() -> None:
    """Refuse to start or join Ray when it was imported before peerperf could choose loopback.

    Ray fixes its network mode at import; imported first, it would put a "loopback" run on the
    machine's interface address. Failing loudly beats sending traffic where it must not go.
    """
    from ray._private import ray_constants  # the one place outside cluster/ that peeks at Ray

    if mode() == LOOPBACK and ray_constants.ENABLE_RAY_CLUSTER:
        raise RuntimeError(
            "ray was imported before peerperf, so Ray would use this machine's interface address instead of "
            "loopback; import peerperf before ray (or set RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0), or set "
            f"{NETWORK_ENV}={CLUSTER} to use the network on purpose"
        )
