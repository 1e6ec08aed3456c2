"""Every reference in the product resolves: no citation of a file the repository does not ship.

The rules and docs cite decision factors ("factor 15") that live in docs/factors.md, and the
docs link to each other; a user must be able to follow every one of them from a clone.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from advisor import advice, rule_lint

REPO = Path(__file__).resolve().parent.parent
FACTORS = REPO / "docs" / "factors.md"
# Research notes the developers keep outside the repository; naming one is a dangling citation.
UNSHIPPED = re.compile(r"\b(?:DOMAIN|RELIABILITY|DESIGN|STYLE|ANCHORS)\.md\b|(?:\.\./|/work/)shared/")
SKIPPED_DIRS = {".git", ".venv", ".venv-crossbar", "node_modules", ".tools", "generated_examples", "__pycache__"}
LINK = re.compile(r"\]\(([^()\s]+)\)")
ANCHOR = re.compile(r"""<a\s+id=["']([^"']+)["']""")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.MULTILINE)
FACTOR_CITATION = re.compile(r"\b[Ff]actors?\s+(\d+(?:\s*(?:,|-|and|to)\s*\d+)*)")
HYBRID_PATTERN = re.compile(r"\b[Hh]ybrid pattern\s+(\d+)")
RULE_ID = re.compile(r"`([a-z0-9]+(?:-[a-z0-9]+)+)`")


def repo_files() -> list[Path]:
    """Tracked and new (not ignored) files, without generated_examples/; a tree walk without git."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            capture_output=True,
            check=True,
        ).stdout.decode("utf-8")
        names = [name for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        names = []
        for root, dirs, files in os.walk(REPO):
            dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.startswith(".venv")]
            names.extend(str((Path(root) / f).relative_to(REPO)) for f in files)
    paths = [REPO / name for name in names if not name.startswith("generated_examples/")]
    return sorted(path for path in paths if path.is_file())


def text_of(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def numbers(listed: str) -> set[int]:
    """`10, 12-14 and 20` -> {10, 12, 13, 14, 20}."""
    found: set[int] = set()
    for part in re.split(r"\s*(?:,|and)\s*", listed):
        bounds = [int(n) for n in re.split(r"\s*(?:-|to)\s*", part) if n]
        found.update(range(bounds[0], bounds[-1] + 1))
    return found


def slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    return set(ANCHOR.findall(text)) | {slug(h) for h in HEADING.findall(text)}


def test_no_file_cites_research_notes_the_repository_does_not_ship() -> None:
    files = repo_files()
    texts = {path: text for path in files if (text := text_of(path)) is not None}
    assert len(texts) > 50, "scanned too few files"
    shipped = {path.name for path in files}
    dangling = [
        f"{path.relative_to(REPO)}:{text.count(chr(10), 0, match.start()) + 1}: {match.group(0)}"
        for path, text in texts.items()
        for match in UNSHIPPED.finditer(text)
        if Path(match.group(0)).name not in shipped
    ]
    assert not dangling, "cites a file that is not in the repository:\n" + "\n".join(dangling)


def test_relative_links_in_readme_and_docs_resolve() -> None:
    pages = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    checked = 0
    broken = []
    for page in pages:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):
                continue  # https:, mailto:
            name, _, fragment = target.partition("#")
            resolved = (page.parent / name).resolve() if name else page
            checked += 1
            if not resolved.exists():
                broken.append(f"{page.relative_to(REPO)}: {target} (no such file)")
            elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
                broken.append(f"{page.relative_to(REPO)}: {target} (no such anchor)")
    assert checked > 5, "found too few links to check"
    assert not broken, "\n".join(broken)


def cited_factors() -> dict[int, list[str]]:
    """Every factor number cited in the rule files, with where; holdout arguments cite bare numbers."""
    cited: dict[int, list[str]] = {}
    for path in sorted((REPO / "rules").glob("*.yaml")):
        for match in FACTOR_CITATION.finditer(path.read_text(encoding="utf-8")):
            for number in numbers(match.group(1)):
                cited.setdefault(number, []).append(path.name)
    bank = advice.load_bank()
    for scenario in rule_lint.load_scenarios(REPO / "rules" / "scenarios.yaml", bank):
        for group in re.findall(r"\(([^()]*)\)", scenario.argument):
            for item in group.split(","):
                if re.fullmatch(r"\s*\d+\s*", item):
                    cited.setdefault(int(item), []).append(f"scenario {scenario.id}")
    return cited


def test_every_cited_factor_has_an_anchor_in_factors_md() -> None:
    defined = anchors(FACTORS)
    cited = cited_factors()
    assert len(cited) > 40, "found too few factor citations in rules/"
    missing = {n: where[:3] for n, where in sorted(cited.items()) if f"factor-{n}" not in defined}
    assert not missing, f"cited but not in docs/factors.md: {missing}"


def test_factor_numbering_is_complete_and_sections_the_scenarios_name_exist() -> None:
    defined = anchors(FACTORS)
    numbered = sorted(int(a.split("-")[1]) for a in defined if re.fullmatch(r"factor-\d+", a))
    assert numbered == list(range(1, len(numbered) + 1)) and len(numbered) >= 60
    scenarios = (REPO / "rules" / "scenarios.yaml").read_text(encoding="utf-8")
    patterns = {int(n) for n in HYBRID_PATTERN.findall(scenarios)}
    assert patterns, "no hybrid pattern cited"
    assert {f"hybrid-pattern-{n}" for n in patterns} <= defined
    assert "team-size guidance" in scenarios and "team-size" in defined


@pytest.fixture(scope="module")
def factors_text() -> str:
    return FACTORS.read_text(encoding="utf-8")


def test_factors_md_names_only_real_rules_and_every_rule(factors_text: str) -> None:
    shipped = {rule.id for rule in advice.load_ruleset().rules}
    listed = {
        rule_id
        for block in re.findall(r"Rules?:(.*?)(?:Sources?:|\)|\n\s*\n)", factors_text, re.DOTALL)
        for rule_id in RULE_ID.findall(block)
    }
    assert len(listed) > 40
    assert listed <= shipped, f"not a shipped rule: {sorted(listed - shipped)}"
    mentioned = set(RULE_ID.findall(factors_text))
    assert shipped <= mentioned, f"no factor names these rules: {sorted(shipped - mentioned)}"


def test_every_test_the_reliability_catalogue_names_exists() -> None:
    """docs/reliability.md promises a test per case; a renamed or removed test must not leave it citing nothing."""
    catalogue = (REPO / "docs" / "reliability.md").read_text(encoding="utf-8")
    files = {"rel": "test_reliability", "prop": "test_properties"}
    cited = re.findall(r"`(rel|prop|test_[a-z_]+)::(test_[a-z0-9_]+)`", catalogue)
    assert len(cited) > 50
    missing = []
    for alias, name in cited:
        source = (REPO / "tests" / f"{files.get(alias, alias)}.py").read_text(encoding="utf-8")
        if not re.search(rf"^(async )?def {name}\(", source, re.MULTILINE):
            missing.append(f"{alias}::{name}")
    assert missing == []
