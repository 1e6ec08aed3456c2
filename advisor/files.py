"""Writing a user's file safely: all or nothing, never through a symlink, never over a file without --force."""

from __future__ import annotations

import os
from pathlib import Path

from advisor.errors import InputError, RefusedError


def check_writable(path: Path, force: bool) -> None:
    """Refuse a symlink, a directory, or an existing file without --force (before a long run, too)."""
    if path.is_symlink() or path.is_dir():
        raise RefusedError(f"{path}: refusing to write to a symlink or directory")
    if path.exists() and not force:
        raise RefusedError(f"{path}: file exists; pass --force to overwrite it")


def write_atomically(path: Path, text: str, force: bool) -> None:
    """Write via a temp file in the same directory and rename: never half-written, never through a symlink."""
    check_writable(path, force)
    import tempfile  # only when writing: not on the start-up path

    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"{path}: directory {parent} does not exist")
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise
