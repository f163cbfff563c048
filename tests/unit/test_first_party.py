"""First-party data normalisation and hashing: the spec's vectors and the SDKs' own corpus (tests/fixtures)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from courier.destinations.appmetrica.first_party import (
    _local_ok,
    normalise_email,
    normalise_phone,
    normalise_telegram,
    sha256_hex,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CASES: list[dict[str, Any]] = json.loads((FIXTURES / "first_party_vectors.json").read_text(encoding="utf-8"))["cases"]
NORMALISERS = {"phone": normalise_phone, "email": normalise_email, "telegram": normalise_telegram}


def sdk_corpus(kind: str) -> list[dict[str, Any]]:
    """One of the SDKs' shared corpus files, copied unchanged (tests/fixtures/appmetrica_sdk/README.md)."""
    cases: list[dict[str, Any]] = json.loads(
        (FIXTURES / "appmetrica_sdk" / f"{kind}_normalizer_test.json").read_text(encoding="utf-8")
    )
    return [{**case, "kind": kind} for case in cases]


SDK_CASES = sdk_corpus("phone") + sdk_corpus("email")
# The corpus marks these "skip" (its notes: left to a phone-number library; a quoted '+'), so the SDKs' runners leave
# them out. Courier follows the Android code, which gives for them:
ANDROID_ON_SKIPPED = {
    ("phone", "+98765432110"): "98765432110",  # eleven digits after '+', not starting with 8: kept as they are
    ("phone", "+771859539760"): None,  # twelve digits after "+7": too long (the corpus agrees)
    ("phone", "+7(000)0123456"): "70000123456",  # only the first digit may not be 0
    # the local part is cut at its first '+', inside the quotes too
    (
        "email",
        'much."more\\ unusual+with-plus-non-trim".a+with-plus-trim@example.com',
    ): 'much."more\\ unusual@example.com',
}


def sdk_expected(case: dict[str, Any]) -> str | None:
    """What the SDKs' runners compare with: None for an invalid value, a phone without its '+'."""
    if not case["isValid"]:
        return None
    normalized = str(case["normalized"])
    return normalized.replace("+", "") if case["kind"] == "phone" else normalized


def case_id(case: dict[str, Any]) -> str:
    return f"{case['kind']}:{case['initial']!r}"


@pytest.mark.parametrize("case", [c for c in CASES if c["isValid"]], ids=case_id)
def test_valid_values_normalise_and_hash_as_the_spec_says(case: dict[str, Any]) -> None:
    normalised = NORMALISERS[case["kind"]](case["initial"])
    assert normalised == case["normalized"]
    assert sha256_hex(case["normalized"]) == case["sha256"]


@pytest.mark.parametrize("case", [c for c in CASES if not c["isValid"]], ids=case_id)
def test_invalid_values_are_refused(case: dict[str, Any]) -> None:
    assert NORMALISERS[case["kind"]](case["initial"]) is None


def test_the_corpus_covers_every_kind_both_ways() -> None:
    assert {(c["kind"], c["isValid"]) for c in CASES} == {(k, v) for k in NORMALISERS for v in (True, False)}


def test_sha256_matches_the_sdk_anchor() -> None:
    assert sha256_hex("input1") == "1ea06586b18e8fce1b923eff26fd8252f617f0efd4e49820e8e9bee0614e5792"


def test_telegram_can_drop_the_at_sign_when_configured() -> None:
    assert normalise_telegram(" @Durov", strip_at=True) == "durov"


def sdk_case_id(case: dict[str, Any]) -> str:
    return f"{case['kind']}:{case['description']}:{case['initial']!r}"


@pytest.mark.parametrize("case", [c for c in SDK_CASES if not c.get("skip")], ids=sdk_case_id)
def test_every_sdk_corpus_case_normalises_as_the_sdks_test_it(case: dict[str, Any]) -> None:
    # Given a case of the corpus both SDKs test their normalisers against
    # When Courier normalises its value
    normalised = NORMALISERS[case["kind"]](case["initial"])
    # Then it gives what the SDKs' runners expect (None for an invalid value)
    assert normalised == sdk_expected(case)


