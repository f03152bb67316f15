"""One page of the StopNCII feed as JSON text, rendered by PostgreSQL.

A platform's full sync is a thousand pages per million hashes, and Python spent most of each page
turning rows into dicts and dicts into JSON. On PostgreSQL the database builds each record's JSON
itself (one query, the case and feedback lists as correlated subqueries) and the view only joins
the texts: about five times the records per second (docs/benchmarks.md). The value mappings come
from the same Python tables as the general path, so the two cannot disagree; other databases
(SQLite for `make run`) take the general path.
"""

import json
from dataclasses import dataclass

from django.db import connection

from ..models import HashRecord
from ..selectors import feed_page
from .base import HELD_STATUS, STOPNCII_STATUS


@dataclass
class RenderedPage:
    records: list[str]  # each one record's JSON
    last_seq: int | None
    last_timestamp: int | None
    has_more: bool


def _case_expression(column: str, mapping: dict[str, str]) -> tuple[str, list[str]]:
    whens = " ".join("WHEN %s THEN %s" for _ in mapping)
    params = [item for pair in mapping.items() for item in pair]
    return f"CASE {column} {whens} END", params


def _sql() -> tuple[str, list]:
    from .stopncii import BY_SIGNAL_CODE

    signal, signal_params = _case_expression("r.signal_type", BY_SIGNAL_CODE)
    record_status, record_params = _case_expression("r.status", STOPNCII_STATUS)
    case_status, case_params = _case_expression("c.status", STOPNCII_STATUS)
    sql = f"""
        SELECT r.feed_seq, floor(extract(epoch FROM r.modified_at))::bigint AS ts, json_build_object(
            'lastModtimestamp', floor(extract(epoch FROM r.modified_at))::bigint,
            'signalType', {signal},
            'hashValue', r.value,
            'hashStatus', CASE WHEN r.review = %s THEN %s ELSE {record_status} END,
            'caseNumbers', coalesce((
                SELECT json_object_agg(c.reference, {case_status})
                FROM cases_casehash ch JOIN cases_case c ON c.id = ch.case_id
                WHERE ch.hash_record_id = r.id), '{{}}'::json),
            'CSPFeedbacks', coalesce((
                SELECT json_agg(json_build_object('source', o.slug, 'feedbackValue', f.verdict, 'tags', f.tags))
                FROM partners_feedback f JOIN partners_organisation o ON o.id = f.organisation_id
                WHERE f.hash_record_id = r.id AND f.is_current), '[]'::json)
        )::text
        FROM hashes_hashrecord r
        WHERE r.feed_seq > %s
        ORDER BY r.feed_seq
        LIMIT %s
    """
    params = [*signal_params, HashRecord.Review.HELD, HELD_STATUS, *record_params, *case_params]
    return sql, params


def render_page(*, after_seq: int, limit: int) -> RenderedPage:
    if connection.vendor != "postgresql":
        from .stopncii import _record

        rows, has_more = feed_page(after_seq=after_seq, limit=limit)
        records = [_record(row) for row in rows]
        return RenderedPage(
            records=[json.dumps(r, separators=(",", ":")) for r in records],
            last_seq=rows[-1].feed_seq if rows else None,
            last_timestamp=records[-1]["lastModtimestamp"] if records else None,
            has_more=has_more,
        )
    sql, params = _sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, after_seq, limit + 1])
        rows = cursor.fetchall()
    has_more = len(rows) > limit
    rows = rows[:limit]
    return RenderedPage(
        records=[text for _seq, _ts, text in rows],
        last_seq=rows[-1][0] if rows else None,
        last_timestamp=rows[-1][1] if rows else None,
        has_more=has_more,
    )
