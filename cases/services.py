"""Writes to cases. Each function is one transaction and leaves hash records consistent with it."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from hashes.feed_clock import FeedStamp, feed_stamp_open
from hashes.models import HashRecord
from hashes.services import hash_records_refresh_status, hash_records_upsert
from hashes.signal_types import NormalisedHash, check_usable, normalise_hash
from partners.models import Organisation
from partners.services import audit_record

from .identifiers import generate_case_number, generate_pin
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


def case_create(
    *, hashes: Iterable[HashInput], language: str, organisation: Organisation | None = None
) -> NewCase:
    """Open a case for these hashes and return it with its PIN."""
    normalised = _normalise_all(hashes)
    if not normalised:
        raise ValidationError(_("Add at least one file's hash to open a case."), code="no_hashes")
    _check_total(len(normalised))
    if organisation is not None and organisation.kind != Organisation.Kind.NGO:
        raise ValidationError(_("Only an NGO partner can assist a case."), code="invalid_organisation")

    pin = generate_pin()
    pin_hash = make_password(pin)  # deliberately slow: done before any lock is taken
    with transaction.atomic():
        stamp = feed_stamp_open()
        case = _insert_with_fresh_number(pin_hash=pin_hash, language=language, organisation=organisation)
        _link(case, normalised, stamp)
        stamp.close()
    return NewCase(case=case, pin=pin)


def _insert_with_fresh_number(**fields: object) -> Case:
    # A collision in 5·10**17 numbers is near impossible, but the unique constraint is the judge,
    # and a savepoint lets us draw again without losing the transaction.
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Case.objects.create(number=generate_case_number(), **fields)
        except IntegrityError:
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
