"""What a report's mesh pictures hold, read from its HTML (a file, or the DOM Chromium rendered)."""

from __future__ import annotations

from collections import defaultdict
from html.parser import HTMLParser


class MeshShapes(HTMLParser):
    """The shapes (`use` or `path` elements outside `defs`) in each SVG group whose id starts `mesh-`,
    with their style and path: `shapes["mesh-2-peers"]` is one (style, d) per peer drawn in picture 2.
    Connections are moves of one path (`M x y L x y` each)."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self._open: list[tuple[str, str]] = []
        self.shapes: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self._open.append((tag, values.get("id") or ""))
        groups = [name for _, name in self._open if name.startswith("mesh-")]
        if tag in ("use", "path") and groups and all(t != "defs" for t, _ in self._open):
            self.shapes[groups[-1]].append((values.get("style") or "", values.get("d") or ""))

    def handle_endtag(self, tag: str) -> None:
        while self._open and self._open.pop()[0] != tag:
            pass

    def count(self, picture: int) -> tuple[int, int]:
        """(peers, connections) drawn in picture `picture` (1 first)."""
        moves = sum(d.count("M") for _, d in self.shapes[f"mesh-{picture}-connections"])
        return len(self.shapes[f"mesh-{picture}-peers"]), moves

    def pictures(self) -> int:
        return len({name.rsplit("-", 1)[0] for name in self.shapes if name.endswith("-peers")})
