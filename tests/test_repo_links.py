"""The repository never points outside itself: someone who clones it must not meet a dead link."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# [text](target) and <img src="target">; absolute URLs (http:, mailto:) and anchors are not files.
LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|src=\"([^\"]+)\"")


def tracked_markdown() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "*.md"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    return [REPO / line for line in out.splitlines() if "node_modules" not in line]


def test_markdown_links_stay_inside_the_repository() -> None:
    files = tracked_markdown()
    assert REPO / "README.md" in files
    outside = []
    for path in files:
        for match in LINK.finditer(path.read_text(errors="replace")):
            target = (match.group(1) or match.group(2)).split("#", 1)[0]
            if not target or re.match(r"^[a-z][a-z0-9+.-]*:", target, flags=re.IGNORECASE):
                continue
            resolved = (path.parent / target).resolve()
            if not resolved.is_relative_to(REPO):
                outside.append(f"{path.relative_to(REPO)}: {target}")
    assert outside == [], f"links outside the repository: {outside}"
