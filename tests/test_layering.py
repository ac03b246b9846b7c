"""The layering rules, checked on every import of the package (function-local ones included):

- only `peerperf.peer` imports the WebRTC stack (aiortc, aioice);
- only `peerperf.cluster` and the run CLI import Ray;
- `peerperf.protocol` imports no other part of peerperf (but `peerperf.errors`);
- routines and the analysis import neither `peerperf.peer` nor `peerperf.cluster`;
- `peerperf.sizing` (calibrate, plan) sits below `peerperf.cluster`: it imports the peer library, sim/ and the
  analysis, never cluster/; nothing beneath it (peer/, sim/, protocol/, the services, the analysis) imports it;
- nothing imports the names `analysis` and `routines` (they exist only as peerperf.analysis and peerperf.routines),
  in the package or in the checkout's tests, benchmarks and scripts;
- nothing in the package imports `scripts` (checkout tools such as the cluster rehearsal: not installed).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Where each top package's sources are in the repository (analysis and routines install inside peerperf).
SOURCES = {
    "peerperf": ROOT / "peerperf",
    "peerperf.analysis": ROOT / "analysis",
    "peerperf.routines": ROOT / "routines",
}
#: The run CLI: the one module outside cluster/ that may import Ray.
RUN_CLI = {"peerperf.run", "peerperf.cli"}
#: What `peerperf.sizing` is built on: none of these may import it.
BENEATH_SIZING = (
    "peerperf.peer",
    "peerperf.sim",
    "peerperf.protocol",
    "peerperf.lighthouse",
    "peerperf.results",
    "peerperf.analysis",
    "peerperf.routines",
)


def package_modules() -> Iterator[tuple[str, Path]]:
    """Every module of the installed package, by its installed name (generated code skipped)."""
    for package, folder in SOURCES.items():
        for path in sorted(folder.rglob("*.py")):
            relative = path.relative_to(folder)
            if "generated" in relative.parts:
                continue
            parts = [package, *relative.with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join(parts), path


def imported_modules(module: str, source: str, is_package: bool = False) -> set[str]:
    """Every module `source` imports, anywhere in it (functions, conditionals, TYPE_CHECKING blocks)."""
    names: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # `from peerperf import cluster`
    return names


def _within(name: str, packages: str | tuple[str, ...]) -> bool:
    """Whether module `name` is one of `packages` or inside one."""
    return any(name == p or name.startswith(p + ".") for p in ((packages,) if isinstance(packages, str) else packages))


def violations(module: str, imports: set[str]) -> list[str]:
    """The layering rules `module` breaks by importing `imports`."""
    broken = []
    for name in sorted(imports):
        if _within(name, ("analysis", "routines")):
            broken.append(f"{module} imports {name}: installed, it is peerperf.{name}")
        elif _within(name, "scripts"):
            broken.append(f"{module} imports {name}: scripts/ holds checkout tools, not installed with peerperf")
        elif _within(name, ("aiortc", "aioice")):
            if not _within(module, "peerperf.peer"):
                broken.append(f"{module} imports {name}: only peerperf.peer may use the WebRTC stack")
        elif _within(name, "ray"):
            if not (_within(module, "peerperf.cluster") or module in RUN_CLI):
                broken.append(f"{module} imports {name}: only peerperf.cluster and the run CLI may use Ray")
        elif _within(name, "peerperf") and _within(module, "peerperf.protocol"):
            if not (_within(name, "peerperf.protocol") or _within(name, "peerperf.errors") or name == "peerperf"):
                broken.append(f"{module} imports {name}: peerperf.protocol imports no other part of peerperf")
        elif _within(module, ("peerperf.analysis", "peerperf.routines")) and _within(
            name, ("peerperf.peer", "peerperf.cluster")
        ):
            broken.append(f"{module} imports {name}: routines and the analysis stay apart from peer/ and cluster/")
        elif _within(module, "peerperf.sizing") and _within(name, "peerperf.cluster"):
            broken.append(f"{module} imports {name}: peerperf.sizing sits below cluster/")
        elif _within(name, "peerperf.sizing") and _within(module, BENEATH_SIZING):
            broken.append(f"{module} imports {name}: peerperf.sizing is built on it, not the other way")
    return broken


def test_the_package_keeps_its_layering_rules() -> None:
    modules = list(package_modules())
    assert len(modules) > 100
    # The public surface (docs/api.md) is checked like the rest: the packages users import, and what `run` uses.
    public = {"peerperf", "peerperf.run", "peerperf.run_result", "peerperf.analysis", "peerperf.routines"}
    assert {"peerperf.protocol.packets", "peerperf.analysis.summarise", *public} <= {m for m, _ in modules}
    broken = [
        problem
        for module, path in modules
        for problem in violations(module, imported_modules(module, path.read_text(), path.name == "__init__.py"))
    ]
    assert broken == []


def test_the_checkout_imports_analysis_and_routines_by_their_one_name() -> None:
    """Tests, benchmarks and scripts too: `import analysis` would load a second copy of each module."""
    files = [path for folder in ("tests", "bench", "scripts", "grafana") for path in (ROOT / folder).rglob("*.py")]
    assert ROOT / "tests" / "test_layering.py" in files
    broken = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in sorted(imported_modules("checkout", path.read_text()))
        if _within(name, ("analysis", "routines"))
    ]
    assert broken == []


@pytest.mark.parametrize(
    ("module", "source", "rule"),
    [
        ("peerperf.sim.host", "def later():\n    import aiortc\n", "only peerperf.peer may use the WebRTC stack"),
        ("peerperf.results.gateway", "from aioice import ice\n", "only peerperf.peer may use the WebRTC stack"),
        ("peerperf.runview", "if True:\n    from ray.util import get_node_ip_address\n", "only peerperf.cluster"),
        ("peerperf.protocol.packets", "def f():\n    from peerperf.peer import settings\n", "imports no other part"),
        ("peerperf.protocol.packets", "from ..sim import api\n", "imports no other part"),
        ("peerperf.analysis.summarise", "from peerperf import cluster\n", "stay apart from peer/"),
        ("peerperf.routines.default", "def f():\n    import peerperf.peer.peer\n", "stay apart from peer/"),
        ("peerperf.run", "def f():\n    from analysis.summarise import summary\n", "it is peerperf.analysis"),
        ("peerperf.routines.busy", "from routines.default import routine\n", "it is peerperf.routines"),
        ("peerperf.sizing.plan", "from peerperf.cluster.placement import spawn_hosts\n", "sits below cluster/"),
        ("peerperf.peer.mesh", "def f():\n    from peerperf.sizing import plan\n", "is built on it"),
        ("peerperf.sim.host", "import peerperf.sizing.calibration\n", "is built on it"),
        ("peerperf.cluster.runtime", "from scripts.rehearsal import netns\n", "scripts/ holds checkout tools"),
        ("peerperf.run_result", "import ray\n", "only peerperf.cluster and the run CLI"),
        ("peerperf.routines", "from peerperf.peer.peer import Peer\n", "stay apart from peer/"),
        ("peerperf.analysis", "def f():\n    from peerperf.cluster import runtime\n", "stay apart from peer/"),
    ],
)
def test_a_planted_violation_is_caught(module: str, source: str, rule: str) -> None:
    problems = violations(module, imported_modules(module, source))
    assert problems and all(rule in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("peerperf.peer.webrtc_connection", "import aiortc\n"),
        ("peerperf.cluster.placement", "import ray\n"),
        ("peerperf.run", "import ray\n"),
        ("peerperf.protocol.packets", "from peerperf.errors import ProtocolError\nfrom . import messagetypes\n"),
        ("peerperf.analysis.histograms", "from peerperf.protocol.histogram import Scale\n"),
        ("peerperf.sizing.virtual_peer", "from peerperf.peer.mesh import Mesh\nfrom peerperf.sim import api\n"),
        ("peerperf.cluster.placement", "from peerperf.sizing.placement_check import placement_warning\n"),
        ("peerperf.cli", "from peerperf.sizing.commands import plan_main\n"),
    ],
)
def test_what_the_rules_allow_passes(module: str, source: str) -> None:
    assert violations(module, imported_modules(module, source)) == []
