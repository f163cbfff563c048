"""Altcraft's API methods as values: each names its paths, what its body carries and in which order, what a batch
request says once at its root, how it finds a profile, and whether a request that may have arrived may go again.

The preparer (records.py), the batches (batch.py) and the client (client.py) read a `Method`; none of them knows
which endpoint it serves."""

from __future__ import annotations

from dataclasses import dataclass

from courier.destinations.altcraft import rules, unbatched

BOOL_OPTIONS = ("skip_triggers", "skip_invalid_subscriptions", "detect_geo")
SEGMENT_OPTIONS = ("add_to_segments", "remove_from_segments")
LAUNCH = (
    "trigger_id",
    "timeout",
    "custom_data",
    "content",
    "attach",
)  # a trigger campaign's launch (docs/contracts/altcraft.md#trigger-launch)
ALL_MODES = tuple(rules.MATCHING_KEYS)


@dataclass(frozen=True)
class Method:
    name: str  # as Altcraft's pages say it: "profiles/import"
    single_path: str  # under /api/v1.1/: one profile a request
    batch_path: str  # several profiles a request, answered item by item
    body: tuple[str, ...]  # every parameter a record may give, in the order the request body carries them
    batch_params: tuple[str, ...]  # said once at a batch request's root: records differing in any never share one
    # keys a batch item carries besides its data: the Data array's (docs/contracts/altcraft.md#trigger-batch); none for
    # profiles
    item_keys: tuple[str, ...]
    nested_items: bool  # a batch item is {keys…, "data": {…}} (the "Data array"), not the data fields plus keys
    matching_modes: tuple[str, ...]  # the modes the method takes
    by_profile_id: bool  # matching profile_id finds a profile (it never creates one); a lone profile_id implies it
    creates: bool  # a profile not found is created: `data` is required
    unchanged_status: bool  # a subscription's status or priority -1 leaves it as it is (PROFILE_BATCHES' pages)
    phones_list: bool  # a bare data.phones number becomes a one-item list; False: sent as the record gives it
    may_resend: bool  # a possibly-sent request may go again when its data has no incr/add/delete; False: never
    answer_documented: bool  # the batch answer's `result[i]` is documented to answer item i
    launch: tuple[str, ...] = ()  # what starts a campaign or a scenario for the profile, as the body carries it
    matches: bool = True  # finds a profile by a matching mode; profiles/add never looks: it always creates
    needs_data: bool = True  # a method that creates profiles needs their fields (a scenario's import does not)
    unsure: str = ""  # why a request that may have arrived is not sent again ('': the profile methods' reason)
    effect: str = "started the trigger"  # what a batch answer should say of each record
    absent_is_done: bool = False  # "not found" means done: deleting a profile that is gone
    email_channel_implied: bool = False  # a subscription with an e-mail and no channel is an e-mail one

    def takes(self, name: str) -> bool:
        return name in self.body

    @property
    def launches(self) -> bool:
        """The method starts a campaign or a scenario: its launch parameters may carry personal data and files."""
        return bool(self.launch)

    @property
    def batched(self) -> bool:
        return bool(self.batch_path)


_PROFILE_BODY = ("db_id", "matching", *rules.KEY_FIELDS, "resource_id", *BOOL_OPTIONS, *SEGMENT_OPTIONS, "data")

# --- What profiles/import_batch and profiles/update_batch carry, and where: ONE table ------------------------------
# A batch item is the profile's own data (the pages show each item as a plain profile: _fname, email, phones, custom
# fields, subscriptions) and nothing else; matching keys are listed only at the request's root.
#   parameter row:  ROOT = said once at the batch request's root; None = the batch page does not list it.
#   matching row:   the profile field(s) of each item that hold the mode's key ("|": either; FIELD_NAME: the field
#                   the record's field_name names); None = the key is no profile field.
# A record that needs a None goes alone to profiles/import / profiles/update, whose pages document every key and
# option as a top-level parameter (docs/contracts/altcraft.md#import-update, #batches). A check on a real instance
# changes a row here, only here.
IMPORT_BATCH_PAGE = "https://guides.altcraft.com/en/developer-guide/profiles/2195504"
UPDATE_BATCH_PAGE = "https://easy.altcraft.com/en/v72/developer-guide/profiles/2195501"
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
    "add_to_segments": (None, None, "profiles/import's table only (docs/contracts/altcraft.md#import-update)"),
    "remove_from_segments": (None, None, "profiles/import's table only (docs/contracts/altcraft.md#import-update)"),
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
    # update_batch: "to leave them untouched omit them or pass -1" (docs/contracts/altcraft.md#batches)
    unchanged_status=True,
    phones_list=True,
    may_resend=True,
    answer_documented=True,
)

