"""The base every platform API view shares: key authentication, a scope, per-key throttling."""

import base64
import binascii

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.views import APIView

from ncii_portal.api import BoundedJSONParser
from partners.authentication import ApiKeyAuthentication, ApiKeyThrottle, HasScope

from ..models import HashRecord

# What platforms are told about a record's state, in StopNCII's words.
STOPNCII_STATUS = {HashRecord.Status.ACTIVE: "Active", HashRecord.Status.WITHDRAWN: "Withdrawn"}
HELD_STATUS = "Deleted"


class PlatformAPIView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasScope]
    throttle_classes = [ApiKeyThrottle]
    parser_classes = [BoundedJSONParser]
    required_scope = ""


def native_status(status: str, review: str) -> str:
    return "held" if review == HashRecord.Review.HELD else status


def encode_cursor(seq: int) -> str:
    # Opaque to clients but durable: it is only a feed position, valid for as long as the feed.
    return base64.urlsafe_b64encode(f"v1.{seq}".encode()).decode().rstrip("=")


def decode_cursor(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        version, seq = text.split(".")
        if version != "v1" or not seq.isdigit():
            raise ValueError
        return int(seq)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise exceptions.ValidationError(
            {"cursor": [_("This page token is not one we issued.")]}, code="invalid_cursor"
        ) from None
