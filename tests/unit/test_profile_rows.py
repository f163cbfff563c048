"""AppMetrica profiles from a CSV file's rows: a header's plan reads each row's cells by position and gives exactly
what the general path gives for the same fields as a plain dict (the same fields in the same order, the same
attributes text, the same reasons and notes); rows and headers it does not take go to the general path."""

from __future__ import annotations

import csv
import json
import time
from typing import Any

import pytest

from courier.destinations.appmetrica import fields as appmetrica_fields
from courier.destinations.appmetrica.csv_batch import CsvBatch
from courier.destinations.appmetrica.first_party import sha256_hex
from courier.destinations.appmetrica.profiles import make_profile_preparer
from courier.model import CsvRow, Prepared, Preparer
from courier.settings import Settings

HEADER = ("profile_id", "attributes.level", "phone", "email", "telegram")
BENCH_LINE = "crm-17,gold,+7 (916) 017-00-17,User.17+x@GoogleMail.com,@User17"  # as bench/run.py writes profiles
HASH = "ec4965fb8041904352616bc2201fcafc312e6fd990dfee51eacd44f203a9b94f"  # +7 916 012-34-56


def preparer(**settings: Any) -> Preparer:
    return make_profile_preparer(Settings(**{"APPMETRICA_APPLICATION_ID": "1111", **settings}), time.time())


def row(line: str, header: tuple[str, ...] = HEADER) -> CsvRow:
    """The row as the file source gives it: its cells, and its line as written."""
    return CsvRow(header, next(csv.reader([line])), line.encode())


def both_ways(line: str, header: tuple[str, ...] = HEADER, *, planned: bool, **settings: Any) -> Prepared:
    """The row prepared as a file's row and as a plain dict of the same fields (the general path); asserts they give
    the same, the fields in the same order, and that the file's row went by its header's plan or not, as `planned`
    says (whether the general path's first step ran for it); returns what they gave."""
    prepare = preparer(**settings)
    general_runs: list[object] = []
    convert_fields = appmetrica_fields.convert_fields

    def general(*given: Any) -> Any:  # the general path's first step, counted
        general_runs.append(given)
        return convert_fields(*given)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(appmetrica_fields, "convert_fields", general)
        as_row = prepare(row(line, header))
    assert (not general_runs) is planned
    as_dict = prepare(dict(zip(header, next(csv.reader([line])), strict=True)))
    assert as_row == as_dict
    assert list(as_row[0] or ()) == list(as_dict[0] or ())
    return as_row


def test_the_bench_row_hashes_its_three_first_party_values_as_the_general_path_does() -> None:
    # Given the bench's profiles row: a text attribute and a phone, an e-mail and a Telegram login to hash
    # When it is prepared as a file's row
    fields, notes = both_ways(BENCH_LINE, planned=True)
    # Then it goes by its header's plan: the configured application id first, the profile id, then the attributes
    # in the general path's order
    assert notes == []
    assert fields is not None
    assert list(fields) == ["application_id", "profile_id", "attributes"]
    assert fields["application_id"] == "1111"
    assert fields["profile_id"] == "crm-17"
    assert fields["attributes"] == (
        '{"level":"gold",'
        f'"appmetrica_1pd_phone_sha256_0":"{sha256_hex("79160170017")}",'
        f'"appmetrica_1pd_email_sha256_0":"{sha256_hex("user17@gmail.com")}",'
        f'"appmetrica_1pd_telegram_sha256":"{sha256_hex("@user17")}"}}'
    )


def test_a_batch_of_file_rows_has_the_body_of_the_same_records_prepared_as_dicts() -> None:
    # Given rows that take the plan and rows that do not (several values, an invalid phone, no first-party data)
    lines = [BENCH_LINE, "p2,,+7 916 000-00-01;89160000002,a@example.com,", "p3,silver,12345,,@x", "p4,,,,@durov"]
    prepare = preparer()
    by_row, by_dict = CsvBatch("1111"), CsvBatch("1111")
    # When each is prepared as a file's row and as a dict, and batched
    for index, line in enumerate(lines):
        for batch, record in ((by_row, row(line)), (by_dict, dict(row(line)))):
            fields, _ = prepare(record)
            assert fields is not None
            batch.add(fields, index)
    # Then the two bodies are the same, byte for byte
    assert by_row.body() == by_dict.body()


