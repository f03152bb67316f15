"""The case API (DESIGN.md contract 5): open a case, then with its number and PIN in the body,
read its status, add hashes or withdraw it. Case numbers and PINs never appear in a URL.

Guessing is guarded twice: a per-client throttle (a keyed hash of the address, kept only in the
cache, never stored or logged) and a per-case count of wrong PINs with a lockout
(services.case_sign_in). An unknown case and a wrong PIN get the same answer.
"""

import hashlib
import hmac
import math

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import get_language, gettext_lazy as _, ngettext
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from hashes.signal_types import SIGNAL_TYPES
from ncii_portal.api import BoundedJSONParser
from partners.models import Feedback

from .identifiers import normalise_case_number, normalise_pin
from .models import Case
from .selectors import case_hashes_with_feedback
from .services import CaseAccessDenied, case_add_hashes, case_create, case_sign_in, case_withdraw


class ClientThrottle(SimpleRateThrottle):
    """Per client address, which is reduced to a keyed hash before it touches the cache."""

    def get_cache_key(self, request, view):
        ident = hmac.new(settings.SECRET_KEY.encode(), self.get_ident(request).encode(), hashlib.sha256)
        return f"throttle:{self.scope}:{ident.hexdigest()[:32]}"

    def get_rate(self):
        # Read at each request, so a changed setting (or a test's override) takes effect.
        from rest_framework.settings import api_settings

        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]


class CreateThrottle(ClientThrottle):
    scope = "case_create"


class AccessThrottle(ClientThrottle):
    scope = "case_access"


class Throttled(exceptions.Throttled):
    default_detail = _("Too many requests from this device. Please wait a while and try again.")


