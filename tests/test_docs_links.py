"""The docs hold together: every relative link in README.md, docs/ and bench/README.md leads to a file (and
heading) that is there, and every page in docs/ can be reached from the README, so moving text strands no
reader."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

README = REPO_ROOT / "README.md"
DOCS = REPO_ROOT / "docs"
BENCH_README = REPO_ROOT / "bench" / "README.md"

#: A markdown link `[text](target)` outside code; images too.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")


def pages() -> list[Path]:
    return [README, BENCH_README, *sorted(DOCS.rglob("*.md"))]


def links(page: Path) -> list[str]:
    """The link targets of a page, leaving out code blocks and inline code (they show links, not make them)."""
    text = INLINE_CODE.sub("", FENCE.sub("", page.read_text()))
    return LINK.findall(text)


def relative(target: str) -> bool:
    return not re.match(r"[a-z][a-z0-9+.-]*:", target)  # http:, https:, mailto: ... are not checked here


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text())
    return {anchor(m[1]) for m in re.finditer(r"^#{1,6} +(.+)$", text, re.M)}


def resolve(page: Path, target: str) -> tuple[Path, str]:
    path, _, fragment = target.partition("#")
    return ((page.parent / path).resolve() if path else page.resolve()), fragment


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    for target in filter(relative, links(page)):
        path, fragment = resolve(page, target)
        assert path.exists(), f"{page.name}: {target} leads nowhere"
        if fragment:
            assert path.suffix == ".md" and fragment in anchors(path), f"{page.name}: no heading for {target}"


def test_every_docs_page_is_reachable_from_the_readme() -> None:
    reached: set[Path] = set()
    todo = [README.resolve()]
    while todo:
        page = todo.pop()
        if page in reached or not page.exists() or page.suffix != ".md":
            continue
        reached.add(page)
        todo.extend(resolve(page, target)[0] for target in filter(relative, links(page)))
    stranded = [str(p.relative_to(REPO_ROOT)) for p in DOCS.rglob("*.md") if p.resolve() not in reached]
    assert not stranded, f"no link leads to {stranded}"


def test_the_checks_see_a_broken_link_and_an_anchor(tmp_path: Path) -> None:
    """The link pattern skips code and finds real links; the anchor rule matches GitHub's."""
    page = tmp_path / "page.md"
    page.write_text("# Exit codes (of the run)\n[a](gone.md) `[b](code.md)`\n```\n[c](fenced.md)\n```\n[d](#x)\n")
    assert links(page) == ["gone.md", "#x"]
    assert anchors(page) == {"exit-codes-of-the-run"}
    assert not resolve(page, "gone.md")[0].exists()
