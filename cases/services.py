"""Writes to cases. Each function is one transaction and leaves hash records consistent with it."""

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hashes.feed_clock import FeedStamp, feed_stamp_open
from hashes.models import HashRecord
from hashes.services import hash_records_refresh_status, hash_records_upsert
from hashes.signal_types import NormalisedHash, check_usable, normalise_hash
from partners.models import Organisation
from partners.services import audit_record

from .declarations import ALL_VERSIONS
from .identifiers import PIN_LENGTH, generate_case_number, generate_pin
from .models import Case, CaseHash

HashInput = NormalisedHash | Mapping[str, object]


@dataclass(frozen=True)
class NewCase:
    case: Case
    # The only time the PIN exists in clear: it is shown to the person once and never stored.
    pin: str


def _normalise_all(hashes: Iterable[HashInput]) -> list[NormalisedHash]:
    """Validate every hash before anything is written; repeats within one request collapse."""
    result: dict[tuple[str, str], NormalisedHash] = {}
    for item in hashes:
        if not isinstance(item, NormalisedHash):
            if not isinstance(item, Mapping):
                raise ValidationError(_("Each hash must be an object with a type and a value."), code="invalid_hash")
            item = normalise_hash(
                signal_type=item.get("signal_type"), value=item.get("value"), quality=item.get("quality")
            )
        result.setdefault((item.signal_type, item.value), check_usable(item))
    return list(result.values())


def _check_total(count: int) -> None:
    if count > settings.CASE_MAX_HASHES:
        raise ValidationError(
            _("A case can hold at most %(limit)d hashes."),
            code="too_many_hashes",
            params={"limit": settings.CASE_MAX_HASHES},
        )


def _link(case: Case, hashes: list[NormalisedHash], stamp: FeedStamp) -> list[HashRecord]:
    records = hash_records_upsert(hashes=hashes, stamp=stamp)
    CaseHash.objects.bulk_create(
        [CaseHash(case=case, hash_record=r) for r in records], ignore_conflicts=True
    )
    return records


def idempotency_key_digest(key: str) -> str:
    # Keyed with the secret key, so the stored digest cannot be checked against guessed keys.
    return hmac.new(settings.SECRET_KEY.encode(), key.encode(), hashlib.sha256).hexdigest()


def _pin_pad(key: str) -> int:
    return int.from_bytes(hmac.new(key.encode(), b"pin-replay", hashlib.sha256).digest()) % 10**PIN_LENGTH


def _mask_pin(pin: str, key: str) -> str:
    return str((int(pin) + _pin_pad(key)) % 10**PIN_LENGTH).zfill(PIN_LENGTH)


def _unmask_pin(masked: str, key: str) -> str:
    return str((int(masked) - _pin_pad(key)) % 10**PIN_LENGTH).zfill(PIN_LENGTH)


def _replay(key: str) -> NewCase | None:
    """The case an earlier request with this idempotency key opened, with its PIN, if any."""
    case = Case.objects.filter(idempotency_key_hash=idempotency_key_digest(key)).first()
    if case is None:
        return None
    window = timedelta(hours=settings.CASE_IDEMPOTENCY_WINDOW_HOURS)
    if not case.pin_replay or case.created_at < timezone.now() - window:
        raise ValidationError(
            _("This request was already used to open a case. Reload the page to start a new one."),
            code="idempotency_key_reused",
        )
    return NewCase(case=case, pin=_unmask_pin(case.pin_replay, key))


def _check_declarations(declarations: Mapping[str, str]) -> dict[str, str]:
    """Every declaration the page shows, each as a known version of its text."""
    from .declarations import CURRENT

    for item in CURRENT:
        version = declarations.get(item.key)
        if version is None or ALL_VERSIONS.get(version) is None or ALL_VERSIONS[version].key != item.key:
            raise ValidationError(
                _("Please confirm each statement before sending: %(statement)s"),
                code="missing_declaration",
                params={"statement": item.text},
            )
    return {item.key: declarations[item.key] for item in CURRENT}


def case_create(
    *,
    hashes: Iterable[HashInput],
    language: str,
    organisation: Organisation | None = None,
    declarations: Mapping[str, str] | None = None,
    idempotency_key: str | None = None,
) -> NewCase:
    """Open a case for these hashes and return it with its PIN.

    `declarations` maps each declaration to the version of the text agreed to (required when
    given at all). With an `idempotency_key`, a repeat of the request returns the first case and
    its PIN instead of opening another.
    """
    normalised = _normalise_all(hashes)
    if not normalised:
        raise ValidationError(_("Add at least one file's hash to open a case."), code="no_hashes")
    _check_total(len(normalised))
    if organisation is not None and organisation.kind != Organisation.Kind.NGO:
        raise ValidationError(_("Only an NGO partner can assist a case."), code="invalid_organisation")
    agreed = _check_declarations(declarations) if declarations is not None else {}
    if idempotency_key and (earlier := _replay(idempotency_key)):
        return earlier

    pin = generate_pin()
    pin_hash = make_password(pin)  # deliberately slow: done before any lock is taken
    extra = {}
    if idempotency_key:
        extra = {"idempotency_key_hash": idempotency_key_digest(idempotency_key),
                 "pin_replay": _mask_pin(pin, idempotency_key)}
    try:
        with transaction.atomic():
            stamp = feed_stamp_open()
            # Concurrent creates queue on the feed clock: a double tap's second request gets here
            # after the first committed, and finds its case.
            if idempotency_key and (earlier := _replay(idempotency_key)):
                return earlier
            case = _insert_with_fresh_number(
                pin_hash=pin_hash, language=language, organisation=organisation, declarations=agreed, **extra
            )
            _link(case, normalised, stamp)
            stamp.close()
    except IntegrityError:
        # The unique digest is the final judge if two requests still raced past each other.
        if idempotency_key and (earlier := _replay(idempotency_key)):
            return earlier
        raise
    return NewCase(case=case, pin=pin)


