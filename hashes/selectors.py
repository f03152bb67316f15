"""Reads of hash records: the feed, one record's provenance, records by value."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet

from .models import HashRecord

FEED_COLUMNS = ("id", "signal_type", "value", "quality", "status", "review", "modified_at", "feed_seq")


@dataclass
class FeedRow:
    id: int
    signal_type: str
    value: str
    quality: int | None
    status: str
    review: str
    modified_at: datetime
    feed_seq: int
    # (case reference, case status) for each case that holds the hash
    cases: list[tuple[str, str]] = field(default_factory=list)
    # (platform slug, verdict, tags) for each platform's current feedback
    feedback: list[tuple[str, str, list[str]]] = field(default_factory=list)


def feed_first_seq_since(start: datetime) -> int | None:
    """The feed position of the first change at or after `start`.

    Feed times never decrease along feed positions (hashes/feed_clock.py), so everything from
    here on is at or after `start`, and the feed can page by position alone.
    """
    return (
        HashRecord.objects.filter(modified_at__gte=start)
        .order_by("modified_at", "feed_seq")
        .values_list("feed_seq", flat=True)
        .first()
    )


def feed_page(
    *, after_seq: int, limit: int, signal_types: list[str] | None = None, with_cases: bool = True
) -> tuple[list[FeedRow], bool]:
    """Up to `limit` records after a feed position, in feed order, and whether more follow."""
    records = HashRecord.objects.filter(feed_seq__gt=after_seq)
    if signal_types:
        records = records.filter(signal_type__in=signal_types)
    rows = [FeedRow(*values) for values in records.order_by("feed_seq").values_list(*FEED_COLUMNS)[: limit + 1]]
    has_more = len(rows) > limit
    rows = rows[:limit]
    _attach_provenance(rows, with_cases=with_cases)
    return rows, has_more


def _attach_provenance(rows: list[FeedRow], *, with_cases: bool) -> None:
    from cases.models import CaseHash
    from partners.models import Feedback

    by_id = {row.id: row for row in rows}
    if not by_id:
        return
    if with_cases:
        links = CaseHash.objects.filter(hash_record_id__in=by_id).values_list(
            "hash_record_id", "case__reference", "case__status"
        )
        for record_id, reference, status in links:
            by_id[record_id].cases.append((reference, status))
    current = Feedback.objects.filter(hash_record_id__in=by_id, is_current=True).values_list(
        "hash_record_id", "organisation__slug", "verdict", "tags"
    )
    for record_id, platform, verdict, tags in current:
        by_id[record_id].feedback.append((platform, verdict, tags))


def feedback_summary(rows: list[tuple[str, str, list[str]]]) -> dict[str, int]:
    """How many platforms gave each verdict: what platforms asked for, without saying who."""
    return dict(Counter(verdict for _platform, verdict, _tags in rows))


def hash_records_by_value(values: list[tuple[str, str]]) -> dict[tuple[str, str], HashRecord]:
    """Records for (signal type, value) pairs that exist."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for signal_type, value in values:
        by_type[signal_type].append(value)
    found: dict[tuple[str, str], HashRecord] = {}
    for signal_type, group in by_type.items():
        for record in HashRecord.objects.filter(signal_type=signal_type, value__in=group):
            found[(record.signal_type, record.value)] = record
    return found


def hash_record_detail(record_id: int) -> tuple[HashRecord, int, list[tuple[str, str, list[str]]]] | None:
    """A record with how many cases hold it and the platforms' current feedback."""
    record = HashRecord.objects.filter(pk=record_id).first()
    if record is None:
        return None
    row = FeedRow(*[getattr(record, c) for c in FEED_COLUMNS])
    _attach_provenance([row], with_cases=True)
    return record, len(row.cases), row.feedback


def hash_records_in_review() -> QuerySet[HashRecord]:
    return HashRecord.objects.filter(review=HashRecord.Review.QUEUED).order_by("modified_at")
