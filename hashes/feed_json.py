"""Each record of the StopNCII feed as JSON text, rendered by PostgreSQL and stored with the record.

A platform's full sync is a thousand pages per million hashes. Building each record's JSON in the
page query (its cases and feedback as correlated subqueries) cost ~15 µs a record on the project's
machine, most of a page's time; reading stored text costs a few. The text is rendered again
whenever the record is stamped by the feed clock, which every change a platform must hear about
already does (hashes/feed_clock.py), in the same transaction: the stored JSON and the feed position
change together. The value mappings come from the same Python tables as the general rendering in
hashes/api/stopncii.py, and tests compare the two. Other databases (SQLite for `make run`) render
in Python instead and leave the column empty.
"""

from django.db import connection

from .models import HashRecord


def _case_expression(column: str, mapping: dict[str, str]) -> tuple[str, list[str]]:
    whens = " ".join("WHEN %s THEN %s" for _ in mapping)
    params = [item for pair in mapping.items() for item in pair]
    return f"CASE {column} {whens} END", params


def record_json_sql(alias: str = "r") -> tuple[str, list]:
    """An SQL expression (json) for the feed record of the hashes_hashrecord row `alias`."""
    from .api.base import HELD_STATUS, STOPNCII_STATUS
    from .api.stopncii import BY_SIGNAL_CODE

    signal, signal_params = _case_expression(f"{alias}.signal_type", BY_SIGNAL_CODE)
    record_status, record_params = _case_expression(f"{alias}.status", STOPNCII_STATUS)
    case_status, case_params = _case_expression("c.status", STOPNCII_STATUS)
    sql = f"""json_build_object(
        'lastModtimestamp', floor(extract(epoch FROM {alias}.modified_at))::bigint,
        'signalType', {signal},
        'hashValue', {alias}.value,
        'hashStatus', CASE WHEN {alias}.review = %s THEN %s ELSE {record_status} END,
        'caseNumbers', coalesce((
            SELECT json_object_agg(c.reference, {case_status})
            FROM cases_casehash ch JOIN cases_case c ON c.id = ch.case_id
            WHERE ch.hash_record_id = {alias}.id), '{{}}'::json),
        'CSPFeedbacks', coalesce((
            SELECT json_agg(json_build_object('source', o.slug, 'feedbackValue', f.verdict, 'tags', f.tags))
            FROM partners_feedback f JOIN partners_organisation o ON o.id = f.organisation_id
            WHERE f.hash_record_id = {alias}.id AND f.is_current), '[]'::json)
    )"""
    return sql, [*signal_params, HashRecord.Review.HELD, HELD_STATUS, *record_params, *case_params]


def feed_json_render(*, after_seq: int, through_seq: int) -> None:
    """Store the feed JSON of the records at feed positions after_seq < seq <= through_seq."""
    if connection.vendor != "postgresql" or through_seq <= after_seq:
        return
    expression, params = record_json_sql()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {HashRecord._meta.db_table} r SET feed_json = ({expression})::text"
            f" WHERE r.feed_seq > %s AND r.feed_seq <= %s",
            [*params, after_seq, through_seq],
        )
