from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from cases.models import CaseHash

from .models import ApiKey, HashSubmission, HelpEntry, Membership, Organisation

if TYPE_CHECKING:
    from cases.models import Case
    from hashes.models import HashRecord


def ngo_partners_public() -> QuerySet[Organisation]:
    """NGOs shown to visitors as local help, operator first."""
    return Organisation.objects.filter(kind=Organisation.Kind.NGO, is_active=True, is_listed=True).order_by(
        "-is_operator", "name"
    )


# --- What a staff member may see (the partner workspace's scoping) ----------------------------


def staff_membership(user) -> Membership | None:
    """The staff member's place in an NGO, or None (superusers need none; others then see nothing)."""
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return Membership.objects.select_related("organisation").get(user=user, organisation__is_active=True)
    except Membership.DoesNotExist:
        return None


def cases_visible_to(user) -> "QuerySet[Case]":
    """Cases of the staff member's own NGO; cases made without an NGO belong to the operator's staff."""
    from cases.models import Case

    if user.is_superuser:
        return Case.objects.all()
    membership = staff_membership(user)
    if membership is None:
        return Case.objects.none()
    own = Q(organisation=membership.organisation)
    if membership.organisation.is_operator:
        own |= Q(organisation__isnull=True)
    return Case.objects.filter(own)


def hash_records_visible_to(user) -> "QuerySet[HashRecord]":
    """Hashes of the cases the staff member sees; the operator's staff also see platforms' own hashes."""
    from hashes.models import HashRecord

    if user.is_superuser:
        return HashRecord.objects.all()
    membership = staff_membership(user)
    if membership is None:
        return HashRecord.objects.none()
    visible = Q(pk__in=CaseHash.objects.filter(case__in=cases_visible_to(user)).values("hash_record_id"))
    if membership.organisation.is_operator:
        visible |= Q(pk__in=HashSubmission.objects.values("hash_record_id"))
    return HashRecord.objects.filter(visible)


def help_entries_public() -> QuerySet[HelpEntry]:
    return HelpEntry.objects.filter(is_published=True).filter(
        Q(organisation__isnull=True) | Q(organisation__is_active=True)
    ).select_related("organisation")


def api_key_by_prefix(prefix: str) -> ApiKey | None:
    """The key with this prefix, with `organisation_is_active` read from its organisation.

    Written as SQL because every API request runs it: through the ORM (a join with `only()` on a
    model translated into 16 languages) it spent ~1.5 ms building its query, a third of a lookup.
    """
    found = ApiKey.objects.raw(
        f"SELECT k.id, k.organisation_id, k.name, k.prefix, k.salt, k.digest, k.scopes, k.created_at,"
        f" k.last_used_at, k.revoked_at, o.is_active AS organisation_is_active"
        f" FROM {ApiKey._meta.db_table} k JOIN {Organisation._meta.db_table} o ON o.id = k.organisation_id"
        f" WHERE k.prefix = %s",
        [prefix],
    )
    return next(iter(found), None)
