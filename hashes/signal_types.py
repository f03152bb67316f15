"""The kinds of hash the portal accepts, and the one place where hash values are checked.

Every way a hash enters (the case API, the platform API, admin forms, management commands) calls
`normalise_hash`, so a value is stored in exactly one canonical spelling and the uniqueness
constraint on (signal type, value) means what it says.
"""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_HEX = re.compile(r"[0-9a-f]+")


@dataclass(frozen=True)
class SignalType:
    code: str
    label: str
    # The name of the same signal in the StopNCII API, whose feed platforms already consume.
    stopncii_name: str
    hex_length: int
    has_quality: bool


PDQ = SignalType(
    code="pdq", label=_("Photo fingerprint (PDQ)"), stopncii_name="ImagePDQ", hex_length=64, has_quality=True
)
MD5 = SignalType(
    code="md5", label=_("Exact file fingerprint (MD5)"), stopncii_name="VideoMD5", hex_length=32, has_quality=False
)

SIGNAL_TYPES: dict[str, SignalType] = {t.code: t for t in (PDQ, MD5)}
BY_STOPNCII_NAME = {t.stopncii_name: t for t in SIGNAL_TYPES.values()}
SIGNAL_TYPE_CHOICES = [(t.code, t.label) for t in SIGNAL_TYPES.values()]

QUALITY_MIN = 0
QUALITY_MAX = 100
# Below this, PDQ hashes of plain images (a wall, a dark frame) collide with countless unrelated
# photos; platforms' first complaint about shared hash lists is exactly such over-matching.
PDQ_MIN_QUALITY = 50


@dataclass(frozen=True)
class NormalisedHash:
    signal_type: str
    value: str
    quality: int | None


def signal_type_for(code: object) -> SignalType:
    if isinstance(code, str) and code.strip().lower() in SIGNAL_TYPES:
        return SIGNAL_TYPES[code.strip().lower()]
    raise ValidationError(
        _("Unknown hash type. Accepted types: %(types)s."),
        code="unknown_signal_type",
        params={"types": ", ".join(SIGNAL_TYPES)},
    )


def normalise_value(signal_type: SignalType, value: object) -> str:
    """Return the canonical spelling (lowercase hex) or refuse the value with a reason."""
    if not isinstance(value, str):
        raise ValidationError(_("A hash value must be text."), code="invalid_hash")
    canonical = value.strip().lower()
    if len(canonical) != signal_type.hex_length or not _HEX.fullmatch(canonical):
        raise ValidationError(
            _("A %(type)s hash is %(length)d hexadecimal characters (0-9, a-f)."),
            code="invalid_hash",
            params={"type": signal_type.code.upper(), "length": signal_type.hex_length},
        )
    return canonical


def normalise_quality(signal_type: SignalType, quality: object) -> int | None:
    if not signal_type.has_quality:
        return None
    # bool is an int in Python; a JSON `true` is not a quality score.
    if isinstance(quality, bool) or not isinstance(quality, int):
        raise ValidationError(
            _("A %(type)s hash needs a quality score, a whole number from 0 to 100."),
            code="invalid_quality",
            params={"type": signal_type.code.upper()},
        )
    if not QUALITY_MIN <= quality <= QUALITY_MAX:
        raise ValidationError(
            _("The quality score must be a whole number from 0 to 100."), code="invalid_quality"
        )
    return quality


def normalise_hash(*, signal_type: object, value: object, quality: object = None) -> NormalisedHash:
    kind = signal_type_for(signal_type)
    return NormalisedHash(
        signal_type=kind.code,
        value=normalise_value(kind, value),
        quality=normalise_quality(kind, quality),
    )


def check_usable(h: NormalisedHash) -> NormalisedHash:
    """Refuse a well-formed hash that would do more harm than good in the feed."""
    if h.signal_type == PDQ.code and h.quality is not None and h.quality < PDQ_MIN_QUALITY:
        raise ValidationError(
            _(
                "This photo is too plain to fingerprint reliably (quality %(quality)d; at least "
                "%(minimum)d is needed), so it cannot be shared with platforms."
            ),
            code="low_quality",
            params={"quality": h.quality, "minimum": PDQ_MIN_QUALITY},
        )
    return h


def signal_type_for_value(value: str) -> SignalType | None:
    """The one hash type a bare value can be (StopNCII's feedback names no type): by its length."""
    if isinstance(value, str):
        for kind in SIGNAL_TYPES.values():
            if len(value.strip()) == kind.hex_length:
                return kind
    return None
