"""One page of the StopNCII feed as JSON text, read from PostgreSQL.

Each record's JSON is stored with it (hashes/feed_json.py), so a page is one index-range read and
the view only joins the texts. A record stamped before the column existed is rendered in the same
query. Other databases (SQLite for `make run`) take the general path in Python.
"""

import json
from dataclasses import dataclass

from django.db import connection

from ..feed_json import record_json_sql
from ..selectors import feed_page


@dataclass
class RenderedPage:
    records: list[str]  # each one record's JSON
    last_seq: int | None
    last_timestamp: int | None
    has_more: bool


def _sql() -> tuple[str, list]:
    record_json, params = record_json_sql("r")
    sql = f"""
        SELECT r.feed_seq, floor(extract(epoch FROM r.modified_at))::bigint AS ts,
               coalesce(r.feed_json, ({record_json})::text)
        FROM hashes_hashrecord r
        WHERE r.feed_seq > %s
        ORDER BY r.feed_seq
        LIMIT %s
    """
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
