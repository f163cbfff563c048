"""Altcraft's API methods as values: each names its paths, what its body carries and in which order, what a batch
request says once at its root, how it finds a profile, and whether a request that may have arrived may go again.

The preparer (records.py), the batches (batch.py) and the client (client.py) read a `Method`; none of them knows
which endpoint it serves."""

from __future__ import annotations

from dataclasses import dataclass

from courier.destinations.altcraft import rules

BOOL_OPTIONS = ("skip_triggers", "skip_invalid_subscriptions", "detect_geo")
SEGMENT_OPTIONS = ("add_to_segments", "remove_from_segments")
LAUNCH = (
    "trigger_id",
    "timeout",
    "custom_data",
    "content",
    "attach",
)  # a trigger campaign's launch (new-endpoints §B.2)
ALL_MODES = tuple(rules.MATCHING_KEYS)


@dataclass(frozen=True)
class Method:
    name: str  # as Altcraft's pages say it: "profiles/import"
    single_path: str  # under /api/v1.1/: one profile a request
    batch_path: str  # several profiles a request, answered item by item
    body: tuple[str, ...]  # every parameter a record may give, in the order the request body carries them
    batch_params: tuple[str, ...]  # said once at a batch request's root: records differing in any never share one
    item_keys: tuple[str, ...]  # a batch item's own matching keys
    nested_items: bool  # a batch item is {keys…, "data": {…}} (the "Data array"), not the data fields plus keys
    matching_modes: tuple[str, ...]  # the modes the method takes
    by_profile_id: bool  # matching profile_id finds a profile (it never creates one); a lone profile_id implies it
    creates: bool  # a profile not found is created: `data` is required, and no subscription status is -1
    phones_list: bool  # a bare data.phones number becomes a one-item list; False: sent as the record gives it
    may_resend: bool  # a possibly-sent request may go again when its data has no incr/add/delete; False: never
    answer_documented: bool  # the batch answer's `result[i]` is documented to answer item i

    def takes(self, name: str) -> bool:
        return name in self.body

    @property
    def launches(self) -> bool:
        """The method starts a campaign: its launch parameters may carry personal data and files."""
        return "trigger_id" in self.body


_PROFILE_BODY = ("db_id", "matching", *rules.KEY_FIELDS, "resource_id", *BOOL_OPTIONS, *SEGMENT_OPTIONS, "data")
_PROFILE_BATCH = ("db_id", "matching", "field_name", "resource_id", *BOOL_OPTIONS)
_PROFILE_ITEM_KEYS = ("email", "phone", "profile_id", "field_value", "provider", "subscription_id")

IMPORT = Method(
    name="profiles/import",
    single_path="profiles/import",
    batch_path="profiles/import_batch",
    body=_PROFILE_BODY,
    batch_params=_PROFILE_BATCH,
    item_keys=_PROFILE_ITEM_KEYS,
    nested_items=False,
    matching_modes=ALL_MODES,  # profile_id is listed, and refused: an import cannot create a profile by id
    by_profile_id=False,
    creates=True,
    phones_list=True,
    may_resend=True,
    answer_documented=True,
)

UPDATE = Method(
    name="profiles/update",
    single_path="profiles/update",
    batch_path="profiles/update_batch",
    body=_PROFILE_BODY,
    batch_params=_PROFILE_BATCH,
    item_keys=_PROFILE_ITEM_KEYS,
    nested_items=False,
    matching_modes=ALL_MODES,
    by_profile_id=True,
    creates=False,
    phones_list=True,
    may_resend=True,
    answer_documented=True,
)

# Import (upsert) a profile, then start a trigger campaign for it (new-endpoints §B.2–B.5). The body's order is
# the golden cases' (§C.2): trigger_id first, data after the matching keys, the launch parameters last. No db_id:
# the import goes to the trigger's own database (§B.2). No segments (§B.2: not in the table).
IMPORT_AND_START = Method(
    name="campaigns/triggers/import_and_start",
    single_path="campaigns/triggers/import_and_start",
    batch_path="campaigns/triggers/import_and_start_batch",
    body=(
        "trigger_id",
        "matching",
        "email",
        "phone",
        "profile_id",
        "field_name",
        "field_value",
        "resource_id",
        "data",
        *BOOL_OPTIONS,
        "timeout",
        "custom_data",
        "content",
        "attach",
    ),
    # inference: everything but the matching keys and `data` goes at the root of a batch request. The Data-array
    # page (§B.5) names custom_data per item in one copy only; kept at the root, records with different custom_data
    # go in different requests, which is right whichever reading the server has.
    batch_params=("trigger_id", "matching", "field_name", "resource_id", *BOOL_OPTIONS, *LAUNCH[1:]),
    item_keys=("email", "phone", "profile_id", "field_value"),  # the Data array's keys (§B.5); field_name is root
    nested_items=True,
    matching_modes=("email", "email_profile", "phone", "profile_id", "custom"),  # the five the page lists (§B.2)
    by_profile_id=True,
    creates=True,
    phones_list=False,  # inference: the batch page's own example sends `"phones": "+79…"` as text (§B.3)
    may_resend=False,  # a trigger started twice sends its message twice: what may have arrived never goes again
    answer_documented=False,  # the batch answer is [NOT FOUND] (§B.3, §B.11)
)

METHODS = (IMPORT, UPDATE, IMPORT_AND_START)
