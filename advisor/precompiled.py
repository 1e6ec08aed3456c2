"""The shipped question bank, rules and guide, validated once and kept beside them as pickles.

Parsing and validating the shipped YAML is most of what `advisor recommend` does on its own
before it answers, so the validated set is written at build time (the wheel's build hook,
hatch_build.py; `scripts/setup` for a checkout) and read back in a few milliseconds. It is
used only while its key matches: a hash of every shipped YAML file and of the modules that
parse them, so an edited rule file or loader is never shadowed by an old compilation. Rule
files passed with `--rules` always go through the YAML loader.

The pickle is read only from the advisor's own installation, never from a path a user
names: it is as trusted as the code beside it.

    python -m advisor.precompiled [OUT]     write it, and guide.pickle beside it
                                            (default: where the advisor looks for them)
"""

from __future__ import annotations

import dataclasses
import os
import sys
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor import __version__, questions, resources, rules

if TYPE_CHECKING:
    from advisor.guide import Guide

try:  # CPython's unpickler alone: importing the pickle module around it cost 2 ms of start-up
    from _pickle import loads
except ImportError:  # pragma: no cover - other Python implementations
    from pickle import loads

FORMAT = 1
FILE_NAME = "ruleset.pickle"
GUIDE_FILE_NAME = "guide.pickle"
# The modules whose code decides what loading the YAML produces.
LOADER_MODULES = ("rules", "questions", "conditions", "validation", "schema", "yamlsrc", "precompiled", "guide")


def sources() -> list[Path]:
    """Every YAML file of the shipped rules directory: what a compilation may be made from.

    All of them, not only the question bank and the rule files: which files hold rules is
    decided by their top-level key (advisor.schema.file_kind), and finding that out on every
    start would cost more than hashing the few other files.
    """
    return sorted(path for path in resources.rules_dir().iterdir() if path.suffix in (".yaml", ".yml"))


def key(files: list[Path]) -> str:
    """What the compilation depends on: format, versions, and every source's name and bytes.

    A change detector, not a seal (the pickle is as trusted as the code): CRC-32 and Adler-32
    together, because hashlib would load OpenSSL, a tenth of the start-up this file saves.
    """
    crc, adler = 0, 1
    package = Path(__file__).resolve().parent
    for path in [*files, *(package / f"{name}.py" for name in LOADER_MODULES)]:
        chunk = path.name.encode() + b"\0" + path.read_bytes() + b"\0"
        crc, adler = zlib.crc32(chunk, crc), zlib.adler32(chunk, adler)
    return f"{FORMAT} {__version__} {sys.version_info[0]}.{sys.version_info[1]} {crc:08x}{adler:08x}"


def _read(name: str) -> Any:
    """The object compiled into `name`, or None when it is missing or no longer matches."""
    try:
        stored_key, _, payload = resources.compiled_path(name).read_bytes().partition(b"\n")
        if stored_key.decode("ascii") != key(sources()):
            return None
        return loads(payload)
    except Exception:  # missing, unreadable or from another build: the YAML is the truth
        return None


def load_shipped() -> rules.RuleSet | None:
    """The compiled shipped rule set, or None when there is none or it no longer matches."""
    ruleset = _read(FILE_NAME)
    if not isinstance(ruleset, rules.RuleSet):
        return None
    _place(ruleset, str(resources.rules_dir()))
    return ruleset


def load_shipped_guide() -> Guide | None:
    """The compiled shipped guide, or None when there is none or it no longer matches."""
    from advisor.guide import Guide

    guide = _read(GUIDE_FILE_NAME)
    return guide if isinstance(guide, Guide) else None


def _stored(value: object) -> bytes:
    import pickle

    return key(sources()).encode("ascii") + b"\n" + pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def compile_shipped() -> bytes:
    """Validate the shipped YAML and return the file to store (key line, then the pickle)."""
    rules_dir = resources.rules_dir()
    ruleset = rules.load(questions.load(rules_dir / "questions.yaml"), rules.rule_files(rules_dir))
    portable = dataclasses.replace(
        ruleset, rules=tuple(dataclasses.replace(rule, path=Path(rule.path).name) for rule in ruleset.rules)
    )
    return _stored(portable)


def compile_guide() -> bytes:
    """Validate the shipped guide and return its file to store (key line, then the pickle)."""
    from advisor import guide

    rules_dir = resources.rules_dir()
    return _stored(guide.load(rules_dir / guide.FILE_NAME, questions.load(rules_dir / "questions.yaml")))


def _place(ruleset: rules.RuleSet, rules_dir: str) -> None:
    """Put the rules' file names (stored relative) under `rules_dir`, where they are read from.

    In place, on objects just unpickled that nothing else holds yet: rebuilding 80-odd rules
    with dataclasses.replace cost a tenth of the whole start-up.
    """
    for rule in ruleset.rules:
        rule.path = os.path.join(rules_dir, rule.path)


def _write(out: Path, data: bytes) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(out.name + ".tmp")
    temporary.write_bytes(data)
    temporary.replace(out)


def main(argv: list[str]) -> int:
    """python -m advisor.precompiled [OUT]: write the compiled rules to OUT (and the guide beside it)."""
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        # An option is not a file name: `--help` once wrote the compilation to a file called --help.
        sys.stderr.write("usage: python -m advisor.precompiled [OUT]  (default: the package's build location)\n")
        return 2
    out = Path(argv[0]) if argv else resources.compiled_path(FILE_NAME)
    _write(out, compile_shipped())
    _write(out.with_name(GUIDE_FILE_NAME), compile_guide())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
