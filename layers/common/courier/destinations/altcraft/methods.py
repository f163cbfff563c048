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
    item_keys: tuple[str, ...]  # keys a batch item carries besides its data: the Data array's (§B.5); none for profiles
    nested_items: bool  # a batch item is {keys…, "data": {…}} (the "Data array"), not the data fields plus keys
    matching_modes: tuple[str, ...]  # the modes the method takes
    by_profile_id: bool  # matching profile_id finds a profile (it never creates one); a lone profile_id implies it
    creates: bool  # a profile not found is created: `data` is required
    unchanged_status: bool  # a subscription's status or priority -1 leaves it as it is (PROFILE_BATCHES' pages)
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

# --- What profiles/import_batch and profiles/update_batch carry, and where: ONE table ------------------------------
# A batch item is the profile's own data (the pages show each item as a plain profile: _fname, email, phones, custom
# fields, subscriptions) and nothing else; matching keys are listed only at the request's root.
#   parameter row:  ROOT = said once at the batch request's root; None = the batch page does not list it.
#   matching row:   the profile field(s) of each item that hold the mode's key ("|": either; FIELD_NAME: the field
#                   the record's field_name names); None = the key is no profile field.
# A record that needs a None goes alone to profiles/import / profiles/update, whose pages document every key and
# option as a top-level parameter (altcraft-api.md §3.1). A check on a real instance changes a row here, only here.
IMPORT_BATCH_PAGE = "https://guides.altcraft.com/en/developer-guide/profiles/2195504"  # altcraft-api.md §2, §5
UPDATE_BATCH_PAGE = "https://easy.altcraft.com/en/v72/developer-guide/profiles/2195501"  # altcraft-api.md §2, §5
ROOT = "root"
FIELD_NAME = "<field_name>"
PROFILE_BATCHES: dict[str, tuple[str | None, str | None, str]] = {
    # row: (import_batch, update_batch, where it comes from)
    "db_id": (ROOT, ROOT, "both pages' parameter tables"),
    "matching": (ROOT, ROOT, "both pages: one matching for the whole request"),
    "field_name": (
        ROOT,
        ROOT,
        "import_batch's table repeats the modes' keys at the root; update_batch lists the same modes (inference)",
    ),
    "resource_id": (
        ROOT,
        None,
        "import_batch's table; update_batch's lists token, db_id, data, matching, skip_invalid_subscriptions",
    ),
    "skip_triggers": (ROOT, None, "import_batch's table; not on update_batch's"),
    "skip_invalid_subscriptions": (ROOT, ROOT, "both pages' tables"),
    "detect_geo": (ROOT, None, "import_batch's table; not on update_batch's"),
    "add_to_segments": (None, None, "profiles/import's table only (altcraft-api.md §3.1)"),
    "remove_from_segments": (None, None, "profiles/import's table only (altcraft-api.md §3.1)"),
    "matching:email": ("email", "email", "import_batch's example item carries its own email"),
    "matching:email_profile": ("email", "email", "as email: the profile's email field"),
    "matching:email_sub": (None, None, "a subscription's address, no profile field (matching page)"),
    "matching:phone": (
        "phones",
        "phones",
        "a real phone batch sends items with only phones [C] aalenkin-uzum/altcraft-profiles-import",
    ),
    "matching:phone_sub": (None, None, "an SMS subscription's number, no profile field (matching page)"),
    "matching:profile_id": (None, None, "the id is set by Altcraft, no field an item writes (profiles/get page)"),
    "matching:push_sub": (None, None, "a push subscription's provider and token, no profile field (matching page)"),
    "matching:custom": (FIELD_NAME, FIELD_NAME, "import_batch's example item carries its custom id field"),
    "matching:custom_sub": (None, None, "a custom channel's subscription, no profile field (matching page)"),
    "matching:email_phone": ("email|phones", "email|phones", "the profile's email or phones (matching page)"),
    "matching:email_phone_sub": (None, None, "subscriptions' addresses and numbers, no profile field (matching page)"),
}
_COLUMNS = {"profiles/import_batch": 0, "profiles/update_batch": 1}


def batch_place(method: Method, row: str) -> str | None:
    """Where `method`'s batch request carries a parameter or a matching mode's key (`"matching:<mode>"`): ROOT, the
    item's profile field(s), or None (then the record goes alone). Only for the profile methods."""
    places = PROFILE_BATCHES.get(row)
    return None if places is None else places[_COLUMNS[method.batch_path]]


def _batch_root(batch_path: str) -> tuple[str, ...]:
    column = _COLUMNS[batch_path]
    return tuple(name for name in _PROFILE_BODY if PROFILE_BATCHES.get(name, (None, None, ""))[column] == ROOT)


IMPORT = Method(
    name="profiles/import",
    single_path="profiles/import",
    batch_path="profiles/import_batch",
    body=_PROFILE_BODY,
    batch_params=_batch_root("profiles/import_batch"),
    item_keys=(),
    nested_items=False,
    matching_modes=ALL_MODES,  # profile_id is listed, and refused: an import cannot create a profile by id
    by_profile_id=False,
    creates=True,
    unchanged_status=True,  # the Russian import_batch page allows -1 (issue 15)
    phones_list=True,
    may_resend=True,
    answer_documented=True,
)

UPDATE = Method(
    name="profiles/update",
    single_path="profiles/update",
    batch_path="profiles/update_batch",
    body=_PROFILE_BODY,
    batch_params=_batch_root("profiles/update_batch"),
    item_keys=(),
    nested_items=False,
    matching_modes=ALL_MODES,
    by_profile_id=True,
    creates=False,
    unchanged_status=True,  # update_batch: "to leave them untouched omit them or pass -1" (altcraft-api.md §5)
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
    unchanged_status=False,  # inference: the trigger pages do not say -1
    phones_list=False,  # inference: the batch page's own example sends `"phones": "+79…"` as text (§B.3)
    may_resend=False,  # a trigger started twice sends its message twice: what may have arrived never goes again
    answer_documented=False,  # the batch answer is [NOT FOUND] (§B.3, §B.11)
)

METHODS = (IMPORT, UPDATE, IMPORT_AND_START)
