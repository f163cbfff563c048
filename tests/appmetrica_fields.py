"""What the AppMetrica field tests share (revenue, ad revenue, e-commerce): a fixed clock, and per endpoint a record
builder over a base record that passes, a preparer, and the two outcomes a test checks, refused or prepared."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from courier.destinations.appmetrica import fields as f
from courier.model import Destination, Preparer
from courier.settings import Settings

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC).timestamp()
HOUR_AGO = int(NOW) - 3600


@dataclass(frozen=True)
class FieldRules:
    """One endpoint's rules as the tests use them: `base` is a record the endpoint accepts as it is."""

    destination: Destination
    base: Mapping[str, Any]

    def preparer(self, default_application_id: str = "") -> Preparer:
        settings = Settings(APPMETRICA_APPLICATION_ID=default_application_id)
        return cast(Preparer, self.destination.make_preparer(settings, NOW))  # a dict record gives a dict

    def record(self, **fields: Any) -> dict[str, Any]:
        """The base record with `fields` set (a field already there keeps its place)."""
        return {**self.base, **fields}

    def without(self, name: str) -> dict[str, Any]:
        """The base record without the field `name`."""
        return {k: v for k, v in self.base.items() if k != name}

    def refused(self, record: dict[str, Any]) -> list[str]:
        """The reasons `record` is refused, checking it is."""
        fields, errors = self.preparer()(record)
        assert fields is None
        return errors

    def prepared(self, record: dict[str, Any], default_application_id: str = "") -> dict[str, Any]:
        """The fields sent for `record`, checking it is sent without a reason."""
        fields, errors = self.preparer(default_application_id)(record)
        assert errors == []
        assert fields is not None
        return fields

    def check_declaration(self, count: int, required: set[str], name: str, route: str) -> None:
        """Checks the endpoint declares its `count` fields once each, exactly the fields it takes, `required` those
        every record needs, each with a kind and a description; that its rules start with the shared ones; and its
        name, route and summary."""
        endpoint = self.destination
        names = [field.name for field in endpoint.declared]
        assert len(names) == len(set(names)) == count
        assert set(names) == endpoint.fields
        assert {field.name for field in endpoint.declared if field.required} == required
        assert all(field.description and field.kind for field in endpoint.declared)
        assert endpoint.rules[: len(f.RULES)] == f.RULES
        assert (endpoint.name, endpoint.route) == (name, route)
        assert endpoint.summary


def cases(name: str, pairs: Iterable[tuple[Any, Any]]) -> list[tuple[str, Any, Any]]:
    """(field, given, expected) parameters for one field, so that one test can check several fields' values."""
    return [(name, given, expected) for given, expected in pairs]