def test_several_values_in_a_cell_are_hashed_deduplicated_and_noted_as_the_general_path_does() -> None:
    # Given cells of several values separated by ';', one of them invalid, two the same number once normalised
    fields, notes = both_ways(
        "p,,+7 916 012-34-56; 8 916 012 34 56;12345,a@example.com;;b@example.com,@a;@b", planned=True
    )
    # Then each distinct valid value goes under its own name, and what was dropped is noted
    assert fields is not None
    assert json.loads(fields["attributes"]) == {
        "appmetrica_1pd_phone_sha256_0": HASH,
        "appmetrica_1pd_email_sha256_0": sha256_hex("a@example.com"),
        "appmetrica_1pd_email_sha256_1": sha256_hex("b@example.com"),
        "appmetrica_1pd_telegram_sha256": sha256_hex("@a"),
    }
    assert notes == [
        "phone: a value that is not a phone number was dropped",
        "telegram: only the first 1 distinct values are sent",
    ]


def test_values_hashed_upstream_go_lower_case_and_are_not_hashed_again() -> None:
    # Given a phone and an e-mail hashed upstream, written in upper case and with spaces around
    fields, notes = both_ways(f"p,,{HASH.upper()}, {HASH} ,", planned=True)
    # Then each goes as its lower-case hash
    assert notes == []
    assert fields is not None
    assert json.loads(fields["attributes"]) == {
        "appmetrica_1pd_phone_sha256_0": HASH,
        "appmetrica_1pd_email_sha256_0": HASH,
    }


@pytest.mark.parametrize(
    ("line", "attributes"),
    [
        ("p,gold,,,", {"level": "gold"}),  # empty first-party cells are absent
        ("p,,,,@durov", {"appmetrica_1pd_telegram_sha256": sha256_hex("@durov")}),  # an empty flat cell too
        ("p,, , ,", None),  # blank first-party cells are no value: nothing to send (and the general path says so)
        ("p,,,,", None),
    ],
)
def test_empty_cells_count_as_absent(line: str, attributes: dict[str, str] | None) -> None:
    fields, errors = both_ways(line, planned=attributes is not None)
    if attributes is None:
        assert fields is None
        assert errors == ["attributes: nothing to send"]
    else:
        assert fields is not None
        assert errors == []
        assert json.loads(fields["attributes"]) == attributes


@pytest.mark.parametrize(
    ("line", "errors"),
    [
        (
            "p,,12345,secret.person@,",
            [
                "attributes: nothing to send",
                "phone: a value that is not a phone number was dropped",
                "email: a value that is not an e-mail was dropped",
            ],
        ),
        (",gold,,,", ["profile_id: is required (the profiles method matches profiles by profile_id)"]),
        ("p" * 201 + ",gold,,,", ["profile_id: longer than 200 characters"]),
        ("p," + "x" * 201 + ",,,", ["attributes.level: text longer than 200 characters"]),
    ],
)
def test_a_row_that_is_refused_gets_the_general_paths_reasons(line: str, errors: list[str]) -> None:
    assert both_ways(line, planned=False) == (None, errors)


def test_an_invalid_value_among_valid_ones_is_dropped_with_a_note_and_the_rest_sent() -> None:
    fields, notes = both_ways("p,gold,12345,a@example.com,", planned=True)
    assert fields is not None
    assert json.loads(fields["attributes"]) == {
        "level": "gold",
        "appmetrica_1pd_email_sha256_0": sha256_hex("a@example.com"),
    }
    assert notes == ["phone: a value that is not a phone number was dropped"]


