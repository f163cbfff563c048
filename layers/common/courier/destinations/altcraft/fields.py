"""The Altcraft endpoints' record fields, each declared once (README's record format tables and the command line's
help come from these), and the rules between fields. Which fields an endpoint takes is its Method's body."""

from __future__ import annotations

from courier.destinations.altcraft.methods import Method
from courier.model import Field

FIELDS = {
    field.name: field
    for field in (
        Field("trigger_id", "positive whole number", "the trigger campaign started for the profile", required=True),
        Field("db_id", "positive whole number", "the Altcraft database; default ALTCRAFT_DB_ID"),
        Field(
            "matching",
            "one of the matching modes",
            "how the profile is found (email, phone, profile_id, custom, …); default ALTCRAFT_MATCHING",
        ),
        Field(
            "email",
            "e-mail address",
            "one address (never a list): the key of the email modes; in a flat record also the profile's e-mail",
        ),
        Field("phone", "phone number", "the key of the phone modes; default: the first of data.phones"),
        Field("profile_id", "text", "the key of matching profile_id (finds a profile, never creates one)"),
        Field("field_name", "text", "the custom profile field matched on (matching custom, custom_sub)"),
        Field("field_value", "text or number", "the custom field's value; default: data.<field_name>"),
        Field("provider", "text", "the push provider (matching push_sub)"),
        Field("subscription_id", "text", "the push subscription's id (matching push_sub)"),
        Field("resource_id", "positive whole number", "the resource whose subscriptions e-mail and phone match on"),
        Field(
            "data",
            "JSON object",
            "the profile's fields: _fname, _lname, phones, subscriptions, custom fields; update functions "
            '{"action": …} where the method takes them',
        ),
        Field("skip_triggers", "true or false", "skip the triggers an import or update would set off"),
        Field("skip_invalid_subscriptions", "true or false", "leave out invalid subscriptions instead of refusing"),
        Field("detect_geo", "true or false", "Altcraft finds the location from _regip or _ip"),
        Field("add_to_segments", "whole numbers (array, or ';'-separated)", "static segments to add the profile to"),
        Field("remove_from_segments", "whole numbers (array, or ';'-separated)", "static segments to remove it from"),
        Field("timeout", 'JSON object {"days", "hours", "minutes"}', "how long after the import the trigger starts"),
        Field("custom_data", "JSON object", "data for the campaign's Action hooks"),
        Field("content", "JSON object", "values for the message template: {apicontent.<name>}"),
        Field(
            "attach",
            'JSON array of {"data", "name"}',
            "files attached to the message: data is a data: URI with base64 (data:text/csv;base64,…)",
        ),
    )
}

FLAT = (
    "a flat record (a CSV row, or JSON without `data`) makes every other column a data field; a column "
    "`name:number|bool|tags|json|incr|add|delete|unset` is typed, phones are ';'-separated, subscriptions JSON"
)
ALONE = (
    "a batch item is the profile's own data: records matched by profile_id, push_sub or a _sub mode, whose data "
    "holds the key's field with another value or a function, whose phone is not the first of data.phones, or with "
    "segments, go one a request"
)
ONE_ADDRESS = "e-mail values hold one address: a list joined with ';' or ',' is refused (Altcraft reads it as one)"


def declared(method: Method) -> tuple[Field, ...]:
    """The method's record fields, in its body's order."""
    return tuple(FIELDS[name] for name in method.body)


IMPORT_RULES = (
    "data (or, in a flat record, its columns) is required",
    "matching needs its key: email (email, email_profile, email_sub), phone (phone, phone_sub), either "
    "(email_phone, email_phone_sub), field_name and field_value (custom, custom_sub), provider and subscription_id "
    "(push_sub); matching profile_id is for update only",
    "db_id or ALTCRAFT_DB_ID is required",
    ALONE,
    "a subscription's status or priority -1 leaves it as it is",
    ONE_ADDRESS,
    FLAT,
)
UPDATE_RULES = (
    "the profile must exist (Altcraft answers 404 otherwise); data may be empty",
    "matching needs its key, as for import; a record with profile_id and no email is matched by profile_id",
    "db_id or ALTCRAFT_DB_ID is required",
    'data values may be update functions {"action": set|unset|incr|add|delete|upsert, "value", "submatch"}; a '
    "record with incr, add or delete is never sent twice",
    ALONE,
    "records with skip_triggers, detect_geo or resource_id go one a request (update_batch does not list them)",
    "a subscription's status or priority -1 leaves it as it is",
    ONE_ADDRESS,
    FLAT,
)
IMPORT_TRIGGER_RULES = (
    "trigger_id and data (or, in a flat record, its columns) are required",
    "matching is one of email, email_profile, phone, profile_id, custom; it needs its key: email, phone, "
    "profile_id, or field_name and field_value; a record with profile_id and no email is matched by profile_id",
    "no db_id: the profile goes to the trigger's own database",
    "records that differ in trigger_id, matching, field_name, resource_id, the skip/detect options, timeout, "
    "custom_data, content or attach never share a request",
    "a request that may have arrived (its answer lost) is never sent again: its records go to rejected/",
    ONE_ADDRESS,
    FLAT,
)
