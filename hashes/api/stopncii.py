"""StopNCII-compatible endpoints, so that python-threatexchange's StopNCIIAPI and HMA work unchanged.

The shapes follow that client's dataclasses: integers where it expects integers, its enum values
exactly (it rejects floats and unknown or lower-case values), `tags` always a list.
"""

import json
from datetime import datetime, timezone as dt_timezone

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from partners.models import Feedback
from partners.services import feedback_submit_by_value, hash_submissions_create

from ..selectors import feed_first_seq_since
from ..signal_types import BY_STOPNCII_NAME, NormalisedHash, normalise_value, signal_type_for_value
from .base import HELD_STATUS, STOPNCII_STATUS, PlatformAPIView, decode_cursor, encode_cursor
from .stopncii_feed import render_page

MAX_PAGE_SIZE = 1000
MAX_BATCH = 1000
VERDICTS = set(Feedback.Verdict.values)


def _int_param(request, name: str, default: int | None, lo: int, hi: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        if default is None:
            raise exceptions.ValidationError({name: [_("This parameter is required.")]})
        return default
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise exceptions.ValidationError(
            {name: [_("Give a whole number from %(lo)d to %(hi)d.") % {"lo": lo, "hi": hi}]}
        )
    return int(raw)


def _record(row) -> dict:
    return {
        "lastModtimestamp": int(row.modified_at.timestamp()),
        "signalType": BY_SIGNAL_CODE[row.signal_type],
        "hashValue": row.value,
        "hashStatus": HELD_STATUS if row.review == "held" else STOPNCII_STATUS[row.status],
        "caseNumbers": {reference: STOPNCII_STATUS[status] for reference, status in row.cases},
        "CSPFeedbacks": [
            {"source": platform, "feedbackValue": verdict, "tags": list(tags)}
            for platform, verdict, tags in row.feedback
        ],
    }


BY_SIGNAL_CODE = {t.code: name for name, t in BY_STOPNCII_NAME.items()}


class FetchHashes(PlatformAPIView):
    required_scope = "fetch"

    @extend_schema(
        tags=["StopNCII-compatible"],
        summary="Fetch the hash feed (StopNCII FetchHashes)",
        parameters=[
            OpenApiParameter("startTimestamp", int, description="Unix seconds; records changed at or after it."),
            OpenApiParameter("pageSize", int, description=f"1 to {MAX_PAGE_SIZE}; default 800."),
            OpenApiParameter("nextPageToken", str, description="From the previous page of the same fetch."),
        ],
        responses=inline_serializer(
            "FetchHashesResponse",
            {
                "count": serializers.IntegerField(),
                "nextPageToken": serializers.CharField(),
                "nextSetTimestamp": serializers.IntegerField(),
                "hasMoreRecords": serializers.BooleanField(),
                "hashRecords": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    def get(self, request):
        start = _int_param(request, "startTimestamp", 0, 0, 2**53)
        page_size = _int_param(request, "pageSize", 800, 1, MAX_PAGE_SIZE)
        token = request.query_params.get("nextPageToken")
        if token:
            after = decode_cursor(token)
        else:
            first = feed_first_seq_since(datetime.fromtimestamp(start, tz=dt_timezone.utc))
            after = first - 1 if first is not None else _feed_end()
        page = render_page(after_seq=after, limit=page_size)
        head = json.dumps(
            {
                "count": len(page.records),
                "nextPageToken": encode_cursor(page.last_seq if page.records else after),
                # Never below what the client sent, so its checkpoint only moves forward.
                "nextSetTimestamp": max(start, page.last_timestamp) if page.records else start,
                "hasMoreRecords": page.has_more,
            }
        )
        # The records arrive as JSON text (see stopncii_feed.py); only the frame is built here.
        body = head[:-1] + ', "hashRecords": [' + ",".join(page.records) + "]}"
        return HttpResponse(body, content_type="application/json")


def _feed_end() -> int:
    from ..models import FeedClock

    clock = FeedClock.objects.filter(pk=1).first()
    return clock.last_seq if clock else 0


def _feedback_items(raw: list, key: str) -> list[dict]:
    if not isinstance(raw, list) or not raw:
        raise exceptions.ValidationError({key: [_("Send a non-empty list.")]})
    if len(raw) > MAX_BATCH:
        raise exceptions.ValidationError({key: [_("Send at most %(n)d at a time.") % {"n": MAX_BATCH}]})
    return raw


def _tags(raw, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(t, str) and 0 < len(t) <= 100 for t in raw) or len(raw) > 50:
        raise exceptions.ValidationError({where: [_("Tags are a list of up to 50 short texts.")]})
    return tuple(raw)


def _verdict(raw, where: str) -> str:
    if raw not in VERDICTS:
        raise exceptions.ValidationError(
            {where: [_("Unknown feedback value. Use one of: %(values)s.") % {"values": ", ".join(sorted(VERDICTS))}]}
        )
    return raw


class SubmitFeedback(PlatformAPIView):
    required_scope = "feedback"

    @extend_schema(
        tags=["StopNCII-compatible"],
        summary="Report what you found for hashes (StopNCII SubmitFeedback)",
        request=inline_serializer(
            "SubmitFeedbackRequest",
            {"count": serializers.IntegerField(), "hashFeedbacks": serializers.ListField(child=serializers.DictField())},
        ),
        responses=inline_serializer(
            "SubmitFeedbackResponse",
            {
                "count": serializers.IntegerField(),
                "accepted": serializers.IntegerField(),
                "unknownHashes": serializers.ListField(child=serializers.CharField()),
            },
        ),
    )
    def post(self, request):
        body = request.data if isinstance(request.data, dict) else {}
        raw = _feedback_items(body.get("hashFeedbacks"), "hashFeedbacks")
        parsed = []
        # Everything is checked before anything is saved: a bad item changes nothing at all.
        for i, item in enumerate(raw):
            where = f"hashFeedbacks[{i}]"
            if not isinstance(item, dict):
                raise exceptions.ValidationError({where: [_("Each item is an object.")]})
            kind = signal_type_for_value(item.get("hashValue"))
            if kind is None:
                raise exceptions.ValidationError({where: [_("This is not a PDQ or MD5 hash value.")]})
            value = _normalised(kind, item.get("hashValue"), where)
            parsed.append((kind.code, value, _verdict(item.get("feedbackValue"), where), _tags(item.get("tags"), where)))
        outcome = feedback_submit_by_value(platform=request.user.organisation, verdicts=parsed)
        return Response({"count": len(parsed), "accepted": outcome.accepted, "unknownHashes": outcome.unknown})


def _normalised(kind, value, where: str) -> str:
    try:
        return normalise_value(kind, value)
    except DjangoValidationError as exc:
        raise exceptions.ValidationError({where: exc.messages}) from None


class SubmitHashes(PlatformAPIView):
    required_scope = "submit"

    @extend_schema(
        tags=["StopNCII-compatible"],
        summary="Share hashes your platform found (StopNCII SubmitHashes)",
        request=inline_serializer(
            "SubmitHashesRequest",
            {"count": serializers.IntegerField(), "hashRecords": serializers.ListField(child=serializers.DictField())},
        ),
        responses=inline_serializer(
            "SubmitHashesResponse", {"count": serializers.IntegerField(), "accepted": serializers.IntegerField()}
        ),
    )
    def post(self, request):
        body = request.data if isinstance(request.data, dict) else {}
        raw = _feedback_items(body.get("hashRecords"), "hashRecords")
        hashes, verdicts = [], []
        for i, item in enumerate(raw):
            where = f"hashRecords[{i}]"
            if not isinstance(item, dict):
                raise exceptions.ValidationError({where: [_("Each item is an object.")]})
            name = str(item.get("signalType", "")).removeprefix("StopNCIISignalType.")
            kind = BY_STOPNCII_NAME.get(name)
            if kind is None:
                raise exceptions.ValidationError(
                    {where: [_("Unsupported signal type. Use ImagePDQ or VideoMD5.")]}, code="unknown_signal_type"
                )
            value = _normalised(kind, item.get("hashValue"), where)
            feedbacks = item.get("CSPFeedbacks") or [{}]
            first = feedbacks[0] if isinstance(feedbacks, list) and isinstance(feedbacks[0], dict) else {}
            verdict = _verdict(first.get("feedbackValue", "Blocked"), where)
            hashes.append(NormalisedHash(signal_type=kind.code, value=value, quality=None))
            verdicts.append((verdict, _tags(first.get("tags"), where)))
        unique = {(h.signal_type, h.value): (h, v) for h, v in zip(hashes, verdicts)}
        hash_submissions_create(
            platform=request.user.organisation,
            hashes=[h for h, _v in unique.values()],
            verdicts=[v for _h, v in unique.values()],
        )
        return Response({"count": len(raw), "accepted": len(unique)})
