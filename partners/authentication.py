"""How a platform proves who it is to the API, and what its key lets it do.

A key is accepted in `Authorization: Bearer`, and in the two headers python-threatexchange's
StopNCII client sends (`Ocp-Apim-Subscription-Key`, `x-functions-key`), in either, because that
client passes its two keys in an order that depends on the caller.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.throttling import ScopedRateThrottle

from .models import ApiKey, Organisation
from .services import api_key_authenticate

KEY_HEADERS = ("HTTP_OCP_APIM_SUBSCRIPTION_KEY", "HTTP_X_FUNCTIONS_KEY", "HTTP_X_API_KEY")


@dataclass(frozen=True)
class Platform:
    """The caller of a platform API request (request.user)."""

    api_key: ApiKey
    is_authenticated: bool = True
    is_anonymous: bool = False

    @property
    def organisation(self) -> Organisation:
        # Read on first use: only the requests that write something in the platform's name need it.
        return self.api_key.organisation


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        offered = []
        authorization = request.META.get("HTTP_AUTHORIZATION", "")
        if authorization[:7].lower() == "bearer ":
            offered.append(authorization[7:].strip())
        offered += [request.META[h].strip() for h in KEY_HEADERS if request.META.get(h, "").strip()]
        if not offered:
            return None
        keys = {k.pk: k for k in map(api_key_authenticate, dict.fromkeys(offered)) if k is not None}
        if not keys:
            raise exceptions.AuthenticationFailed(_("This API key is not valid, or it has been revoked."))
        if len({k.organisation_id for k in keys.values()}) > 1:
            raise exceptions.AuthenticationFailed(_("Send the keys of one platform only."))
        api_key = next(iter(keys.values()))
        return Platform(api_key=api_key), api_key

    def authenticate_header(self, request) -> str:
        # Makes a missing key a 401 (with this challenge), not a 403.
        return 'Bearer realm="ncii-portal"'


class HasScope(BasePermission):
    """The key must carry the view's `required_scope`."""

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.auth, ApiKey):
            raise exceptions.NotAuthenticated(_("Send your platform's API key."))
        if view.required_scope not in request.auth.scopes:
            raise exceptions.PermissionDenied(
                _("This API key may not be used for this (it needs the “%(scope)s” scope).")
                % {"scope": view.required_scope},
                code="missing_scope",
            )
        return True


class ApiKeyThrottle(ScopedRateThrottle):
    """Requests per key and scope, so one busy platform cannot slow the others down."""

    def allow_request(self, request, view):
        view.throttle_scope = getattr(view, "required_scope", None)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiKey):
            return None
        return f"throttle:{self.scope}:{request.auth.pk}"


class ApiKeySchema(OpenApiAuthenticationExtension):
    """Describes the key to the OpenAPI schema (and so to the API docs page)."""

    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A platform API key: ncii_<prefix>_<secret>."}
