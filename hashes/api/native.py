"""The native platform API: the feed with an opaque cursor, provenance, feedback and lookups."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response

from partners.services import feedback_submit_by_value

from ..selectors import feed_page, feedback_summary, hash_lookups, hash_record_detail
from ..signal_types import SIGNAL_TYPES
from . import serializers as s
from .base import PlatformAPIView, decode_cursor, encode_cursor, native_status

MAX_LIMIT = 1000


class HashFeed(PlatformAPIView):
    required_scope = "fetch"

    @extend_schema(
        operation_id="hash_feed",
        tags=["Hashes"],
        summary="Page through every hash, deletions included, in the order they changed",
        parameters=[
            OpenApiParameter("cursor", str, description="`next_cursor` of the previous page; none to start."),
            OpenApiParameter("signal_type", str, many=True, enum=list(SIGNAL_TYPES)),
            OpenApiParameter("limit", int, description=f"1 to {MAX_LIMIT}; default 500."),
        ],
        responses=s.FeedPage,
    )
    def get(self, request):
        cursor = request.query_params.get("cursor")
        after = decode_cursor(cursor) if cursor else 0
        types = [t for value in request.query_params.getlist("signal_type") for t in value.split(",") if t]
        if any(t not in SIGNAL_TYPES for t in types):
            raise exceptions.ValidationError({"signal_type": [_("Unknown hash type.")]}, code="unknown_signal_type")
        raw_limit = request.query_params.get("limit", "500")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
            raise exceptions.ValidationError({"limit": [_("Give a whole number from 1 to %(n)d.") % {"n": MAX_LIMIT}]})
        rows, has_more = feed_page(after_seq=after, limit=int(raw_limit), signal_types=types, with_cases=False)
        return Response(
            {
                "results": [
                    {
                        "id": row.id,
                        "signal_type": row.signal_type,
                        "value": row.value,
                        "quality": row.quality,
                        "status": native_status(row.status, row.review),
                        "modified_at": row.modified_at.isoformat(),
                    }
                    for row in rows
                ],
                "next_cursor": encode_cursor(rows[-1].feed_seq if rows else after),
                "has_more": has_more,
            }
        )


class HashDetail(PlatformAPIView):
    required_scope = "fetch"

    @extend_schema(
        operation_id="hash_detail", tags=["Hashes"], summary="One hash with its provenance", responses=s.HashDetail
    )
    def get(self, request, record_id: int):
        found = hash_record_detail(record_id)
        if found is None:
            raise exceptions.NotFound()
        record, cases, feedback = found
        return Response(
            {
                "id": record.id,
                "signal_type": record.signal_type,
                "value": record.value,
                "quality": record.quality,
                "status": native_status(record.status, record.review),
                "first_seen": record.created_at.isoformat(),
                "modified_at": record.modified_at.isoformat(),
                "cases": cases,
                "feedback": feedback_summary(feedback),
            }
        )


class FeedbackView(PlatformAPIView):
    required_scope = "feedback"

    @extend_schema(
        tags=["Feedback"],
        summary="Report your verdict on hashes; the latest per hash is your current one",
        request=s.FeedbackRequest,
        responses=s.FeedbackResponse,
    )
    def post(self, request):
        data = s.FeedbackRequest(data=request.data)
        data.is_valid(raise_exception=True)
        wanted = data.validated_data["feedback"]
        outcome = feedback_submit_by_value(
            platform=request.user.organisation,
            verdicts=[(f["signal_type"], f["value"], f["verdict"], f["tags"]) for f in wanted],
        )
        return Response({"accepted": outcome.accepted, "unknown": outcome.unknown})


def _lookup_response(queries: list[dict], max_distance: int) -> Response:
    results = hash_lookups([(q["signal_type"], q["value"]) for q in queries], max_distance)
    return Response(
        {
            "results": [
                {
                    "signal_type": q["signal_type"],
                    "value": q["value"],
                    "matches": [match.__dict__ for match in matches],
                }
                for q, matches in zip(queries, results)
            ]
        }
    )


class LookupView(PlatformAPIView):
    required_scope = "match"

    @extend_schema(
        operation_id="lookup",
        tags=["Lookups"],
        summary="Look one hash up: PDQ within a Hamming distance (default 31), MD5 exactly",
        request=s.SingleLookupRequest,
        responses=s.LookupResponse,
    )
    def post(self, request):
        data = s.SingleLookupRequest(data=request.data)
        data.is_valid(raise_exception=True)
        query = {"signal_type": data.validated_data["signal_type"], "value": data.validated_data["value"]}
        return _lookup_response([query], data.validated_data["max_distance"])


class BatchLookupView(PlatformAPIView):
    required_scope = "match"

    @extend_schema(
        operation_id="lookup_batch",
        tags=["Lookups"],
        summary="Look up to 100 hashes up at once",
        request=s.LookupRequest,
        responses=s.LookupResponse,
    )
    def post(self, request):
        data = s.LookupRequest(data=request.data)
        data.is_valid(raise_exception=True)
        return _lookup_response(data.validated_data["hashes"], data.validated_data["max_distance"])
