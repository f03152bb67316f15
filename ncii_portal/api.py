"""What every JSON API here shares: bounded bodies and one error shape.

Errors are `{"error": {"code": ..., "message": ...}}` with a stable, documented code and a message in
the request's language, whatever went wrong: bad input, a missing or wrong key, a body too large,
too many requests, or a database that dropped mid-request (then nothing was saved: every write is
one transaction).
"""

import json
import logging
import traceback

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    default_detail = _("The request body is too large.")


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "service_unavailable"
    default_detail = _("The service is briefly unavailable. Nothing was saved; please try again.")


class BoundedJSONParser(JSONParser):
    """JSON bodies up to API_MAX_BODY_BYTES; larger ones are refused before being read whole."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge()
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise PayloadTooLarge()
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise exceptions.ParseError(_("The request body is not valid JSON."), code="invalid_json") from None


# Codes that say nothing more than "invalid"; the field details carry the rest.
_GENERIC_CODES = {"invalid", "required", "null", "blank", "error"}


def _first_code(codes) -> str | None:
    if isinstance(codes, str):
        return codes
    if isinstance(codes, dict):
        codes = list(codes.values())
    for item in codes or []:
        found = _first_code(item)
        if found:
            return found
    return None


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        detail = list(detail.values())
    if isinstance(detail, list):
        return _first_message(detail[0]) if detail else ""
    return str(detail)


def _log_without_values(message: str, exc: Exception) -> None:
    """Log where it failed, not the exception's text: that can quote a hash or a case number
    (a database error names the conflicting value), and the logs must hold neither."""
    frames = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)[-8:]))
    logger.error("%s: %s\n%s", message, type(exc).__name__, frames)


def _as_api_exception(exc: Exception) -> Exception:
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, (OperationalError, InterfaceError)):
        # The database went away mid-request: the transaction rolled back, so say so plainly.
        logger.warning("api: database unavailable (%s)", type(exc).__name__)
        return ServiceUnavailable()
    if isinstance(exc, DatabaseError):
        _log_without_values("api: database error", exc)
        return ServiceUnavailable()
    return exc


def api_exception_handler(exc, context):
    exc = _as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        _log_without_values(f"api: unexpected error in {type(context.get('view')).__name__}", exc)
        message = _("Something went wrong on our side. Nothing was saved.")
        return Response({"error": {"code": "internal_error", "message": str(message)}}, status=500)
    code = _first_code(exc.get_codes())
    if isinstance(exc, exceptions.ValidationError) and code in _GENERIC_CODES:
        code = "invalid"
    body = {"code": code or "error", "message": _first_message(exc.detail)}
    if isinstance(exc, exceptions.ValidationError) and isinstance(exc.detail, (dict, list)):
        body["fields"] = exc.detail
    if isinstance(exc, ServiceUnavailable):
        response["Retry-After"] = "5"
    response.data = {"error": body}
    return response
