"""The one JSON helper: what every record looks like when printed or packed."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

from bot.chat.serial import to_json


class Kind(StrEnum):
    PERSON = "person"


@dataclass(frozen=True)
class Inner:
    at: dt.datetime
    day: dt.date


@dataclass(frozen=True)
class Outer:
    json_properties: ClassVar[tuple[str, ...]] = ("count",)

    kind: Kind
    names: tuple[str, ...]
    inner: Inner
    hidden: str = field(default="secret", metadata={"json": False})

    @property
    def count(self) -> int:
        return len(self.names)


@dataclass(frozen=True)
class Renamed:
    json_properties: ClassVar[Mapping[str, str]] = {"total": "size"}

    items: tuple[int, ...]

    @property
    def size(self) -> int:
        return len(self.items)


WHEN = dt.datetime(2024, 4, 19, 8, 30, tzinfo=dt.UTC)


def test_a_dataclass_becomes_plain_json_with_iso_dates_enum_values_and_lists() -> None:
    data = to_json(Outer(Kind.PERSON, ("a", "b"), Inner(WHEN, WHEN.date())))
    assert data == {
        "kind": "person",
        "names": ["a", "b"],
        "inner": {"at": "2024-04-19T08:30:00+00:00", "day": "2024-04-19"},
        "count": 2,
    }
    assert json.loads(json.dumps(data)) == data


def test_a_field_marked_json_false_stays_out() -> None:
    assert "hidden" not in to_json(Outer(Kind.PERSON, (), Inner(WHEN, WHEN.date())))


def test_properties_can_be_published_under_another_key() -> None:
    assert to_json(Renamed((1, 2, 3))) == {"items": [1, 2, 3], "total": 3}


def test_lists_and_mappings_of_records_are_converted_element_by_element() -> None:
    assert to_json({"when": [WHEN], 3: Kind.PERSON}) == {
        "when": ["2024-04-19T08:30:00+00:00"],
        "3": "person",
    }
