"""The documentation is self-contained: docs/protocol.md is the protocol reference, every
link to one of its sections names a real heading, and nothing refers to a file outside the
repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = ROOT / "docs" / "protocol.md"
#: The notes the first stage cited, which are not part of this repository (spelt in two
#: pieces so this file does not match itself).
FOREIGN_DOC = "PROTOCOL" + ".md"
REFERENCE = re.compile(r"docs/protocol\.md(#[A-Za-z0-9_-]*)?")
_SKIP_DIRS = {"build", "dist", "node_modules", "__pycache__"}


def tracked_files() -> list[Path]:
    """The files git tracks; without git (an exported tree, the wheel test's copy), every
    file but caches/venvs."""
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        listing = b""
    if not listing:  # not a checkout, or a copy inside another one's ignored files
        return [
            path
            for path in ROOT.rglob("*")
            if path.is_file()
            and not any(
                part.startswith(".") or part in _SKIP_DIRS or part.endswith(".egg-info")
                for part in path.relative_to(ROOT).parts
            )
        ]
    return [ROOT / name for name in listing.decode().split("\0") if name]


def text_of(path: Path) -> str:
    """A file's text; "" for binary files and files that vanished (deleted, not committed)."""
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return "" if b"\0" in data else data.decode("utf-8", "replace")


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to ``-``."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """Anchors of every heading outside fenced code, numbered as GitHub numbers repeats."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    fenced = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        match = re.match(r"#{1,6} (.+)", line)
        if fenced or match is None:
            continue
        base = slug(match.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def test_nothing_refers_to_the_foreign_protocol_notes() -> None:
    """No tracked file mentions the notes that are not in the repository."""
    files = tracked_files()
    assert ROOT / "README.md" in files  # the listing works
    offenders = [str(path.relative_to(ROOT)) for path in files if FOREIGN_DOC in text_of(path)]
    assert offenders == [], f"{FOREIGN_DOC} is not in this repository: see docs/protocol.md"


def test_every_protocol_anchor_is_a_heading() -> None:
    """Each link to a section of docs/protocol.md (package, tests, top-level docs) names a
    heading of it."""
    headings = anchors(PROTOCOL.read_text(encoding="utf-8"))
    sources = [*sorted((ROOT / "jaeger_lite").rglob("*.py")), *sorted(ROOT.glob("*.md"))]
    sources += sorted((ROOT / "tests").glob("test_*.py"))
    broken = []
    for path in sources:
        for match in REFERENCE.finditer(text_of(path)):
            anchor = match.group(1)
            if anchor and anchor[1:] not in headings:
                broken.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
    assert broken == []


def test_package_references_name_a_section() -> None:
    """The package's docstrings point at a section, not at the whole page."""
    bare = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in sorted((ROOT / "jaeger_lite").rglob("*.py"))
        for match in REFERENCE.finditer(text_of(path))
        if not match.group(1)
    ]
    assert bare == []


def test_protocol_links_inside_the_page_resolve() -> None:
    """The page's own ``(#anchor)`` links (its table of contents) lead to headings."""
    text = PROTOCOL.read_text(encoding="utf-8")
    headings = anchors(text)
    links = re.findall(r"\]\(#([^)]+)\)", text)
    assert len(links) > 10
    assert sorted(set(links) - headings) == []


def test_slugs_follow_github() -> None:
    """The anchor rule matches GitHub's for the kinds of heading the page uses."""
    assert slug("W3C Trace Context") == "w3c-trace-context"
    assert slug("The BINARY carrier") == "the-binary-carrier"
    assert slug("Where the decision is made") == "where-the-decision-is-made"
    assert slug("Forcing a decision: `sampling.priority` and `jaeger-debug-id`") == (
        "forcing-a-decision-samplingpriority-and-jaeger-debug-id"
    )
