"""Reads of hash records: the feed, one record's provenance, records by value."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
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
    if rows:
        # A page is a run of feed positions, so its cases and feedback are found by that range:
        # two bounds instead of a thousand ids to send and plan.
        in_page = {"hash_record__feed_seq__gt": after_seq, "hash_record__feed_seq__lte": rows[-1].feed_seq}
        _attach_provenance(rows, with_cases=with_cases, where=in_page)
    return rows, has_more


def _attach_provenance(rows: list[FeedRow], *, with_cases: bool, where: dict | None = None) -> None:
    from cases.models import CaseHash
    from partners.models import Feedback

    by_id = {row.id: row for row in rows}
    if not by_id:
        return
    where = where or {"hash_record_id__in": list(by_id)}
    if with_cases:
        links = CaseHash.objects.filter(**where).values_list("hash_record_id", "case__reference", "case__status")
        for record_id, reference, status in links:
            if record_id in by_id:
                by_id[record_id].cases.append((reference, status))
    current = Feedback.objects.filter(is_current=True, **where).values_list(
        "hash_record_id", "organisation__slug", "verdict", "tags"
    )
    for record_id, platform, verdict, tags in current:
        if record_id in by_id:
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


# Far below any database's limit on statement parameters (SQLite's is 32,766).
_IDS_PER_STATEMENT = 5000


@dataclass
class LookupMatch:
    record_id: int
    signal_type: str
    value: str
    distance: int
    status: str
    feedback: dict[str, int]


def hash_lookups(queries: list[tuple[str, str]], max_distance: int) -> list[list[LookupMatch]]:
    """For each (signal type, value): the records that match, nearest first.

    PDQ matches within `max_distance` come from this process's index (hashes/match_index.py);
    MD5 matches are exact. Records held out of the feed never match. Matched ids are read again
    from the database, so a record purged since the index last synced is not reported.
    """
    from .match_index import pdq_index

    found: list[list[tuple[int, int]]] = [[] for _ in queries]
    pdq_positions = [i for i, (kind, _value) in enumerate(queries) if kind == "pdq"]
    if pdq_positions:
        results = pdq_index().search([queries[i][1] for i in pdq_positions], max_distance)
        for position, matches in zip(pdq_positions, results):
            found[position] = matches
    md5_values = [value for kind, value in queries if kind == "md5"]
    if md5_values:
        exact = dict(HashRecord.objects.filter(signal_type="md5", value__in=md5_values).values_list("value", "id"))
        for i, (kind, value) in enumerate(queries):
            if kind == "md5" and value in exact:
                found[i] = [(exact[value], 0)]

    return _lookup_matches(found)


def _lookup_matches(found: list[list[tuple[int, int]]]) -> list[list[LookupMatch]]:
    """The matched records, read again (a held or purged one drops out), with feedback counts.

    One statement, written as SQL, for the records and their current feedback together: lookups
    answer in a few milliseconds, and the same through the ORM (a filtered join) spent ~1 ms
    building its query.
    """
    from partners.models import Feedback

    ids = sorted({record_id for matches in found for record_id, _distance in matches})
    if not ids:
        return [[] for _ in found]
    records: dict[int, tuple[str, str, str]] = {}
    verdicts: dict[int, Counter] = defaultdict(Counter)
    with connection.cursor() as cursor:
        for start in range(0, len(ids), _IDS_PER_STATEMENT):
            chunk = ids[start : start + _IDS_PER_STATEMENT]
            cursor.execute(
                f"SELECT r.id, r.signal_type, r.value, r.status, f.verdict"
                f" FROM {HashRecord._meta.db_table} r"
                f" LEFT JOIN {Feedback._meta.db_table} f ON f.hash_record_id = r.id AND f.is_current"
                f" WHERE r.id IN ({', '.join(['%s'] * len(chunk))}) AND r.review <> %s",
                [*chunk, HashRecord.Review.HELD],
            )
            for record_id, signal_type, value, status, verdict in cursor.fetchall():
                records[record_id] = (signal_type, value, status)
                if verdict is not None:
                    verdicts[record_id][verdict] += 1
    return [
        [
            LookupMatch(
                record_id=record_id,
                signal_type=records[record_id][0],
                value=records[record_id][1],
                distance=distance,
                status=records[record_id][2],
                feedback=dict(verdicts[record_id]),
            )
            for record_id, distance in matches
            if record_id in records
        ]
        for matches in found
    ]