@pytest.mark.parametrize("case", [c for c in SDK_CASES if c.get("skip")], ids=sdk_case_id)
def test_the_corpus_cases_the_sdks_skip_normalise_as_the_android_code_does(case: dict[str, Any]) -> None:
    # Given a case the corpus marks "skip"
    # When Courier normalises its value
    normalised = NORMALISERS[case["kind"]](case["initial"])
    # Then it gives what the Android SDK's normaliser returns for it
    assert normalised == ANDROID_ON_SKIPPED[(case["kind"], case["initial"])]


def test_the_sdk_corpus_is_complete_and_every_skipped_case_has_an_answer() -> None:
    # Given the two corpus files as copied
    count = {kind: sum(c["kind"] == kind for c in SDK_CASES) for kind in ("phone", "email")}
    run = {kind: sum(c["kind"] == kind and not c.get("skip") for c in SDK_CASES) for kind in ("phone", "email")}
    skipped = {(c["kind"], c["initial"]) for c in SDK_CASES if c.get("skip")}
    # Then they hold all 91 + 72 cases, 88 + 71 of them run by the SDKs, and each skipped one is answered above
    assert count == {"phone": 91, "email": 72}
    assert run == {"phone": 88, "email": 71}
    assert skipped == set(ANDROID_ON_SKIPPED)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("user@mail.ya.ru", "user@yandex.ru"),  # any subdomain of ya.ru is Yandex
        ("First.Last@a.b.ya.ru", "first-last@yandex.ru"),
        ("user@ya.ru", "user@yandex.ru"),
        ("user@mail.yandex.com.tr", "user@yandex.ru"),
        ("user@01ya.ru", "user@01ya.ru"),  # a label ending in "ya" is not ya.ru
        ("user@ya.ru.com", "user@ya.ru.com"),
        ("user@yandex.de", "user@yandex.de"),  # not in the SDK's list of Yandex TLDs
    ],
)
def test_yandex_domains_follow_the_android_sdk(raw: str, expected: str) -> None:
    # Given an address at a Yandex domain or a look-alike
    # When it is normalised
    # Then only ya.ru, yandex.<listed TLD> and their subdomains become yandex.ru (dots in the local part turn to dashes)
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a.b@sub.googlemail.com", "a.b@sub.gmail.com"),  # Android: replaced inside a longer domain too
        ("x@01yandex.kz", "x@01yandex.kz"),  # not a Yandex domain
        ('"a b".c@example.com', '"a b".c@example.com'),  # quoted part: later parts not re-checked
        ('"a b".c,d@example.com', '"a b".c,d@example.com'),
        ("user@почта.рф", "user@почта.рф"),  # Unicode letters in the domain
        ("a@b.c1", "a@b.c1"),  # Android: only an all-digit TLD is refused
    ],
)
def test_email_quirks_follow_the_android_sdk(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize("escape", ["\\", "\\\\"])  # the corpus's one backslash, and the text as written
def test_an_address_with_quoted_parts_is_lower_cased_whole_and_hashed_as_the_sdk_would(escape: str) -> None:
    # Given the corpus's most unusual valid address: quoted parts holding '@', a backslash, brackets and upper case
    raw = f'very."(),:;<>[]".VERY."very@{escape} very".unusual@strange.example.com'
    # When it is normalised and hashed
    normalised = normalise_email(raw)
    # Then it is the whole address lower-cased, quotes and all (the SDK's normaliser), and its hash is of that text
    assert normalised == f'very."(),:;<>[]".very."very@{escape} very".unusual@strange.example.com'
    assert sha256_hex(str(normalised)) == hashlib.sha256(raw.lower().encode()).hexdigest()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('"ab\u00e9"@example.com', '"ab\u00e9"@example.com'),  # the loop stops before the last inner character
        ('"a\u0001"@example.com', '"a\u0001"@example.com'),
        ('"a""@example.com', '"a""@example.com'),
        ('"\u00e9a"@example.com', None),  # any other inner character must be printable ASCII
        ('"a\u0001b"@example.com', None),
        ('"a"b"@example.com', None),
        ('"\\\u00e9"@example.com', '"\\\u00e9"@example.com'),  # an escaped character need only be ≥ U+0020
        ('"\\\U0001f600"@example.com', '"\\\U0001f600"@example.com'),  # beyond the BMP: two UTF-16 units
        ('"\U0001f600"@example.com', None),  # its first unit is checked, and refused
        ('"\\\u0001a"@example.com', None),  # an escaped control character is refused
    ],
)
def test_quoted_local_parts_are_checked_as_the_android_sdk_checks_them(raw: str, expected: str | None) -> None:
    # Given a local part in quotes
    # When it is normalised
    # Then it is checked unit by unit (UTF-16) exactly as the SDK's validateLocalQuoted does
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("user@shop\u0663.com", "user@shop\u0663.com"),  # an Arabic-Indic digit is a digit (Java's isDigit)
        ("user@\u0967\u0968.com", "user@\u0967\u0968.com"),  # Devanagari digits alone make a label
        ("user@example.\u0661\u0662", None),  # a TLD of digits only, in any script, is refused
        ("user@shop\u00b2.com", None),  # '²' is a number but not a decimal digit
        ("user@shop\u2167.com", None),  # a Roman numeral likewise
        ("user@\U0001d41a\U0001d41b.com", None),  # letters beyond the BMP are surrogates to Java: refused
    ],
)
def test_unicode_digits_in_a_domain_are_letters_or_digits_as_java_says(raw: str, expected: str | None) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\u00a0user@example.com\u3000", "user@example.com"),  # Kotlin's trim() takes every Unicode space
        ("\x1fuser@example.com\t", "user@example.com"),
        ("user@example.com\u0085", None),  # but not U+0085, which then stays in the domain
        ("\u0085user@example.com", None),
    ],
)
def test_email_trimming_is_kotlins_so_u0085_stays(raw: str, expected: str | None) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize("raw", ["user@example.123", "ab@c.com" + "m" * 100, "юзер@example.com", "a@-b.com"])
def test_email_edges_are_refused(raw: str) -> None:
    assert normalise_email(raw) is None