@pytest.mark.parametrize(
    ("header", "line", "fields"),
    [
        (("application_id", "profile_id", "telegram"), "2222,p,@durov", ["application_id", "profile_id"]),
        (("profile_id", "application_id", "telegram"), "p,2222,@durov", ["profile_id", "application_id"]),
        (("profile_id", "application_id", "telegram"), "p, 2222 ,@durov", ["profile_id", "application_id"]),
        (("profile_id", "application_id", "telegram"), "p,,@durov", ["application_id", "profile_id"]),
    ],
)
def test_an_application_id_cell_is_converted_and_keeps_its_place(
    header: tuple[str, ...], line: str, fields: list[str]
) -> None:
    # Given an application id column before or after profile_id, its cell given (with spaces around) or empty
    prepared, notes = both_ways(line, header, planned=True)
    # Then the row's id goes in its column's place, the configured one first when the cell is empty
    assert notes == []
    assert prepared is not None
    assert list(prepared) == [*fields, "attributes"]
    assert prepared["application_id"] == ("1111" if ",," in line else "2222")
    assert prepared["profile_id"] == "p"


def test_an_application_id_cell_that_is_not_valid_gets_the_general_paths_reason() -> None:
    fields, errors = both_ways("0,p,@durov", ("application_id", "profile_id", "telegram"), planned=False)
    assert fields is None
    assert errors == ["application_id: must be a positive number (the id from the app's settings in AppMetrica)"]


def test_without_an_application_id_configured_or_given_the_row_is_refused() -> None:
    fields, errors = both_ways("p,gold,,,", planned=False, APPMETRICA_APPLICATION_ID="")
    assert fields is None
    assert errors == ["application_id: is required (or set APPMETRICA_APPLICATION_ID)"]


@pytest.mark.parametrize(
    ("header", "line", "planned"),
    [
        (("profile_id", "attributes", "phone"), 'p,"{""city"":""Kazan""}",+7 916 012-34-56', False),  # JSON given
        (
            ("profile_id", "attributes", "phone"),
            f'p,"{{""appmetrica_1pd_phone_sha256_0"":""{HASH.upper()}""}}",',
            False,
        ),
        (("profile_id", "attributes", "phone"), "p,,+7 916 012-34-56", True),  # an empty JSON cell
        (("profile_id", "attributes", "phone"), f'p,"{{""appmetrica_1pd_phone_sha256_0"":""{HASH}""}}",+7 916', False),
        (("profile_id", "appmetrica_device_id", "phone"), "p,123,+7 916 012-34-56", False),
        (("profile_id", "appmetrica_device_id", "phone"), "p,,+7 916 012-34-56", True),
        (("profile_id", "unknown", "attributes.city", "phone"), "p,x,Kazan,+7 916 012-34-56", True),  # not sent
        (("profile_id", "attributes.city", "attributes.city:number"), "p,Kazan,2", False),  # one name twice
        (("profile_id", "phone", "phone"), "p,+7 916 012-34-56,12345", False),  # a column twice: the last one counts
        (("profile_id", "attributes.when:date", "phone"), "p,,+7 916 012-34-56", False),  # a bad header, cell empty
        (("profile_id", "attributes.when:date", "phone"), "p,2026-01-01,+7 916 012-34-56", False),
        (("profile_id", "attributes.appmetrica_1pd_phone_sha256_0", "phone"), f"p,{HASH},+7 916 012-34-56", False),
        (("profile_id", "attributes.appmetrica_1pd_phone_sha256_0"), f"p,{HASH.upper()}", False),
        (("profile_id", "attributes." + "n" * 201), "p,x", False),
        (("attributes.city", "phone"), "Kazan,+7 916 012-34-56", False),  # no profile_id column
    ],
)
def test_headers_and_cells_the_plan_does_not_take_are_prepared_as_the_general_path_prepares_them(
    header: tuple[str, ...], line: str, planned: bool
) -> None:
    # Given a header or a row the plan leaves to the general path (or takes, where it must give the same)
    # When it is prepared as a file's row, then it gives what the same fields give as a dict, by the path expected
    both_ways(line, header, planned=planned)


