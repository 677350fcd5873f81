"""The one JSON helper: every record the bot prints or packs goes through `to_json`.

Dataclasses become dicts field by field (the traversal `dataclasses.asdict` does), plus
the properties a class names in `json_properties` (derived values that belong in the
output, such as an event's article; a mapping names them under other keys); a field
whose metadata says `json=False` stays out. Enums give their value, dates and datetimes
ISO 8601, tuples and sets lists.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from enum import Enum
from pathlib import PurePath
from typing import Any


def to_json(value: Any) -> Any:
    """JSON-ready data (dicts, lists, str, numbers, bools, None) for `value`."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {
            f.name: to_json(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.metadata.get("json", True)
        }
        extra = getattr(type(value), "json_properties", ())
        renamed = extra.items() if isinstance(extra, Mapping) else ((n, n) for n in extra)
        for key, attribute in renamed:
            out[key] = to_json(getattr(value, attribute))
        return out
    if isinstance(value, Enum):
        return to_json(value.value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v) for v in value]
    if isinstance(value, PurePath):
        return str(value)
    return value
