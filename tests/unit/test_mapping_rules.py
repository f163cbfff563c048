"""A mapping document, rule by rule: what each turns a source record into, what it refuses (naming the source field
and the rule, never the value), and every problem of the document reported with its line."""

from __future__ import annotations

import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from courier.destinations.altcraft.profiles import ALTCRAFT_PROFILE_IMPORT
from courier.destinations.appmetrica.events import APPMETRICA_EVENTS
from courier.mappings import check_name
from courier.mappings.rules import CompiledMapping, MappingError, parse
from courier.settings import Settings

EVENTS = APPMETRICA_EVENTS


def mapping(text: str) -> CompiledMapping:
    return parse(text, EVENTS, "test")


def problems(text: str) -> list[str]:
    with pytest.raises(MappingError) as raised:
        parse(text, EVENTS, "test")
    return raised.value.problems


def test_a_field_is_taken_from_a_source_column_by_its_exact_name() -> None:
    # Given a mapping that renames two columns, one with spaces and Cyrillic letters
    rules = mapping("fields:\n  profile_id: Customer ID\n  event_name: Событие\n")
    # When a record is mapped
    fields, errors = rules.apply({"Customer ID": "c1", "Событие": "buy", "Other": "x"})
    # Then it carries the destination's fields only (unmapped fields are dropped by default)
    assert (fields, errors) == ({"profile_id": "c1", "event_name": "buy"}, [])


def test_a_field_is_taken_by_a_jmespath_expression_over_a_json_record() -> None:
    # Given a mapping with an expression in `from` and in `path`
    rules = mapping("fields:\n  profile_id: data.object.customer\n  event_name: {path: 'data.items[0].name'}\n")
    # When a nested record is mapped
    fields, _ = rules.apply({"data": {"object": {"customer": "cus_1"}, "items": [{"name": "plan"}]}})
    # Then the expressions found the values
    assert fields == {"profile_id": "cus_1", "event_name": "plan"}


def test_a_missing_source_field_leaves_its_destination_field_out() -> None:
    # Given a mapping of two fields
    rules = mapping("fields:\n  profile_id: id\n  event_name: name\n")
    # When the record lacks one (or has it empty)
    fields, errors = rules.apply({"id": "c1", "name": ""})
    # Then the destination's own rules decide about it
    assert (fields, errors) == ({"profile_id": "c1"}, [])


def test_constants_and_templates_are_written_into_every_record() -> None:
    # Given constants and a template over a source field
    rules = mapping(
        "constants:\n  application_id: 1111\n  session_type: foreground\ntemplates:\n  event_name: 'payment_{type}'\n"
    )
    # When a record is mapped
    fields, _ = rules.apply({"type": "succeeded"})
    # Then the constants keep their YAML types and the template is filled in
    assert fields == {"application_id": 1111, "session_type": "foreground", "event_name": "payment_succeeded"}


def test_a_template_whose_source_field_is_missing_refuses_the_record_naming_the_field() -> None:
    rules = mapping("templates:\n  event_name: 'payment_{data.type}'\n")
    assert rules.apply({"data": {}}) == (None, ["data.type: is missing or not a single value (template of event_name)"])


def test_trim_and_lower() -> None:
    rules = mapping("fields:\n  profile_id: {from: E-mail, trim: true, lower: true}\n")
    assert rules.apply({"E-mail": "  Anna@Example.COM "})[0] == {"profile_id": "anna@example.com"}


def test_split_makes_a_list_of_trimmed_items_without_empty_ones() -> None:
    rules = parse("fields:\n  phones: {from: Телефоны, split: ';'}\n", ALTCRAFT_PROFILE_IMPORT)
    assert rules.apply({"Телефоны": "+7 916 000 00 01; +79160000002;"})[0] == {
        "phones": ["+7 916 000 00 01", "+79160000002"]
    }


@pytest.mark.parametrize(("text", "number"), [("1 234,50", "1234.50"), ("980,00", "980.00"), ("-1,5", "-1.5")])
def test_a_number_with_a_decimal_comma_becomes_a_decimal_point(text: str, number: str) -> None:
    rules = parse("fields:\n  ltv: {from: Баланс, decimal_comma: true}\n", ALTCRAFT_PROFILE_IMPORT)
    assert rules.apply({"Баланс": text})[0] == {"ltv": number}


