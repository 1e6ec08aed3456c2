"""One `__repr__` for the advisor's frozen dataclasses, declared `@dataclass(frozen=True, repr=False)`.

dataclasses writes and compiles a `__repr__` for every class at import time; on the start-up
path that was a third of the advisor's own import cost. This single method shows the same
text (fields marked `repr=False` left out), so test failures and debugging read as before.
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
