"""First-party data (phone, e-mail, Telegram login): normalised as the AppMetrica SDKs do, then SHA-256 hashed.

The phone and e-mail rules are the Android SDK's PhoneNormalizer / EmailNormalizer (appmetrica-sdk-android,
analytics/src/main/java/io/appmetrica/analytics/impl/profile/fpd/) as they run on a device, where java.util.regex is
ICU's (Unicode classes always) and a Kotlin String is UTF-16; tests/fixtures/appmetrica_sdk/ holds the corpus both
SDKs test against. Each normaliser returns the text to hash, or None for a value that is not valid; it never says
why with the value.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")  # an already hashed value, in either case; sent lower-case

# Unicode White_Space (ICU's regex \s, so the SDK's on a device): Python's whitespace but for U+001C..U+001F.
_WHITE_SPACE = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace() and not "\x1c" <= ch <= "\x1f")
# Kotlin's String.trim(): Java whitespace and space characters, which leave out U+0085 (Python's strip() takes it).
_KOTLIN_TRIM = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace() and ch != "\x85")


def _utf16_len(text: str) -> int:
    """A Kotlin String's length: characters beyond U+FFFF count twice."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


# --- phone --------------------------------------------------------------------------------------------------------
_PHONE_PUNCTUATION = str.maketrans("", "", "()-+" + _WHITE_SPACE)  # the SDK's [0-9()\-+\s]: the rest are digits
_ASCII_PHONE_PUNCTUATION = bytes(code for code in _PHONE_PUNCTUATION if code < 128)  # the same, as bytes


def normalise_phone(raw: str) -> str | None:
    # what is left must be ASCII digits only; an ASCII number's bytes drop the same characters several times faster
    digits = (
        raw.encode().translate(None, _ASCII_PHONE_PUNCTUATION).decode()
        if raw.isascii()
        else raw.translate(_PHONE_PUNCTUATION)
    )
    if not raw or not (digits.isascii() and (digits.isdigit() or not digits)):
        return None
    if not 10 <= len(digits) <= 13 or digits[0] == "0":
        return None
    plus = raw[0] == "+"  # the raw first character: " +4930123456" is treated as a bare number
    if len(digits) == 10 and not plus:
        return "7" + digits  # a bare 10-digit number is Russian
    if len(digits) == 11 and digits[0] == "8":
        return None if plus else "7" + digits[1:]  # Russian trunk prefix 8 → 7; "+8…" is invalid
    if len(digits) >= 12 and plus and digits[0] == "7":
        return None  # too long for +7
    return digits


# --- e-mail -------------------------------------------------------------------------------------------------------
_LOCAL_CLASS = r"[a-zA-Z0-9'!#$%&*+,\-./=?^_`{|}~]+"  # the SDK's class: '+-/' is a range, so ',' and '.' pass
_LOCAL_PART = re.compile(_LOCAL_CLASS)
_UNDOTTED = _LOCAL_CLASS.replace(".", "")
_DOTTED_LOCAL = re.compile(rf"{_UNDOTTED}(?:\.{_UNDOTTED})*")  # unquoted parts joined by single dots
_YANDEX_TLDS = (
    "ru",
    "by",
    "kz",
    "az",
    "kg",
    "lv",
    "md",
    "tj",
    "tm",
    "uz",
    "ee",
    "fr",
    "lt",
    "com",
    "co.il",
    "com.ge",
    "com.am",
    "com.tr",
    "com.ru",
)
_YANDEX_DOMAINS = frozenset(f"yandex.{tld}" for tld in _YANDEX_TLDS) | {"ya.ru"}
_YANDEX_SUBDOMAINS = (*(f".yandex.{tld}" for tld in _YANDEX_TLDS), ".ya.ru")


def _quoted_part_ok(part: str) -> bool:
    """The SDK's validateLocalQuoted, over UTF-16 units: its loop stops before the last inner unit, which goes
    unchecked, and an escaped unit need only be ≥ 32."""
    # UTF-16 units: the text as encoded in the machine's order, after its byte-order mark
    codes = part.encode("ascii") if part.isascii() else memoryview(part.encode("utf-16")).cast("H")[1:]
    position = 1
    while position + 2 < len(codes):
        code = codes[position]
        if code < 32 or code == 34 or code > 126:
            return False
        if code == 92:
            if codes[position + 1] < 32:
                return False
            position += 1
        position += 1
    return True