# Import (upsert) a profile, then start a trigger campaign for it (docs/contracts/altcraft.md#trigger-launch). The
# body's order is the golden cases' (docs/contracts/index.md#golden-cases): trigger_id first, data after the matching
# keys, the launch parameters last. No db_id: the import goes to the trigger's own database. No segments: not in the
# page's table.
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
    # page (docs/contracts/altcraft.md#trigger-batch) names custom_data per item in one copy only; kept at the root,
    # records with different custom_data go in different requests, which is right whichever reading the server has.
    batch_params=("trigger_id", "matching", "field_name", "resource_id", *BOOL_OPTIONS, *LAUNCH[1:]),
    # the Data array's keys (docs/contracts/altcraft.md#trigger-batch); field_name is root
    item_keys=("email", "phone", "profile_id", "field_value"),
    nested_items=True,
    # the five the page lists (docs/contracts/altcraft.md#trigger-launch)
    matching_modes=("email", "email_profile", "phone", "profile_id", "custom"),
    by_profile_id=True,
    creates=True,
    unchanged_status=False,  # inference: the trigger pages do not say -1
    # inference: the batch page's own example sends `"phones": "+79…"` as text
    # (docs/contracts/altcraft.md#trigger-batch)
    phones_list=False,
    may_resend=False,  # a trigger started twice sends its message twice: what may have arrived never goes again
    answer_documented=False,  # the batch answer is [NOT FOUND] (docs/contracts/altcraft.md#trigger-batch)
    launch=LAUNCH,
)

METHODS = (IMPORT, UPDATE, IMPORT_AND_START)  # the batch methods of the first three functions

# Insert profiles without looking for them (docs/contracts/altcraft.md#add): the documented examples' order.
ADD = Method(
    name="profiles/add",
    single_path="profiles/add",
    batch_path="profiles/add_batch/",  # the trailing slash, as the page writes it
    body=("db_id", "data", "skip_triggers", "skip_invalid_subscriptions"),
    batch_params=("db_id", "skip_triggers", "skip_invalid_subscriptions"),
    item_keys=(),
    nested_items=False,
    matching_modes=(),
    by_profile_id=False,
    creates=True,
    unchanged_status=False,
    phones_list=True,
    may_resend=False,  # each call creates a profile: a resend is a duplicate
    answer_documented=True,  # add_batch's page: one result per profile, in order
    matches=False,
    unsure=(
        "sent, but no clear answer came back ({detail}); profiles/add creates a profile each time, so it was not "
        "sent again: check in Altcraft whether the profile exists before sending it once more"
    ),
)

WORKFLOW_LAUNCH = ("workflow_id", "content", "custom_data", "attach")
# Import a profile and enrol it in an automation scenario (docs/contracts/altcraft.md#workflow-start). The body's
# order is the golden case's (assembled from the page's example): data, the matching, content, workflow_id last.
WORKFLOW_START = Method(
    name="workflows/import_and_start",
    single_path="workflows/import_and_start",
    batch_path="workflows/import_and_start_batch",
    body=(
        "data",
        "matching",
        "email",
        "phone",
        "profile_id",
        "field_name",
        "field_value",
        *BOOL_OPTIONS,
        "content",
        "custom_data",
        "attach",
        "workflow_id",
    ),
    batch_params=("workflow_id", "matching", "field_name", *BOOL_OPTIONS, "content", "custom_data", "attach"),
    item_keys=("email", "phone", "profile_id", "field_value"),  # inference: the trigger batch's Data array
    nested_items=True,
    matching_modes=("email", "email_profile", "phone", "profile_id", "custom"),
    by_profile_id=True,
    creates=True,
    unchanged_status=False,
    phones_list=False,
    may_resend=False,  # enrolled twice, the profile runs the scenario twice
    answer_documented=False,  # the batch answer is not documented
    launch=WORKFLOW_LAUNCH,
    needs_data=False,  # "data: No" on the scenario page
    unsure=(
        "sent, but no clear answer came back ({detail}); enrolling the profile again would run the scenario twice, "
        "so it was not sent again: check in Altcraft whether the profile entered the scenario before sending it once "
        "more"
    ),
    effect="entered the scenario",
    email_channel_implied=True,  # inference: the page's example subscription has email and resource_id only
)


def _unbatched(
    name: str, body: tuple[str, ...], may_resend: bool, unsure: str = "", absent_is_done: bool = False
) -> Method:
    """A method with no batch form: every record is one request, its body checked whole (unbatched.py)."""
    return Method(
        name=name,
        single_path=name,
        batch_path="",
        body=body,
        batch_params=(),
        item_keys=(),
        nested_items=False,
        matching_modes=(),
        by_profile_id=False,
        creates=False,
        unchanged_status=False,
        phones_list=False,
        may_resend=may_resend,
        answer_documented=False,
        matches=False,  # the record's own matching, checked with the rest of its body
        unsure=unsure,
        absent_is_done=absent_is_done,
    )


# A profile that is already gone is what a delete asks for: a resend after a lost answer completes the record
PROFILE_DELETE = _unbatched("profiles/delete", tuple(unbatched.DELETE_CHECKS), may_resend=True, absent_is_done=True)
SUBSCRIPTION_SET = _unbatched("subscriptions/set", tuple(unbatched.SUBSCRIPTION_CHECKS), may_resend=True)  # a state
GOAL_REGISTER = _unbatched(
    "goals/register",
    tuple(unbatched.GOAL_CHECKS),
    may_resend=False,  # a goal registered again counts twice
    unsure=(
        "sent, but no clear answer came back ({detail}); a goal registered again counts twice, so it was not sent "
        "again: check in Altcraft whether the goal was counted before sending it once more"
    ),
)
