"""The advisor's model records: dataclasses declared `@dataclass(repr=False, eq=False)` + `Record`.

They are records the loader builds once and nothing changes afterwards (immutable by
convention, compared by identity). dataclasses writes and compiles code at import time for
every method it generates, and on the start-up path that was the largest part of the
advisor's own cost: a generated `__repr__` a third of it, `frozen=True` (whose `__setattr__`,
`__delattr__` and slower `__init__` are generated too) and `__eq__`/`__hash__` most of the
rest. So only `__init__` is generated, and this single `__repr__` shows the same text
(fields marked `repr=False` left out), so test failures and debugging read as before.
"""

from __future__ import annotations

from typing import Any


class Record:
    """Mixin: the dataclass-style repr, computed when asked for rather than generated per class."""

    __slots__ = ()

    def __repr__(self) -> str:
        fields: dict[str, Any] = getattr(self, "__dataclass_fields__", {})
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name, field in fields.items() if field.repr)
        return f"{type(self).__name__}({shown})"
