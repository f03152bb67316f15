"""Writes to hash records. Callers hold a transaction and the feed clock (hashes/feed_clock.py)."""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction

from .feed_clock import FeedStamp
from .models import HashRecord
from .signal_types import NormalisedHash


def hash_records_upsert(*, hashes: Iterable[NormalisedHash], stamp: FeedStamp) -> list[HashRecord]:
    """Return the records for these hashes, creating missing ones, all active and marked changed.

    A hash that a new case links changes for platforms (its case list grows) and, if it was
    withdrawn, comes back: either way its modified time moves so the feed sends it again.
    """
    hashes = list(hashes)
    if not hashes:
        return []
    # Insert what is missing without failing on what exists: concurrent cases may submit the same
    # hash at the same moment, and the unique constraint decides who inserts.
    HashRecord.objects.bulk_create(
        [
            HashRecord(
                signal_type=h.signal_type,
                value=h.value,
                quality=h.quality,
                modified_at=stamp.time,
                feed_seq=stamp.next_seq(),
            )
            for h in hashes
        ],
        ignore_conflicts=True,
    )
    wanted = {(h.signal_type, h.value): h for h in hashes}
    records = list(
        HashRecord.objects.select_for_update()
        .filter(value__in=[h.value for h in hashes])
        .order_by("id")  # one lock order everywhere, so two writers cannot deadlock
    )
    records = [r for r in records if (r.signal_type, r.value) in wanted]
    for record in records:
        incoming = wanted[(record.signal_type, record.value)].quality
        if incoming is not None and (record.quality is None or incoming > record.quality):
            # The same hash from another copy of a photo: keep the best quality seen.
            record.quality = incoming
        record.status = HashRecord.Status.ACTIVE
        record.withdrawn_at = None
        _restamp(record, stamp)
    HashRecord.objects.bulk_update(records, ["quality", "status", "withdrawn_at", "modified_at", "feed_seq"])
    return records


def _restamp(record: HashRecord, stamp: FeedStamp) -> None:
    record.modified_at = stamp.time
    record.feed_seq = stamp.next_seq()


def hash_records_refresh_status(*, record_ids: Iterable[int], stamp: FeedStamp) -> None:
    """Recompute each record's status from its cases after one of them changed."""
    from cases.models import Case

    records = list(HashRecord.objects.select_for_update().filter(id__in=list(record_ids)).order_by("id"))
    has_active_case = set(
        HashRecord.objects.filter(id__in=[r.id for r in records], cases__status=Case.Status.ACTIVE)
        .values_list("id", flat=True)
        .distinct()
    )
    for record in records:
        if record.id in has_active_case:
            record.status, record.withdrawn_at = HashRecord.Status.ACTIVE, None
        elif record.status != HashRecord.Status.WITHDRAWN:
            record.status, record.withdrawn_at = HashRecord.Status.WITHDRAWN, stamp.time
        # Changed either way: a case's status is part of what the feed shows for the record.
        _restamp(record, stamp)
    HashRecord.objects.bulk_update(records, ["status", "withdrawn_at", "modified_at", "feed_seq"])


def hash_records_purge_withdrawn(*, withdrawn_before: datetime, batch_size: int = 1000) -> int:
    """Delete records withdrawn before the cut-off, with their case links; return how many went."""
    purged = 0
    while True:
        with transaction.atomic():
            # skip_locked: a record being re-activated right now is left for the next run.
            ids = list(
                HashRecord.objects.select_for_update(skip_locked=True)
                .filter(status=HashRecord.Status.WITHDRAWN, withdrawn_at__lt=withdrawn_before)
                .order_by("id")
                .values_list("id", flat=True)[:batch_size]
            )
            if not ids:
                return purged
            HashRecord.objects.filter(id__in=ids).delete()
            purged += len(ids)