def test_typed_columns_are_written_as_compact_json_writes_them_in_the_headers_order() -> None:
    # Given text, number, counter and bool columns mixed, one of them empty, and a phone
    header = (
        "profile_id",
        "attributes.ltv:number",
        "attributes.city",
        "attributes.vip:bool",
        "attributes.visits:counter",
        "attributes.age:number",
        "attributes.note",
        "phone",
    )
    fields, notes = both_ways('p,15230.5,"Ка""зань, ""x""",TRUE,-1,,\\,+7 916 012-34-56', header, planned=True)
    # Then each attribute goes with its JSON type, in the header's order, before the hashes
    assert notes == []
    assert fields is not None
    assert fields["attributes"] == (
        '{"ltv":15230.5,"city":"Ка\\"зань, \\"x\\"","vip":true,"visits":-1,"note":"\\\\",'
        f'"appmetrica_1pd_phone_sha256_0":"{HASH}"}}'
    )


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("p,forty,", "attributes.age:number: must be a number"),
        ("p,1e400,", "attributes.age:number: must be a finite number"),
        ("p,,maybe", "attributes.vip:bool: must be true or false"),
    ],
)
def test_typed_cells_that_do_not_convert_get_the_general_paths_reason(line: str, reason: str) -> None:
    fields, errors = both_ways(line, ("profile_id", "attributes.age:number", "attributes.vip:bool"), planned=False)
    assert fields is None
    assert any(error.startswith(reason) for error in errors), errors


def test_more_than_a_hundred_attributes_are_refused_as_the_general_path_refuses_them() -> None:
    header = ("profile_id", *(f"attributes.a{i}" for i in range(99)), "phone", "email")
    fields, errors = both_ways("p," + ",".join("x" * 99) + ",+7 916 012-34-56,a@example.com", header, planned=False)
    assert fields is None
    assert errors == ["attributes: more than 100 attributes"]


@pytest.mark.parametrize(
    ("settings", "attributes"),
    [
        ({"APPMETRICA_TELEGRAM_STRIP_AT": "true"}, {"appmetrica_1pd_telegram_sha256_0": None}),
        ({"APPMETRICA_TELEGRAM_SDK_NAMES": "true"}, {"appmetrica_1pd_telegram_sha256_1": sha256_hex("@telegram")}),
    ],
)
def test_the_telegram_settings_apply_to_file_rows(settings: dict[str, str], attributes: dict[str, Any]) -> None:
    # Given two Telegram logins in a cell, and a setting that strips the '@' or gives each its SDK name
    fields, notes = both_ways("p, @Durov ;@Telegram", ("profile_id", "telegram"), planned=True, **settings)
    # Then the logins go as the setting says
    assert fields is not None
    sent = json.loads(fields["attributes"])
    if "APPMETRICA_TELEGRAM_STRIP_AT" in settings:
        assert sent == {"appmetrica_1pd_telegram_sha256": sha256_hex("durov")}
        assert notes == ["telegram: only the first 1 distinct values are sent"]
    else:
        assert sent == {"appmetrica_1pd_telegram_sha256_0": sha256_hex("@durov"), **attributes}
        assert notes == []


def test_a_row_narrower_than_its_header_is_prepared_from_its_fields() -> None:
    # Given a CsvRow whose cells stop short of its header (no file source gives one, but a caller could)
    record = CsvRow(HEADER, ["p", "gold"], b"")
    # When it is prepared, then it is prepared as the dict it is
    expected = {"application_id": "1111", "profile_id": "p", "attributes": '{"level":"gold"}'}
    assert preparer()(record) == preparer()(dict(record)) == (expected, [])


def test_a_plain_dict_and_a_dict_subclass_are_prepared_by_the_general_path() -> None:
    # Given the bench row's fields as a plain dict and as a dict subclass that is not a CsvRow
    class Fields(dict[str, str]):
        columns = HEADER

    plain = dict(row(BENCH_LINE))
    # When each is prepared, then both give what the file's row gives
    expected = preparer()(row(BENCH_LINE))
    assert preparer()(plain) == expected
    assert preparer()(Fields(plain)) == expected
