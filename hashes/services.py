"""Writes to hash records. Callers hold a transaction and the feed clock (hashes/feed_clock.py).

Every function here that changes what the feed shows gives the records a new feed position, and
tells subscribed platforms (webhooks) when a hash starts or stops being one they should block.
"""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction

from .feed_clock import FeedStamp
from .models import HashRecord
from .signal_types import NormalisedHash

Status = HashRecord.Status
Review = HashRecord.Review


def _emit(event: str, records: list[HashRecord]) -> None:
    if records:
        from partners.services import webhook_event_emit

        webhook_event_emit(event=event, records=records)


def hash_records_touch(*, records: Iterable[HashRecord], stamp: FeedStamp) -> None:
    """Give records a new feed position: something platforms see about them has changed."""
    for record in records:
        record.modified_at = stamp.time
        record.feed_seq = stamp.next_seq()


def _save(records: list[HashRecord], *fields: str) -> None:
    HashRecord.objects.bulk_update(records, [*fields, "modified_at", "feed_seq"])


def hash_records_upsert(*, hashes: Iterable[NormalisedHash], stamp: FeedStamp) -> list[HashRecord]:
    """Return the records for these hashes, creating missing ones, all active and marked changed.

    A hash that a new case links changes for platforms (its case list grows) and, if it was
    withdrawn, comes back: either way it moves to the end of the feed.
    """
    hashes = list(hashes)
    if not hashes:
        return []
    # Insert what is missing without failing on what exists: the unique constraint decides.
    fresh = [
        HashRecord(
            signal_type=h.signal_type,
            value=h.value,
            quality=h.quality,
            modified_at=stamp.time,
            feed_seq=stamp.next_seq(),
        )
        for h in hashes
    ]
    HashRecord.objects.bulk_create(fresh, ignore_conflicts=True)
    inserted_seqs = {r.feed_seq for r in fresh}
    wanted = {(h.signal_type, h.value): h for h in hashes}
    records = [
        r
        for r in HashRecord.objects.select_for_update()
        .filter(value__in=[h.value for h in hashes])
        .order_by("id")  # one lock order everywhere, so two writers cannot deadlock
        if (r.signal_type, r.value) in wanted
    ]
    became_active = []
    for record in records:
        incoming = wanted[(record.signal_type, record.value)].quality
        if incoming is not None and (record.quality is None or incoming > record.quality):
            # The same hash from another copy of a photo: keep the best quality seen.
            record.quality = incoming
        if record.feed_seq in inserted_seqs or record.status == Status.WITHDRAWN:
            if record.review != Review.HELD:
                became_active.append(record)
        record.status = Status.ACTIVE
        record.withdrawn_at = None
    hash_records_touch(records=records, stamp=stamp)
    _save(records, "quality", "status", "withdrawn_at")
    _emit("hash.added", became_active)
    return records


def hash_records_refresh_status(*, record_ids: Iterable[int], stamp: FeedStamp) -> None:
    """Recompute each record's status from its cases and platform submissions after a change."""
    from cases.models import Case

    records = list(HashRecord.objects.select_for_update().filter(id__in=list(record_ids)).order_by("id"))
    ids = [r.id for r in records]
    still_wanted = set(
        HashRecord.objects.filter(id__in=ids, cases__status=Case.Status.ACTIVE).values_list("id", flat=True)
    ) | set(HashRecord.objects.filter(id__in=ids, submissions__isnull=False).values_list("id", flat=True))
    became_withdrawn = []
    for record in records:
        if record.id in still_wanted:
            record.status, record.withdrawn_at = Status.ACTIVE, None
        elif record.status != Status.WITHDRAWN:
            record.status, record.withdrawn_at = Status.WITHDRAWN, stamp.time
            if record.review != Review.HELD:
                became_withdrawn.append(record)
    # Changed either way: a case's status is part of what the feed shows for the record.
    hash_records_touch(records=records, stamp=stamp)
    _save(records, "status", "withdrawn_at")
    _emit("hash.withdrawn", became_withdrawn)


def hash_record_set_review(*, record: HashRecord, review: str, stamp: FeedStamp) -> HashRecord:
    """Change a record's review state; holding it, or releasing it, is news for platforms."""
    locked = HashRecord.objects.select_for_update().get(pk=record.pk)
    before = locked.review
    if before == review:
        return locked
    locked.review = review
    hash_records_touch(records=[locked], stamp=stamp)
    _save([locked], "review")
    if locked.status == Status.ACTIVE and (review == Review.HELD) != (before == Review.HELD):
        _emit("hash.withdrawn" if review == Review.HELD else "hash.added", [locked])
    return locked


def hash_record_review(*, record: HashRecord, decision: str, reason: str, actor) -> HashRecord:
    """A staff member keeps a flagged hash in the feed, or holds it out, and says why."""
    from partners.services import audit_record

    from .feed_clock import feed_stamp_open

    if decision not in (Review.KEPT, Review.HELD):
        raise ValueError(f"a review decides to keep or hold, not {decision!r}")
    if not reason.strip():
        raise ValueError("a review decision needs a reason")
    with transaction.atomic():
        stamp = feed_stamp_open()
        updated = hash_record_set_review(record=record, review=decision, stamp=stamp)
        stamp.close()
        audit_record(
            actor=actor,
            action=f"hash.review.{decision}",
            target=updated,
            details={"reason": reason.strip()},
        )
    return updated


def hash_records_purge_withdrawn(*, withdrawn_before: datetime, batch_size: int = 1000) -> int:
    """Delete records withdrawn before the cut-off, with their links; return how many went."""
    purged = 0
    while True:
        with transaction.atomic():
            # skip_locked: a record being re-activated right now is left for the next run.
            ids = list(
                HashRecord.objects.select_for_update(skip_locked=True)
                .filter(status=Status.WITHDRAWN, withdrawn_at__lt=withdrawn_before)
                .order_by("id")
                .values_list("id", flat=True)[:batch_size]
            )
            if not ids:
                return purged
            HashRecord.objects.filter(id__in=ids).delete()
            purged += len(ids)


def hash_record_flag(*, record: HashRecord, reason: str, actor) -> HashRecord:
    """A staff member puts a hash in the review queue, saying why."""
    from partners.services import audit_record

    if not reason.strip():
        raise ValueError("flagging a hash needs a reason")
    with transaction.atomic():
        locked = HashRecord.objects.select_for_update().get(pk=record.pk)
        if locked.review != Review.QUEUED:
            # Queuing changes nothing platforms see (the hash stays as it is until a decision).
            locked.review = Review.QUEUED
            locked.save(update_fields=["review"])
        audit_record(actor=actor, action="hash.review.flag", target=locked, details={"reason": reason.strip()})
    return locked
