"""Each data schema is declared once (advisor/schema.py): the loaders, the docs tables and the
JSON Schema for editors all come from it, and none of them drifts from the others."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import Result

from advisor import advice, rules, schema, validation
from advisor.errors import DataError

Run = Callable[..., Result]
ROOT = Path(__file__).resolve().parent.parent
VALIDATOR = jsonschema.Draft202012Validator(json.loads(schema.JSON_SCHEMA_PATH.read_text(encoding="utf-8")))

RULE = """\
version: 1
rules:
  - id: org-policy
    title: Our policy
    when: {team_size: {at_least: 20}}
    effects: {celery: 5}
    because: The platform team runs Celery.
    sources: [https://intranet.example.org/adr/42]
"""
CASES = """\
version: 1
cases:
  - name: a large team gets the policy
    answers: {team_size: 25}
    fires: [org-policy]
"""
SCENARIOS = """\
version: 1
scenarios:
  - id: large-team
    profile: A 25-engineer team runs durable back-office jobs.
    answers: {team_size: 25, durable_work: true}
    expect: celery
    argument: The policy and the durable work both point to Celery.
"""


def test_the_docs_tables_are_generated_from_the_declarations() -> None:
    docs = sorted((ROOT / "docs").glob("*.md"))
    stale = [
        path.name
        for path in docs
        if schema.render_docs(path.read_text(encoding="utf-8")) != path.read_text(encoding="utf-8")
    ]
    assert stale == [], "run: python -m advisor.schema docs"
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for name in ["files", *(shape.name for shape in schema.ITEMS if shape is not schema.SERVICE)]:
        assert f"<!-- schema:{name} -->\n| " in text, name


def test_the_committed_json_schema_is_generated_from_the_declarations() -> None:
    assert schema.JSON_SCHEMA_PATH.read_text(encoding="utf-8") == schema.json_schema_text(), (
        "run: python -m advisor.schema jsonschema"
    )
    jsonschema.Draft202012Validator.check_schema(schema.json_schema())


def test_every_shipped_data_file_validates_against_the_json_schema() -> None:
    files = [*sorted((ROOT / "rules").glob("*.yaml")), *sorted((ROOT / "examples").glob("*.yml"))]
    assert len(files) > 20
    for path in files:
        errors = [error.message for error in VALIDATOR.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))]
        assert errors == [], path.name


def test_every_kind_of_file_is_declared_by_its_top_level_key() -> None:
    assert [schema.body_key(file) for file in schema.FILES] == list(validation.FILE_KINDS)
    assert [file.what for file in schema.FILES] == list(validation.FILE_KINDS.values())


def rule_with(old: str, new: str) -> str:
    assert old in RULE
    return RULE.replace(old, new)


# (what, rule file text, the loader's problem: code and message)
BROKEN_RULES = [
    ("unknown key", rule_with("    when:", "    whne: {}\n    when:"), "unknown-key", "unknown key 'whne' in a rule"),
    ("missing key", rule_with("    title: Our policy\n", ""), "missing-key", "a rule has no 'title'"),
    ("bad id", rule_with("id: org-policy", "id: Org_Policy"), "bad-id", "rule id 'Org_Policy' is not kebab-case"),
    ("title too long", rule_with("Our policy", "x" * 101), "too-long", "'title' is 101 characters; the limit is 100"),
    ("unknown kind", rule_with("    when:", "    kind: hint\n    when:"), "bad-value", "unknown kind 'hint'"),
    ("effect out of range", rule_with("celery: 5", "celery: 6"), "out-of-range", "'effects.celery' is 6"),
    ("effect on no option", rule_with("celery: 5", "kafka: 1"), "unknown-key", "unknown key 'kafka' in effects"),
    ("effects all zero", rule_with("celery: 5", "celery: 0"), "no-effect", "effects are all zero"),
    (
        "score without effects",
        rule_with("    effects: {celery: 5}\n", ""),
        "missing-key",
        "a score rule has no 'effects'",
    ),
    (
        "caveat with effects",
        rule_with("    when:", "    kind: caveat\n    when:"),
        "effects-not-scored",
        "'effects' is only for score rules",
    ),
    (
        "requirement without excludes",
        rule_with("    effects: {celery: 5}\n", "    kind: requirement\n"),
        "missing-key",
        "a requirement rule has no 'excludes'",
    ),
    (
        "requirement excluding everything",
        rule_with("effects: {celery: 5}", "kind: requirement\n    excludes: [celery, crossbar, hybrid, neither]"),
        "excludes-all",
        "a requirement cannot exclude every option",
    ),
    (
        "excludes on a score rule",
        rule_with("    when:", "    excludes: [celery]\n    when:"),
        "not-a-requirement",
        "'excludes' is only for requirement rules",
    ),
    (
        "severity on a score rule",
        rule_with("    when:", "    severity: note\n    when:"),
        "not-a-caveat",
        "'severity' is only for caveat rules",
    ),
    (
        "unknown severity",
        rule_with("effects: {celery: 5}", "kind: caveat\n    severity: fatal"),
        "bad-value",
        "unknown severity 'fatal'",
    ),
    (
        "applies_to an unknown option",
        rule_with("effects: {celery: 5}", "kind: caveat\n    applies_to: [kafka]"),
        "bad-value",
        "unknown option 'kafka'",
    ),
    (
        "no sources",
        rule_with("[https://intranet.example.org/adr/42]", "[]"),
        "empty-list",
        "'sources' must not be empty",
    ),
    ("http source", rule_with("https://intranet", "http://intranet"), "bad-source", "source 'http://intranet."),
    ("override not a boolean", rule_with("    when:", "    override: 'yes'\n    when:"), "wrong-type", "'override'"),
]


def load_problems(tmp_path: Path, text: str) -> list[tuple[str, str]]:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        rules.load(advice.load_bank(), [path])
    except DataError as exc:
        return [(problem.code, problem.message) for problem in exc.problems]
    return []


@pytest.mark.parametrize("what,text,code,message", BROKEN_RULES, ids=[row[0] for row in BROKEN_RULES])
def test_the_loader_and_the_json_schema_refuse_the_same_rules(
    tmp_path: Path, what: str, text: str, code: str, message: str
) -> None:
    problems = load_problems(tmp_path, text)
    assert [found for found in problems if found[0] == code and found[1].startswith(message)], problems
    assert list(VALIDATOR.iter_errors(yaml.safe_load(text))), "the JSON Schema accepts what the loader refuses"


GOOD_RULES = [
    ("score", RULE),
    ("requirement", rule_with("effects: {celery: 5}", "kind: requirement\n    excludes: [crossbar, neither]")),
    ("caveat", rule_with("effects: {celery: 5}", "kind: caveat\n    severity: blocking\n    applies_to: [crossbar]")),
    ("caveat with the default severity", rule_with("effects: {celery: 5}", "kind: caveat")),
    ("flow style", "{version: 1, rules: []}\n"),
]


@pytest.mark.parametrize("what,text", GOOD_RULES, ids=[row[0] for row in GOOD_RULES])
def test_the_loader_and_the_json_schema_accept_the_same_rules(tmp_path: Path, what: str, text: str) -> None:
    assert load_problems(tmp_path, text) == []
    assert [error.message for error in VALIDATOR.iter_errors(yaml.safe_load(text))] == []


def test_a_caveat_without_a_severity_is_important() -> None:
    assert schema.RULE.field("severity").default == rules.DEFAULT_SEVERITY == "important"


@pytest.mark.parametrize(
    "text,kind",
    [
        ("# a header\nversion: 1\nrules: []\n", "rules"),
        ("version: 1\ncases:\n  - name: x\n", "cases"),
        ("scenarios: []\nversion: 1\n", "scenarios"),
        ("{version: 1, questions: []}\n", "questions"),
        ('"answers": {}\nversion: 1\n', "answers"),
        ("version: 1\nservices: []\n", "services"),
        ("version: 1\nguide:\n  costs: []\n", "guide"),
        ("version: 1\nhello: []\n", None),
        ("not: [valid", None),
    ],
)
def test_a_files_kind_is_its_top_level_key(tmp_path: Path, text: str, kind: str | None) -> None:
    path = tmp_path / "any-name.yaml"
    path.write_text(text, encoding="utf-8")
    assert schema.file_kind(path) == kind


def test_a_rules_directory_reads_each_file_by_its_top_level_key_not_its_name(run: Run, tmp_path: Path) -> None:
    directory = tmp_path / "org"
    directory.mkdir()
    (directory / "policy.yaml").write_text(RULE, encoding="utf-8")
    (directory / "policy.cases.yaml").write_text(CASES, encoding="utf-8")
    # Neither name says what the file holds; their top-level keys do.
    (directory / "questions.yaml").write_text(RULE.replace("org-policy", "org-second"), encoding="utf-8")
    (directory / "checks.yaml").write_text(CASES, encoding="utf-8")
    (directory / "profiles.yaml").write_text(SCENARIOS, encoding="utf-8")
    assert [path.name for path in rules.rule_files(directory)] == ["policy.yaml", "questions.yaml"]
    assert [path.name for path in rules.files_of_kind(directory, "cases")] == ["checks.yaml", "policy.cases.yaml"]
    recommended = run("recommend", "--defaults", "--rules", str(directory), "--format", "json")
    assert recommended.code == 0, recommended.err
    linted = run("rules", "lint", str(directory))
    assert linted.err.splitlines() == [
        f"{directory}/questions.yaml:1:1: error[no-cases]: no cases file questions.cases.yaml beside this file "
        "(every rule needs a case that fires it)"
    ]
    (directory / "questions.cases.yaml").write_text(CASES.replace("org-policy", "org-second"), encoding="utf-8")
    assert run("rules", "lint", str(directory)).out == "ok: 2 rules in 2 files, 2 cases, 1 scenarios\n"


def module_name(dotted: str) -> str:
    """`advisor.rules` -> `rules`; anything outside the package -> ""."""
    return dotted.split(".")[1] if dotted.startswith("advisor.") else ""


def module_imports(path: Path) -> set[str]:
    """The advisor modules `path` imports at module level, `if TYPE_CHECKING:` blocks included."""
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        blocks = node.body if isinstance(node, ast.If) else [node]
        for statement in blocks:
            if isinstance(statement, ast.ImportFrom) and statement.module == "advisor":
                found |= {alias.name for alias in statement.names}
            elif isinstance(statement, ast.ImportFrom):
                found.add(module_name(statement.module or ""))
            elif isinstance(statement, ast.Import):
                found |= {module_name(alias.name) for alias in statement.names}
    return found - {""}


def test_the_package_has_no_import_cycle() -> None:
    # Imports inside functions are left out: they run after every module has loaded.
    graph = {path.stem: module_imports(path) for path in (ROOT / "advisor").glob("*.py")}
    assert "questions" not in graph["conditions"]
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " -> ".join((*path, module))
        if module in done:
            return
        for imported in graph.get(module, set()):
            visit(imported, (*path, module))
        done.add(module)

    for module in graph:
        visit(module, ())
    assert len(done) > 20


def test_the_start_up_path_loads_neither_the_schema_module_nor_the_guide(tmp_path: Path) -> None:
    # With the shipped rules compiled (as in a wheel), recommending needs no declarations.
    patch = (
        "from pathlib import Path\n"
        "from advisor import resources\n"
        f"resources.rules_dir = lambda: Path({str(ROOT / 'rules')!r})\n"
        f"resources.compiled_path = lambda name: Path({str(tmp_path)!r}) / name\n"
    )
    compile_it = patch + "from advisor import precompiled\nprecompiled.main([])\n"
    subprocess.run([sys.executable, "-c", compile_it], cwd=ROOT, check=True)
    probe = (
        patch + "import sys\nfrom advisor.cli import main\n"
        "assert main(['recommend', '--defaults', '--format', 'json']) == 0\n"
        "sys.stderr.write(repr(sorted(m for m in sys.modules if m.startswith('advisor.'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = done.stderr.strip().splitlines()[-1]
    assert "advisor.precompiled" in loaded
    assert "advisor.schema" not in loaded
    assert "advisor.guide" not in loaded  # JSON shows no costs, stages or terms