class WrongCaseOrPin(exceptions.APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "wrong_case_or_pin"
    default_detail = _("We could not open a case with this case number and PIN. Check both and try again.")


class CaseLocked(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "case_locked"


def _validation_error(error: DjangoValidationError) -> exceptions.ValidationError:
    message = error.messages[0] if error.messages else ""
    return exceptions.ValidationError({"detail": [message]}, code=getattr(error, "code", None) or "invalid")


class HashSerializer(serializers.Serializer):
    signal_type = serializers.ChoiceField(choices=list(SIGNAL_TYPES))
    value = serializers.CharField(max_length=128, trim_whitespace=True)
    quality = serializers.IntegerField(required=False, allow_null=True)


def _check_hash_list(hashes: list[dict]) -> list[dict]:
    if not hashes:
        raise exceptions.ValidationError(
            {"hashes": [_("Add at least one file before sending.")]}, code="no_hashes"
        )
    limit = settings.CASE_MAX_HASHES_PER_REQUEST
    if len(hashes) > limit:
        raise exceptions.ValidationError(
            {"hashes": [ngettext("You can send at most %(n)d file at a time.",
                                 "You can send at most %(n)d files at a time.", limit) % {"n": limit}]},
            code="too_many_files",
        )
    seen = set()
    for item in hashes:
        key = (item["signal_type"], item["value"].lower())
        if key in seen:
            raise exceptions.ValidationError(
                {"hashes": [_("The same file was included twice. Remove the copy and send again.")]},
                code="duplicate_hash",
            )
        seen.add(key)
    return hashes


class CreateSerializer(serializers.Serializer):
    hashes = HashSerializer(many=True, allow_empty=True)
    declarations = serializers.DictField(child=serializers.CharField(max_length=64), required=False, default=dict)
    language = serializers.ChoiceField(choices=[code for code, _name in settings.LANGUAGES], required=False)
    idempotency_key = serializers.RegexField(
        r"^[A-Za-z0-9_-]{22,64}$", required=False,
        error_messages={"invalid": _("The request key is not valid. Reload the page and try again.")},
    )


class AccessSerializer(serializers.Serializer):
    case_number = serializers.CharField(max_length=64)
    pin = serializers.CharField(max_length=32)

    def validate_case_number(self, value):
        number = normalise_case_number(value)
        if number is None:
            raise serializers.ValidationError(
                _("A case number has 12 letters and digits, like ABCD-EFGH-JKMN."), code="invalid_case_number"
            )
        return number

    def validate_pin(self, value):
        pin = normalise_pin(value)
        if pin is None:
            raise serializers.ValidationError(_("A PIN has 8 digits."), code="invalid_pin")
        return pin


class AddSerializer(AccessSerializer):
    hashes = HashSerializer(many=True, allow_empty=True)


def _hash_dicts(items) -> list[dict]:
    return [{k: v for k, v in item.items() if v is not None} for item in items]


# What a platform's current verdict means, for the person whose image it is.
VERDICT_WORDS = {
    Feedback.Verdict.NONE: _("Received: checking for copies"),
    Feedback.Verdict.QUALITY_UNKNOWN: _("Received: checking for copies"),
    Feedback.Verdict.PENDING_REVIEW: _("A possible copy was found and is being reviewed"),
    Feedback.Verdict.BLOCKED: _("A copy was found and removed or blocked"),
    Feedback.Verdict.NOT_BLOCKED: _("A copy was found but not removed"),
    Feedback.Verdict.WITHDRAWN: _("Deleted from this platform's list"),
    Feedback.Verdict.DELETED: _("Deleted from this platform's list"),
}
TYPE_WORDS = {"pdq": _("Photo fingerprint"), "md5": _("Exact file fingerprint (video or photo)")}


def case_status_body(case: Case) -> dict:
    withdrawn = case.status == Case.Status.WITHDRAWN
    hashes = []
    for link in case_hashes_with_feedback(case_id=case.pk):
        record = link.hash_record
        platforms = [
            {"platform": fb.organisation.name, "verdict": fb.verdict, "words": str(VERDICT_WORDS[fb.verdict])}
            for fb in record.current_feedback
        ]
        if withdrawn:
            summary = _("Withdrawn: platforms have been told to delete this fingerprint.")
        elif platforms:
            summary = _("Platforms have reported on this fingerprint:")
        else:
            summary = _("Shared with platforms. None has reported anything yet.")
        hashes.append({
            "signal_type": record.signal_type,
            "type": str(TYPE_WORDS.get(record.signal_type, record.signal_type)),
            # The first characters are enough for the person to tell hashes apart on screen.
            "short_value": record.value[:12],
            "added_at": link.added_at.isoformat(),
            "summary": str(summary),
            "platforms": platforms,
        })
    return {
        "case_number": case.display_number,
        "status": case.status,
        "status_words": str(
            _("Withdrawn. Platforms have been told to delete its fingerprints.") if withdrawn
            else _("Active. Its fingerprints are shared with platforms.")
        ),
        "created_at": case.created_at.isoformat(),
        "withdrawn_at": case.withdrawn_at.isoformat() if case.withdrawn_at else None,
        "hashes": hashes,
        "max_hashes": settings.CASE_MAX_HASHES,
    }


class CaseAPIView(APIView):
    authentication_classes = []
    permission_classes = []
    parser_classes = [BoundedJSONParser]

    def throttled(self, request, wait):
        # DRF would append an English "Expected available in N seconds."; Retry-After says it.
        error = Throttled()
        error.wait = wait
        raise error


class SignedInView(CaseAPIView):
    throttle_classes = [AccessThrottle]
    serializer_class = AccessSerializer

    def sign_in(self, request) -> tuple[Case, dict]:
        data = self.serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            case = case_sign_in(number=data.validated_data["case_number"], pin=data.validated_data["pin"])
        except CaseAccessDenied as denied:
            if denied.locked_for is None:
                raise WrongCaseOrPin()
            minutes = max(1, math.ceil(denied.locked_for.total_seconds() / 60))
            error = CaseLocked(
                ngettext(
                    "Too many wrong tries. For your safety, this case number is locked for %(n)d minute.",
                    "Too many wrong tries. For your safety, this case number is locked for %(n)d minutes.",
                    minutes,
                ) % {"n": minutes}
            )
            error.wait = denied.locked_for.total_seconds()
            raise error
        return case, data.validated_data

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # Nothing about a case may sit in a shared or browser cache.
        response["Cache-Control"] = "no-store"
        return response


class CaseCreateView(CaseAPIView):
    throttle_classes = [CreateThrottle]
    serializer_class = CreateSerializer  # read by the OpenAPI schema

    def post(self, request):
        data = CreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hashes = _check_hash_list(_hash_dicts(data.validated_data["hashes"]))
        language = data.validated_data.get("language") or get_language() or settings.LANGUAGE_CODE
        try:
            new = case_create(
                hashes=hashes,
                language=language,
                declarations=data.validated_data["declarations"],
                idempotency_key=data.validated_data.get("idempotency_key"),
            )
        except DjangoValidationError as error:
            raise _validation_error(error)
        response = Response({"case_number": new.case.display_number, "pin": new.pin}, status=201)
        response["Cache-Control"] = "no-store"
        return response


class CaseStatusView(SignedInView):
    def post(self, request):
        case, _data = self.sign_in(request)
        return Response(case_status_body(case))


class CaseAddHashesView(SignedInView):
    serializer_class = AddSerializer

    def post(self, request):
        case, data = self.sign_in(request)
        hashes = _check_hash_list(_hash_dicts(data["hashes"]))
        try:
            case_add_hashes(case=case, hashes=hashes)
        except DjangoValidationError as error:
            raise _validation_error(error)
        case.refresh_from_db()
        return Response(case_status_body(case))


class CaseWithdrawView(SignedInView):
    def post(self, request):
        case, _data = self.sign_in(request)
        if case.status == Case.Status.WITHDRAWN:
            raise exceptions.ValidationError(
                {"detail": [_("This case is already withdrawn.")]}, code="case_withdrawn"
            )
        case = case_withdraw(case=case)
        return Response(case_status_body(case))
