"""First-party data (phone, e-mail, Telegram login): normalised as the AppMetrica SDKs do, then SHA-256 hashed.

The rules restate ../shared/specs/appmetrica-post-api.md §7.3 (the Android SDK, whose test corpus both SDKs share).
Each normaliser returns the text to hash, or None for a value that is not valid; it never says why with the value.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

SHA256_HEX = re.compile(r"[0-9a-f]{64}")

# --- phone --------------------------------------------------------------------------------------------------------
_PHONE_PUNCTUATION = str.maketrans("", "", "()-+ \t\n\x0b\f\r")  # Java's \s is ASCII-only


def normalise_phone(raw: str) -> str | None:
    digits = raw.translate(_PHONE_PUNCTUATION)  # what is left must be ASCII digits only
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
_YANDEX_SUBDOMAINS = tuple(f".yandex.{tld}" for tld in _YANDEX_TLDS)


def _quoted_part_ok(part: str) -> bool:
    inner, index = part[1:-1], 0
    while index < len(inner):
        ch = inner[index]
        if ch == "\\":
            index += 1
            if index >= len(inner) or not 32 <= ord(inner[index]) <= 126:
                return False
        elif ch == '"' or not 32 <= ord(ch) <= 126:
            return False
        index += 1
    return True


def _local_ok(local: str) -> bool:
    if not 1 <= len(local) <= 64:
        return False
    if _DOTTED_LOCAL.fullmatch(local):  # the usual address: unquoted parts, one regex pass
        return True
    for part in local.split("."):
        if not part:
            return False
        if len(part) > 2 and part[0] == '"' and part[-1] == '"':
            return _quoted_part_ok(part)  # the Android SDK returns here: later parts are not checked
        if not _LOCAL_PART.fullmatch(part):
            return False
    return True


# A domain label: letters (any script) and ASCII digits, with inner hyphens.
_LABEL = re.compile(r"(?:[^\W\d_]|[0-9])(?:(?:[^\W\d_]|[0-9]|-)*(?:[^\W\d_]|[0-9]))?")


def _label_ok(label: str) -> bool:
    return len(label) <= 63 and _LABEL.fullmatch(label) is not None


def _domain_ok(domain: str) -> bool:
    labels = domain.split(".")
    return (
        len(domain) <= 255
        and len(labels) >= 2
        and all(_label_ok(label) for label in labels)
        and len(labels[-1]) >= 2
        and not labels[-1].isdigit()
    )


@lru_cache(maxsize=4096)  # addresses share few domains: each is checked and mapped once
def _normal_domain(domain: str) -> str | None:
    """The domain to hash with (Yandex and Google Mail aliases mapped), or None when it is not valid."""
    if not _domain_ok(domain):
        return None
    domain = domain.replace("googlemail.com", "gmail.com")
    return "yandex.ru" if domain in _YANDEX_DOMAINS or domain.endswith(_YANDEX_SUBDOMAINS) else domain


def normalise_email(raw: str) -> str | None:
    value = raw.strip().lstrip("+").lower()
    local, at, domain = value.rpartition("@")
    if not at or not _local_ok(local):
        return None
    normal = _normal_domain(domain)
    if normal is None:
        return None
    domain = normal
    if domain == "yandex.ru":
        local = local.replace(".", "-")
    elif domain == "gmail.com":
        local = local.replace(".", "")
    local = local.split("+", 1)[0]
    address = f"{local}@{domain}"
    return address if 5 <= len(address) <= 100 else None


# --- Telegram ----------------------------------------------------------------------------------------------------
def normalise_telegram(raw: str, strip_at: bool = False) -> str | None:
    """Trimmed and lowercased (Telegram logins are case-insensitive; the iOS SDK does the same); '@' kept."""
    value = raw.strip().lower()
    if strip_at:
        value = value.removeprefix("@")
    return value or None


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