def _local_ok(local: str) -> bool:
    """Any local part (normalise_email tries the usual one's single regex first)."""
    if not 1 <= _utf16_len(local) <= 64:
        return False
    for part in local.split("."):
        if not part:
            return False
        if len(part) > 2 and part[0] == '"' and part[-1] == '"':
            return _quoted_part_ok(part)  # the Android SDK returns here: later parts are not checked
        if not _LOCAL_PART.fullmatch(part):
            return False
    return True


_ASCII_LABEL = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?")


def _letter_or_digit(ch: str) -> bool:
    """Java's Character.isLetterOrDigit on one UTF-16 unit: a letter (L*) or a decimal digit (Nd) of the BMP."""
    return ch <= "\uffff" and (ch.isalpha() or ch.isdecimal())


def _label_ok(label: str) -> bool:
    """1 to 63 letters (any script), decimal digits (any script) and inner hyphens, as the SDK's verifyLabel."""
    if label.isascii():
        return len(label) <= 63 and _ASCII_LABEL.fullmatch(label) is not None
    return (
        len(label) <= 63  # a valid label is all BMP, where a character is one UTF-16 unit
        and _letter_or_digit(label[0])
        and _letter_or_digit(label[-1])
        and all(ch == "-" or _letter_or_digit(ch) for ch in label)
    )


def _domain_ok(domain: str) -> bool:
    labels = domain.split(".")
    return (
        len(domain) <= 255  # counted in characters: a domain with one beyond the BMP fails its label check anyway
        and len(labels) >= 2
        and all(_label_ok(label) for label in labels)
        and len(labels[-1]) >= 2
        and not labels[-1].isdecimal()  # Java's isDigit: decimal digits of any script
    )


def _is_yandex(domain: str) -> bool:
    """The SDK's Yandex pattern and TLD list: ya.ru or yandex.<a listed TLD>, or any subdomain of one of them."""
    return domain in _YANDEX_DOMAINS or domain.endswith(_YANDEX_SUBDOMAINS)


@lru_cache(maxsize=4096)  # addresses share few domains: each is checked and mapped once
def _normal_domain(domain: str) -> str | None:
    """The domain to hash with (Yandex and Google Mail aliases mapped), or None when it is not valid."""
    if not _domain_ok(domain):
        return None
    domain = domain.replace("googlemail.com", "gmail.com")
    return "yandex.ru" if _is_yandex(domain) else domain


def normalise_email(raw: str) -> str | None:
    value = raw.strip()
    if value is not raw and "\x85" in raw:  # something was trimmed, maybe U+0085, which Kotlin's trim() keeps
        value = raw.strip(_KOTLIN_TRIM)
    value = value.lstrip("+").lower()
    local, at, domain = value.rpartition("@")
    # the usual local part, ASCII and unquoted, takes one regex pass
    if not at or not ((_DOTTED_LOCAL.fullmatch(local) and len(local) <= 64) or _local_ok(local)):
        return None
    normal = _normal_domain(domain)
    if normal is None:
        return None
    domain = normal
    if domain == "yandex.ru":
        local = local.replace(".", "-")
    elif domain == "gmail.com":
        local = local.replace(".", "")
    local = local.partition("+")[0]
    address = f"{local}@{domain}"
    return address if 5 <= len(address) <= 100 and (address.isascii() or _utf16_len(address) <= 100) else None


# --- Telegram ----------------------------------------------------------------------------------------------------
def normalise_telegram(raw: str, strip_at: bool = False) -> str | None:
    """Trimmed and lowercased (Telegram logins are case-insensitive; the iOS SDK does the same); '@' kept."""
    value = raw.strip().lower()
    if strip_at:
        value = value.removeprefix("@")
    return value or None


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()  # UTF-8
