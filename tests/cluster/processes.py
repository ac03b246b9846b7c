"""Finding the processes a test's Ray started (its raylet, its actors' workers) through /proc."""

from __future__ import annotations

from pathlib import Path


def descendants_named(root: int, marker: str) -> list[int]:
    """Processes below `root` whose command line contains `marker` (Ray names actor processes `ray::Class`)."""
    parents: dict[int, int] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                commands[int(entry.name)] = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue  # gone meanwhile

    def below_root(pid: int) -> bool:
        while pid > 1:
            pid = parents.get(pid, 0)
            if pid == root:
                return True
        return False

    return [pid for pid, command in commands.items() if marker in command and below_root(pid)]
