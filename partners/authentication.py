"""How a platform proves who it is to the API, and what its key lets it do.

A key is accepted in `Authorization: Bearer`, and in the two headers python-threatexchange's
StopNCII client sends (`Ocp-Apim-Subscription-Key`, `x-functions-key`), in either, because that
client passes its two keys in an order that depends on the caller.
"""

import time
from dataclasses import dataclass

from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

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


class ApiKeyThrottle(BaseThrottle):
    """Requests per key and scope, so one busy platform cannot slow the others down.

    Counted in fixed windows with one atomic increment in the cache. DRF's own throttles keep the
    time of every request in a list that is read and written whole on each request: at the `match`
    rate (12,000 a minute) ~100 KB through Redis and ~1 ms of pickling per request, growing with
    the rate. A counter costs the same at any rate; across a window's edge a platform can send up
    to twice its rate for a moment, which a limit against abuse can allow.
    """

    THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES

    def allow_request(self, request, view) -> bool:
        scope = getattr(view, "required_scope", None)
        rate = self.THROTTLE_RATES.get(scope) if scope else None
        if rate is None or not isinstance(request.auth, ApiKey):
            return True
        allowed, seconds = _parse_rate(rate)
        now = time.time()
        window = int(now // seconds)
        key = f"throttle:{scope}:{request.auth.pk}:{window}"
        self._wait = (window + 1) * seconds - now
        cache.add(key, 0, timeout=seconds + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.add(key, 1, timeout=seconds + 1)
            count = 1
        return count <= allowed

    def wait(self) -> float:
        return self._wait


def _parse_rate(rate: str) -> tuple[int, int]:
    """"6000/min" -> (6000, 60), read as DRF reads its rates."""
    count, period = rate.split("/")
    return int(count), {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]


class ApiKeySchema(OpenApiAuthenticationExtension):
    """Describes the key to the OpenAPI schema (and so to the API docs page)."""

    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A platform API key: ncii_<prefix>_<secret>."}
