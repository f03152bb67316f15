"""Case numbers and PINs: what a victim writes down, reads aloud to a caseworker, or types on a phone.

A case number is 12 characters from an alphabet without look-alikes (no 0/O, 1/I/L, and no U,
which with the rest spells too many words), shown in groups of four: ABCD-EFGH-JKMN. With 30
symbols that is 30**12 ≈ 5·10**17 numbers (59 bits): guessing one that exists is hopeless, and the
PIN is still needed on top. The PIN is 8 digits, which every phone keypad has.
"""

import re
import secrets

CASE_NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CASE_NUMBER_LENGTH = 12
CASE_NUMBER_GROUP = 4
PIN_LENGTH = 8

_SEPARATORS = re.compile(r"[\s\-_.·]+")


def generate_case_number() -> str:
    return "".join(secrets.choice(CASE_NUMBER_ALPHABET) for _ in range(CASE_NUMBER_LENGTH))


def normalise_case_number(raw: str) -> str | None:
    """Canonical form of what a person typed, or None if it cannot be a case number.

    Spaces, dashes and letter case do not matter, so a number copied, dictated or typed on a
    phone keyboard that capitalises or inserts spaces still works.
    """
    if not isinstance(raw, str):
        return None
    text = _SEPARATORS.sub("", raw).upper()
    if len(text) != CASE_NUMBER_LENGTH or any(ch not in CASE_NUMBER_ALPHABET for ch in text):
        return None
    return text


def format_case_number(number: str) -> str:
    return "-".join(number[i : i + CASE_NUMBER_GROUP] for i in range(0, len(number), CASE_NUMBER_GROUP))


def generate_pin() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(PIN_LENGTH))


def normalise_pin(raw: str) -> str | None:
    if not isinstance(raw, str):
        return None
    text = _SEPARATORS.sub("", raw)
    if len(text) != PIN_LENGTH or not text.isascii() or not text.isdigit():
        return None
    return text


def generate_case_reference() -> str:
    return secrets.token_hex(10)