def test_a_timestamp_in_a_stated_format_and_zone_becomes_unix_seconds() -> None:
    # Given a format of day.month.year hour:minute in Moscow time
    rules = mapping(
        "fields:\n  event_timestamp:\n    from: Дата\n    timestamp: {format: '%d.%m.%Y %H:%M', zone: Europe/Moscow}\n"
    )
    # When a time is mapped
    fields, _ = rules.apply({"Дата": "21.11.2026 09:30"})
    # Then it is the Unix seconds of that moment in Moscow, as text
    expected = int(datetime(2026, 11, 21, 9, 30, tzinfo=ZoneInfo("Europe/Moscow")).timestamp())
    assert fields == {"event_timestamp": str(expected)}


def test_a_timestamp_format_strptime_reads_itself_works_too() -> None:
    rules = mapping("fields:\n  event_timestamp: {from: at, timestamp: {format: '%Y-%m-%dT%H:%M:%S%z'}}\n")
    assert rules.apply({"at": "2026-11-21T09:30:00+0300"})[0] == {"event_timestamp": "1795242600"}


def test_a_time_that_does_not_match_is_refused_naming_the_field_and_the_format_never_the_value() -> None:
    rules = mapping("fields:\n  event_timestamp: {from: Дата, timestamp: {format: '%d.%m.%Y %H:%M'}}\n")
    fields, errors = rules.apply({"Дата": "31.02.2026 10:00"})
    assert fields is None
    assert errors == ["Дата: does not match the timestamp format %d.%m.%Y %H:%M (mapped to event_timestamp)"]
    assert "31.02" not in errors[0]


def test_a_value_map_turns_listed_values_and_refuses_others() -> None:
    # Given a map from Russian words to booleans
    rules = parse("fields:\n  subscribed: {from: Подписан, map: {'Да': true, 'Нет': false}}\n", ALTCRAFT_PROFILE_IMPORT)
    # Then the listed values are mapped, an unlisted one refuses the record without quoting it
    assert rules.apply({"Подписан": "Да"})[0] == {"subscribed": True}
    assert rules.apply({"Подписан": "Нет"})[0] == {"subscribed": False}
    assert rules.apply({"Подписан": "Может быть"}) == (
        None,
        ["Подписан: is not one of the values its map lists (mapped to subscribed)"],
    )


def test_records_the_filter_does_not_match_are_skipped_not_refused() -> None:
    rules = mapping("filter: \"type == 'payment.succeeded'\"\nfields:\n  profile_id: data.customer\n")
    assert rules.apply({"type": "customer.created", "data": {"customer": "c1"}}) == (None, [])
    assert rules.apply({"type": "payment.succeeded", "data": {"customer": "c1"}}) == ({"profile_id": "c1"}, [])


def test_unmapped_fields_pass_through_when_kept() -> None:
    rules = mapping("unmapped: keep\nfields:\n  profile_id: id\n")
    assert rules.apply({"id": "c1", "event_name": "buy"})[0] == {"event_name": "buy", "profile_id": "c1"}


def test_the_destinations_reasons_name_the_source_field_a_field_came_from() -> None:
    # Given a mapping in front of the events preparer
    rules = mapping("fields:\n  profile_id: id\n  event_name: name\n  event_timestamp: Время\n")
    prepare = rules.preparer(EVENTS.make_preparer(Settings(appmetrica_application_id="1111"), time.time()))
    # When a record's time is in milliseconds
    fields, errors = prepare({"id": "c1", "name": "buy", "Время": str(int(time.time()) * 1000)})
    # Then the reason names the source column and the destination field
    assert fields is None
    assert errors[0].startswith("Время → event_timestamp: ")


def test_a_source_column_that_is_used_is_known_and_others_are_ignored() -> None:
    rules = mapping("fields:\n  profile_id: data.object.customer\n  event_name: Event\n")
    assert rules.knows("data")
    assert rules.knows("Event")
    assert not rules.knows("Comment")


# Problems of the document, each with its line


def test_an_unknown_destination_field_is_reported_with_its_line() -> None:
    assert problems("fields:\n  profile_id: id\n  nickname: Ник\n") == [
        "line 3: fields.nickname: appmetrica_events has no field nickname (see `courier fields`)"
    ]


