"""A Post API method that takes CSV rows (events, revenue, ad revenue, e-commerce): its route, batching, sender and
record format all follow from its name, its path and its row format."""

from __future__ import annotations

from courier.destinations.apis import APPMETRICA
from courier.destinations.appmetrica import fields as f
from courier.destinations.appmetrica.client import by_application, post_api_sender
from courier.destinations.appmetrica.csv_batch import CsvBatch
from courier.model import Destination


def csv_endpoint(name: str, path: str, row: f.RowFormat, summary: str, rules: tuple[str, ...] = ()) -> Destination:
    """`name` is `appmetrica_<method>`, served on the route `/appmetrica/<method>`; `path` is the Post API's."""
    return Destination(
        name=name,
        route="/appmetrica/" + name.removeprefix("appmetrica_"),
        fields=row.names,
        make_preparer=row.preparer,
        batch_key=by_application,
        new_batch=CsvBatch,
        make_sender=post_api_sender(path),
        declared=row.declared,
        rules=(*f.RULES, *rules),
        summary=summary,
        api=APPMETRICA,
    )