@pytest.mark.parametrize(
    "raw",
    ["+7\u00a0916 012-34-56", "+7\u0085916\u0085012-34-56", "+7\u2028916\u3000012\u202f34-56", "+7\t916 012 34 56"],
)
def test_phone_separators_are_unicode_white_space_as_on_an_android_device(raw: str) -> None:
    # Given a phone number split by Unicode white space (on a device java.util.regex is ICU's, whose \s is Unicode)
    # When it is normalised
    # Then the separators go, as the SDK's [0-9()\-+\s] allows them
    assert normalise_phone(raw) == "79160123456"


@pytest.mark.parametrize(
    "raw", ["+7\x1c916 012-34-56", "+7\u200b9160123456", "+7 916 012 34 5\u0666", "+7\u180e9160123456"]
)
def test_phone_characters_that_are_not_white_space_or_ascii_digits_are_refused(raw: str) -> None:
    assert normalise_phone(raw) is None


@pytest.mark.parametrize(
    "raw",
    [
        "+7 (916) 017-00-17",
        "8 916 017 00 17",
        "+7\t916\x0b017\x0c00\r17\n",  # the ASCII white space the SDK's \s takes
        "+7\x1c9160170017",  # U+001C..U+001F are not white space to ICU: refused
        "+7 916 017 00 1x",
        "+89160170017",
        " +4930123456",
        "",
        "()-+",
    ],
)
def test_an_ascii_phone_number_normalises_as_the_same_number_through_the_unicode_path(raw: str) -> None:
    # Given an ASCII phone number (cleaned of separators as bytes) and the same number with a trailing no-break
    # space, which is white space and makes it non-ASCII (cleaned as text)
    # When both are normalised
    # Then they give the same answer
    assert normalise_phone(raw) == normalise_phone(raw + "\u00a0")


@pytest.mark.parametrize(
    ("local", "valid"),
    [
        ("user.17+x", True),
        ("a" * 64, True),
        ("a" * 65, False),  # too long, in one part or in several
        ("a." * 32 + "b", False),
        (".user", False),
        ("user.", False),
        ("us..er", False),
        ("o'hara,x/y=z", True),  # the SDK's class, ',' and '.' from its '+-/' range included
        ("юзер", False),
        ('"a b".c', True),  # a quoted part: the general check
    ],
)
def test_the_usual_local_part_check_agrees_with_the_general_one(local: str, valid: bool) -> None:
    # Given a local part, in the usual shape (ASCII, unquoted, dotted) or not
    # When the address is normalised, its usual local part taking one regex pass
    normalised = normalise_email(f"{local}@example.com")
    # Then it is valid exactly when the SDK's general check of a local part says so
    assert (normalised is not None) is valid
    assert _local_ok(local) is valid
