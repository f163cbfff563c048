"""The scrubber removes known secrets first, in every form they take, then masks personal data, then cuts; the
libraries that log URLs and bodies stay quiet whatever level is set from outside."""

from __future__ import annotations

import json
import logging
from urllib.parse import quote, quote_plus

import pytest

from courier.observability import QUIET_LIBRARIES, scrub

TOKEN = "tok/en+0123456789=="  # digits in a row, and characters URL-encoding changes


@pytest.mark.parametrize(
    "form", [TOKEN, quote(TOKEN, safe=""), quote(TOKEN), quote_plus(TOKEN), json.dumps(TOKEN)[1:-1]]
)
def test_a_known_secret_goes_whole_in_every_form(form: str) -> None:
    said = scrub(f"refused {{'token': '{form}'}} for you", TOKEN)
    assert "0123456789" not in said
    assert "tok" not in said.replace("token", "")
    assert "***" in said


def test_a_secret_with_many_digits_is_removed_before_phones_are_masked() -> None:
    secret = "abcdef0123456789"
    assert scrub(f"bad token {secret}!", secret) == "bad token ***!"


def test_a_secret_written_with_json_escapes_of_its_own_is_removed() -> None:
    secret = "tok-ABC-123"
    escaped = "".join(f"\\u{ord(char):04x}" for char in secret)  # JSON may escape any character
    assert scrub(f'{{"token": "{escaped}"}}', secret) == '{"token": "***"}'


def test_cutting_comes_last_so_no_part_of_a_secret_survives() -> None:
    secret = "KEY-" + "9" * 40
    text = "x" * 290 + secret + " tail"
    said = scrub(text, secret, limit=300)
    assert "KEY-" not in said
    assert "999" not in said
    assert said.startswith("x" * 290 + "***")
    assert len(scrub("y" * 1000, limit=300)) == 301  # cut, with an ellipsis


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("мария@почта.рф", "***@***"),
        ("ivan.petrov@ya.ru", "***@***"),
        ("+7.916.012.34.56", "***"),
        ("8 (916) 012-34-56", "***"),
        ("@Durov", "@***"),
        ("@ivan_petrov_1987", "@***"),
        (json.dumps("мария@почта.рф")[1:-1], "***@***"),  # as a JSON answer escapes it
        (json.dumps("😀 мария")[1:-1], "\\ud83d\\ude00 мария"),  # a surrogate pair stays escaped
    ],
)
def test_personal_data_is_masked(raw: str, masked: str) -> None:
    assert scrub(f"refused: {raw}, sorry") == f"refused: {masked}, sorry"


@pytest.mark.parametrize("name", QUIET_LIBRARIES)
def test_libraries_stay_quiet_when_the_root_logger_is_at_debug(name: str) -> None:
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)  # what Lambda's ApplicationLogLevel=DEBUG does
    try:
        assert not logging.getLogger(name).isEnabledFor(logging.DEBUG)
        assert not logging.getLogger(name).isEnabledFor(logging.INFO)
    finally:
        root.setLevel(level)


def test_a_url_urllib3_logs_is_scrubbed_even_if_its_level_is_lowered(caplog: pytest.LogCaptureFixture) -> None:
    pool = logging.getLogger("urllib3.connectionpool")
    level = pool.level
    pool.setLevel(logging.DEBUG)
    try:
        with caplog.at_level(logging.DEBUG):
            pool.debug(
                '%s://%s:%s "%s %s %s" %s %s', "https", "api", 443, "POST", "/x?post_api_key=SECRET", "HTTP/1.1", 200, 2
            )
    finally:
        pool.setLevel(level)
    assert "SECRET" not in caplog.text
    assert "post_api_key=***" in caplog.text
