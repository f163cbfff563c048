"""First-party data normalisation and hashing: every vector of the spec's tables (tests/fixtures)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from courier.destinations.appmetrica.first_party import (
    normalise_email,
    normalise_phone,
    normalise_telegram,
    sha256_hex,
)

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures" / "first_party_vectors.json").read_text(encoding="utf-8")
)["cases"]
NORMALISERS = {"phone": normalise_phone, "email": normalise_email, "telegram": normalise_telegram}


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


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a.b@sub.googlemail.com", "a.b@sub.gmail.com"),  # Android: replaced inside a longer domain too
        ("x@01yandex.kz", "x@01yandex.kz"),  # not a Yandex domain
        ('"a b".c@example.com', '"a b".c@example.com'),  # quoted part: later parts not re-checked
        ("user@почта.рф", "user@почта.рф"),  # Unicode letters in the domain
        ("a@b.c1", "a@b.c1"),  # Android: only an all-digit TLD is refused
    ],
)
def test_email_quirks_follow_the_android_sdk(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize("raw", ["user@example.123", "ab@c.com" + "m" * 100, "юзер@example.com", "a@-b.com"])
def test_email_edges_are_refused(raw: str) -> None:
    assert normalise_email(raw) is None


def test_phone_with_unicode_space_is_refused_like_android() -> None:
    assert normalise_phone("+7\u00a0916 012-34-56") is None