def _insert_with_fresh_number(**fields: object) -> Case:
    # A collision in 5·10**17 numbers is near impossible, but the unique constraint is the judge,
    # and a savepoint lets us draw again without losing the transaction.
    for _attempt in range(5):
        number = generate_case_number()
        try:
            with transaction.atomic():
                return Case.objects.create(number=number, **fields)
        except IntegrityError:
            if not Case.objects.filter(number=number).exists():
                raise  # another constraint (the idempotency digest): not ours to retry
            continue
    raise RuntimeError("could not draw an unused case number")


def case_add_hashes(*, case: Case, hashes: Iterable[HashInput]) -> list[HashRecord]:
    """Add hashes to an active case; those it already has are left as they are."""
    normalised = _normalise_all(hashes)
    if not normalised:
        raise ValidationError(_("Add at least one file's hash."), code="no_hashes")
    with transaction.atomic():
        stamp = feed_stamp_open()
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.status != Case.Status.ACTIVE:
            raise ValidationError(
                _("This case has been withdrawn, so nothing can be added to it."), code="case_withdrawn"
            )
        existing = set(
            locked.case_hashes.values_list("hash_record__signal_type", "hash_record__value")
        )
        new_count = sum((h.signal_type, h.value) not in existing for h in normalised)
        _check_total(len(existing) + new_count)
        records = _link(locked, normalised, stamp)
        stamp.close()
        return records


def case_withdraw(*, case: Case, actor=None, reason: str = "") -> Case:
    """Withdraw a case; its hashes are withdrawn too unless another active case holds them.

    Withdrawing twice is harmless: the second call changes nothing.
    """
    with transaction.atomic():
        stamp = feed_stamp_open()
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.status == Case.Status.WITHDRAWN:
            return locked
        locked.status = Case.Status.WITHDRAWN
        locked.withdrawn_at = stamp.time
        locked.save(update_fields=["status", "withdrawn_at"])
        hash_records_refresh_status(
            record_ids=locked.case_hashes.values_list("hash_record_id", flat=True), stamp=stamp
        )
        stamp.close()
        if actor is not None:
            audit_record(
                actor=actor,
                action="case.withdraw",
                organisation=locked.organisation,
                case=locked,
                details={"reason": reason} if reason else {},
            )
    return locked


class CaseAccessDenied(Exception):
    """A case number and PIN that do not open a case: unknown, wrong, or locked for a while."""

    def __init__(self, *, locked_for: timedelta | None = None):
        super().__init__("case access denied")
        self.locked_for = locked_for


# A real hash of a PIN no one has, checked when the case number is unknown, so that an unknown
# case costs the same time as a wrong PIN (as django.contrib.auth does for unknown users).
_dummy_pin_hash: str | None = None


def _dummy_check(pin: str) -> None:
    global _dummy_pin_hash
    if _dummy_pin_hash is None:
        _dummy_pin_hash = make_password(generate_pin())
    check_password(pin, _dummy_pin_hash)


def _unknown_number_attempt(number: str, pin: str) -> None:
    """Count failures for numbers that have no case too, so they lock exactly like real ones."""
    key = "case-unknown:" + hmac.new(settings.SECRET_KEY.encode(), number.encode(), hashlib.sha256).hexdigest()
    lockout = settings.CASE_PIN_LOCKOUT_MINUTES * 60
    cache.add(key, 0, timeout=lockout)
    try:
        failures = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=lockout)
        failures = 1
    if failures > settings.CASE_PIN_MAX_FAILURES:
        raise CaseAccessDenied(locked_for=timedelta(seconds=lockout))
    _dummy_check(pin)
    raise CaseAccessDenied(
        locked_for=timedelta(seconds=lockout) if failures == settings.CASE_PIN_MAX_FAILURES else None
    )


def case_sign_in(*, number: str, pin: str) -> Case:
    """Return the case if the PIN is right; count a wrong PIN and lock the case after too many.

    `number` and `pin` are already in canonical form. The row is locked while the PIN is checked,
    so parallel guesses for one case are counted one after another and none gets past the limit.
    Raises CaseAccessDenied, the same for an unknown number as for a wrong PIN.
    """
    now = timezone.now()
    lockout = timedelta(minutes=settings.CASE_PIN_LOCKOUT_MINUTES)
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(number=number).first()
        if case is None:
            denied = None
        elif case.locked_until is not None and case.locked_until > now:
            raise CaseAccessDenied(locked_for=case.locked_until - now)
        elif check_password(pin, case.pin_hash):
            if case.pin_failures or case.locked_until or case.pin_replay:
                # The person has their PIN: a replay of the opening request is no longer needed.
                case.pin_failures, case.locked_until, case.pin_replay = 0, None, ""
                case.save(update_fields=["pin_failures", "locked_until", "pin_replay"])
            return case
        else:
            case.pin_failures += 1
            denied = CaseAccessDenied()
            if case.pin_failures >= settings.CASE_PIN_MAX_FAILURES:
                case.pin_failures, case.locked_until = 0, now + lockout
                denied = CaseAccessDenied(locked_for=lockout)
            case.save(update_fields=["pin_failures", "locked_until"])
    if case is None:
        _unknown_number_attempt(number, pin)
    raise denied