def test_a_bad_jmespath_expression_is_reported_with_its_line() -> None:
    assert problems("fields:\n  profile_id: id\n  event_name: {path: 'data.[['}\n") == [
        "line 3: fields.event_name.path: is not a JMESPath expression (IncompleteExpressionError)"
    ]
    assert problems("fields:\n  profile_id: id\nfilter: 'type ==='\n")[0].startswith("line 3: filter: ")


def test_bad_yaml_is_reported_with_its_line() -> None:
    [problem] = problems("fields:\n  profile_id: id\n  event_name: [unclosed\n")
    assert problem.startswith("line 4: not valid YAML")


def test_an_unknown_rule_a_wrong_choice_and_a_field_given_twice_are_each_reported_with_their_line() -> None:
    found = problems(
        "fields:\n  event_name: {from: a, uppercase: true}\n  profile_id: b\n  profile_id: c\nunmapped: maybe\n"
    )
    assert found == [
        "line 2: fields.event_name.uppercase: is not a rule a mapping knows",
        "line 4: fields.profile_id: is given twice",
        "line 5: unmapped: Input should be 'drop' or 'keep'",
    ]


def test_a_bad_time_zone_and_a_bad_template_are_reported() -> None:
    [zone] = problems("fields:\n  event_timestamp:\n    from: t\n    timestamp: {format: '%d', zone: Mars/Olympus}\n")
    assert zone.startswith("line 4: fields.event_timestamp.timestamp.zone: is not a known IANA time zone")
    [template] = problems("fields:\n  profile_id: id\ntemplates:\n  event_name: 'payment_{type'\n")
    assert template.startswith("line 4: templates.event_name: has an unmatched {")


def test_a_field_set_by_two_sections_and_two_conversions_on_one_field_are_refused() -> None:
    [conversions] = problems("fields:\n  event_name: {from: a, decimal_comma: true, map: {x: y}}\n")
    assert conversions.startswith("line 2: fields.event_name: takes one of map, decimal_comma and timestamp")
    assert problems("fields:\n  event_name: a\nconstants:\n  event_name: buy\n") == [
        "line 4: constants.event_name: is set by another section too"
    ]


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    assert problems("- profile_id\n") == ["line 1: a mapping is a YAML mapping (fields:, constants:, …)"]


@pytest.mark.parametrize("name", ["crm", "crm-2026", "stripe.v2"])
def test_a_mapping_name_is_a_plain_file_name(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["../events", "a/b", "..", "", "x" * 101])
def test_a_name_with_a_slash_or_dots_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match=re.escape("never '/' or '..'")):
        check_name(name)


def test_times_of_an_hour_seen_before_padded_or_not_read_the_same_as_the_first() -> None:
    # Given a format to the second, and the Unix seconds strptime gives for each time
    rules = mapping(
        "fields:\n  event_timestamp:\n    from: t\n    timestamp: {format: '%d.%m.%Y %H:%M:%S', zone: Europe/Moscow}\n"
    )
    moscow = ZoneInfo("Europe/Moscow")
    times = ["21.11.2026 09:30:15", "21.11.2026 09:31:00", "21.11.2026 9:59:59", "1.11.2026 09:05:00"]
    for text in times:
        expected = int(datetime.strptime(text, "%d.%m.%Y %H:%M:%S").replace(tzinfo=moscow).timestamp())
        # When each is mapped (the hour of the first is known when the second comes)
        fields, _ = rules.apply({"t": text})
        # Then each is the same moment
        assert fields == {"event_timestamp": str(expected)}
    # And a minute past 59 in a known hour is refused
    assert rules.apply({"t": "21.11.2026 09:61:00"})[0] is None


def test_a_document_with_aliases_is_refused_before_it_is_expanded() -> None:
    # Given a document whose aliases would expand a thousandfold at each level
    levels = "\n".join(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 8))
    # When it is read, then it is refused with the line of the first alias, never expanded
    [problem] = problems(f"fields:\n  profile_id: id\nl0: &l0 [x]\n{levels}\n")
    assert problem.endswith(": aliases (*name) are not allowed in a mapping")
