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
        Field("workflow_id", "positive whole number", "the automation scenario the profile enters", required=True),
        Field("pixel_id", "positive whole number", "the pixel the goal belongs to", required=True),
        Field("goal", "text, at most 128 characters", "the goal reached (or goals, for several)"),
        Field("goals", 'JSON array of {"goal", "value"}', "several goals, each with its value"),
        Field("value", "number", "the goal's value (may be negative)"),
        Field("pixel_data", "flat JSON object, at most 1 KB", "more about the goal event: no object or array inside"),
        Field("enrich_profile", "true or false", "let the event update the profile (Altcraft's default: true)"),
        Field("is_test", "true or false", "mark the event as a test"),
        Field("vendor", "text", "the profile's _vendor at the event"),
        Field("referer", "text", "the original request's referer"),
        Field("user_agent", "text", "the original request's browser"),
        Field("accept_language", "text", "the original request's Accept-Language"),
        Field("client_ip", "text", "the original request's IP address"),
        Field(
            "channel", "one of: email, sms, push, telegram_bot, whatsapp, viber, notify", "the subscription's channel"
        ),
        Field(
            "cc_data", "JSON object", 'the messenger\'s identity: {"id": chat id} (telegram_bot), {"phone"} (others)'
        ),
        Field(
            "status",
            "a status word or 0 to 6",
            "the new status (subscribed, unsubscribed, suspended, …); only to change it",
        ),
        Field("priority", "whole number, 0 or more", "the subscription's priority (0 is the highest)"),
        Field("custom_fields", "JSON object", "the subscription's own fields (_browser_name, …)"),
        Field("cats", "category names (array, or ';'-separated)", "the resource's categories to subscribe to"),
        Field("ip", "text", "the IP address the subscription was made from"),
        Field("url", "text", "the page the subscription was made on"),
    )
}
# The keys of a method that finds the profile by the record's keys alone (no profile data to take them from)
_LOOKUP_KEYS = {
    "email": Field("email", "e-mail address", "one address (never a list): the key of matching email"),
    "phone": Field("phone", "phone number", "the key of matching phone"),
    "profile_id": Field("profile_id", "text", "the key of matching profile_id"),
    "field_value": Field("field_value", "text or number", "the custom field's value (matching custom)"),
}
# What a parameter means for one method, where it is not what FIELDS says
BY_METHOD = {
    "profiles/delete": {
        **_LOOKUP_KEYS,
        "matching": Field(
            "matching",
            "one of: email, phone, profile_id, custom",
            "how the profile is found; default: the mode of the keys the record has",
        ),
        "resource_id": Field(
            "resource_id", "positive whole number", "narrows e-mail and phone matching to one resource's subscriptions"
        ),
    },
    "subscriptions/set": {
        "profile_id": Field("profile_id", "text", "the profile that owns the subscription", required=True),
        "resource_id": Field("resource_id", "positive whole number", "the resource of the subscription", required=True),
        "channel": Field(
            "channel",
            "one of: email, sms, push, telegram_bot, whatsapp, viber, notify",
            "the subscription's channel",
            required=True,
        ),
        "email": Field("email", "e-mail address", "the e-mail subscription's address (channel email)"),
        "phone": Field("phone", "phone number", "the SMS subscription's number (channel sms)"),
        "provider": Field("provider", "text", "the push provider (channel push)"),
        "subscription_id": Field("subscription_id", "text", "the push subscription's token (channel push)"),
        "date": Field("date", "RFC 3339 time", "when the subscription was made"),
        "skip_triggers": Field("skip_triggers", "true or false", "skip the triggers the change would set off"),
    },
    "goals/register": {
        **_LOOKUP_KEYS,
        "matching": Field(
            "matching",
            "one of: email, email_profile, phone, profile_id, custom",
            "how the profile is found; default: the mode of the keys the record has",
        ),
        "date": Field("date", "RFC 3339 time", "when the goal was reached (default: now)"),
        "skip_triggers": Field(
            "skip_triggers", "true or false", "skip the triggers and scenarios the goal would start"
        ),
    },
    "workflows/import_and_start": {
        "content": Field(
            "content", "JSON object", "values for the scenario's API nodes and templates: {apicontent.<name>}"
        ),
        "matching": Field(
            "matching",
            "one of: email, email_profile, phone, profile_id, custom",
            "how the profile is found (the scenario page requires one); default ALTCRAFT_MATCHING",
        ),
    },
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
    own = BY_METHOD.get(method.name, {})
    return tuple(own.get(name) or FIELDS[name] for name in method.body)


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
ADD_RULES = (
    "data (or, in a flat record, its columns) is required: every record creates a new profile, found by nothing",
    "db_id or ALTCRAFT_DB_ID is required",
    "a second profile with the same unique e-mail is refused by Altcraft",
    "a request that may have arrived (its answer lost) is never sent again: a resend would create the profile twice",
    ONE_ADDRESS,
    FLAT,
)
WORKFLOW_RULES = (
    "workflow_id is required; data is optional",
    "matching is one of email, email_profile, phone, profile_id, custom (default ALTCRAFT_MATCHING); it needs its "
    "key: email, phone, profile_id, or field_name and field_value",
    "no db_id: the profile goes to the scenario's database",
    "records that differ in workflow_id, matching, field_name, the skip/detect options, content, custom_data or "
    "attach never share a request",
    "a request that may have arrived (its answer lost) is never sent again: the profile would run the scenario twice",
    ONE_ADDRESS,
    FLAT,
)
DELETE_RULES = (
    "one profile a request: found by email, phone, profile_id, or field_name and field_value (matching custom)",
    "matching, when left out, is the mode of the keys the record has, never ALTCRAFT_MATCHING; a record with no key, "
    "with keys of two modes or with an unknown mode is refused and never sent",
    "any other parameter is refused; db_id or ALTCRAFT_DB_ID is required",
    "a profile already gone (Altcraft's not found) counts as deleted: a resend after a lost answer completes it",
)
SUBSCRIPTION_RULES = (
    "profile_id, resource_id and channel are required, with the channel's identity: email (email), phone (sms), "
    "provider and subscription_id (push), cc_data (telegram_bot: id; whatsapp, viber, notify: phone)",
    "status is a word or its number: subscribed 0, unsubscribed 1, complained 2, hardbounced 3, unconfirmed 4, "
    "suspended 5, invalid 6",
    "any other parameter is refused; db_id or ALTCRAFT_DB_ID is required",
    "a state set twice is set once: a request that may have arrived is sent again",
)
GOAL_RULES = (
    "pixel_id is required, with goal (and its value) or goals",
    "the profile is found by email, phone, profile_id, or field_name and field_value; matching, when left out, is "
    "the mode of the keys the record has",
    "pixel_data is a flat object of at most 1 KB; dates are RFC 3339 with their offset",
    "any other parameter is refused; db_id or ALTCRAFT_DB_ID is required",
    "a request that may have arrived (its answer lost) is never sent again: the goal would count twice",
)
