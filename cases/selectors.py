"""Reads for the victim pages and the case API."""

from django.db.models import Prefetch, QuerySet

from partners.models import Feedback

from .models import CaseHash


def case_hashes_with_feedback(*, case_id: int) -> QuerySet[CaseHash]:
    """A case's hashes, oldest first, each record with its platforms' current verdicts."""
    current = Feedback.objects.filter(is_current=True).select_related("organisation").order_by("organisation__name")
    return (
        CaseHash.objects.filter(case_id=case_id)
        .select_related("hash_record")
        .prefetch_related(Prefetch("hash_record__feedback", queryset=current, to_attr="current_feedback"))
        .order_by("added_at", "id")
    )
