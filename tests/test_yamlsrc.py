"""Safe YAML loading: every bad input is refused with a located error, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor import yamlsrc
from advisor.errors import DataError, InputError

BAD = [
    # (case, text, code, line, col)
    ("unclosed quote", 'a: "abc\nb: 2', "yaml-syntax", 2, 5),
    ("tab indentation", "a:\n\tb: 1", "yaml-syntax", 2, 1),
    ("bad indent", "a:\n  b: 1\n c: 2", "yaml-syntax", 3, 2),
    ("duplicate key", "id: x\nother: 1\nid: y", "duplicate-key", 3, 1),
    ("python tag", "a: !!python/name:os.system", "yaml-tag", 1, 4),
    ("python object", "a: !!python/object/apply:os.system ['touch PWNED']", "yaml-tag", 1, 4),
    ("custom tag", "a: !secret x", "yaml-tag", 1, 4),
    ("anchor and alias", "a: &x 1\nb: *x", "yaml-anchor", 1, 4),
    ("recursive alias", "a: &a [*a]", "yaml-anchor", 1, 4),
    ("deep nesting", "a: " + "[" * 600 + "]" * 600, "too-deep", 1, 35),
    ("second document", "a: 1\n---\nb: 2", "multi-document", 2, 1),
    ("yaml 1.1 boolean value", "light: off", "yaml-ambiguous", 1, 8),
    ("yaml 1.1 boolean key", "on: 1", "yaml-ambiguous", 1, 1),
    ("octal", "mode: 0755", "yaml-ambiguous", 1, 7),
    ("base 60", "at: 1:30", "yaml-ambiguous", 1, 5),
    ("huge integer", "n: " + "9" * 5000, "number-too-large", 1, 4),
    ("complex key", "? [1, 2]\n: x", "yaml-key", 1, 3),
    ("merge key", "a: {b: 1}\nc:\n  <<: {d: 1}", "yaml-key", 3, 3),
    ("NUL character", "a: \x00", "control-char", 1, 4),
    ("escape sequence", "a: x\x1b]0;pwned\x07", "control-char", 1, 5),
    ("empty file", "", "empty", 1, 1),
    ("only comments", "# nothing\n", "empty", 1, 1),
]


@pytest.mark.parametrize("case,text,code,line,col", BAD, ids=[row[0] for row in BAD])
def test_bad_yaml_is_refused_with_its_location(case: str, text: str, code: str, line: int, col: int) -> None:
    with pytest.raises(DataError) as caught:
        yamlsrc.load_text(text, "f.yaml")
    first = caught.value.problems[0]
    assert (first.code, first.line, first.col) == (code, line, col), str(caught.value)
    assert str(first).startswith(f"f.yaml:{line}:{col}: error[{code}]: ")


def test_non_utf8_byte_is_located_by_line_and_column() -> None:
    with pytest.raises(DataError) as caught:
        yamlsrc.load_bytes(b"ok: 1\na: caf\xe9", "latin1.yaml")
    assert str(caught.value) == "latin1.yaml:2:7: error[encoding]: the file is not valid UTF-8 (save it as UTF-8)"


def test_utf8_bom_is_accepted_and_utf16_refused() -> None:
    assert yamlsrc.load_bytes(b"\xef\xbb\xbfa: 1", "bom.yaml").data == {"a": 1}
    with pytest.raises(DataError, match="UTF-16"):
        yamlsrc.load_bytes("a: 1".encode("utf-16"), "u16.yaml")


def test_alias_bomb_is_refused_before_expansion() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for name, prev in zip("bcdefghi", "abcdefgh", strict=False):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(DataError) as caught:
        yamlsrc.load_text("\n".join(lines), "bomb.yaml")
    assert {p.code for p in caught.value.problems} <= {"yaml-anchor", "yaml-alias"}


def test_plain_values_keep_their_types_and_positions() -> None:
    doc = yamlsrc.load_text("a: 1\nb: [true, x]\nc: {d: '0755'}\nwhen: 2024-01-01\n", "ok.yaml")
    assert doc.data == {"a": 1, "b": [True, "x"], "c": {"d": "0755"}, "when": "2024-01-01"}
    assert doc.where(("b", 1)) == (2, 11)
    assert doc.where(("c", "d"), key=True) == (3, 5)


def test_oversized_file_is_refused_without_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: 1\n" * (yamlsrc.MAX_BYTES // 5 + 10))
    with pytest.raises(DataError, match=r"big.yaml:1:1: error\[too-large\]"):
        yamlsrc.load_file(big)


def test_fifo_and_missing_files_are_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    import os

    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        yamlsrc.load_file(fifo)
    with pytest.raises(InputError, match="no such file"):
        yamlsrc.load_file(tmp_path / "absent.yaml")


def test_code_never_uses_an_unsafe_yaml_loader() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in Path("advisor").rglob("*.py"))
    for unsafe in ("FullLoader", "UnsafeLoader", "full_load", "unsafe_load", "yaml.load("):
        assert unsafe not in source
