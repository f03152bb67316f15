"""Liveness and readiness answers for load balancers and process managers.

They are answered by a middleware placed before every other one, because a health probe arrives
over plain HTTP, with whatever Host header the balancer uses, and must not be redirected to HTTPS,
refused by ALLOWED_HOSTS, or given a session or language.
"""

import logging
from collections.abc import Callable

import redis
from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_SECONDS = 2


def database_reachable() -> bool:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception as exc:  # any failure means "not ready"; the type is enough to diagnose
        logger.warning("readiness: database unreachable (%s)", type(exc).__name__)
        connections["default"].close_if_unusable_or_obsolete()
        return False


def broker_reachable() -> bool | None:
    """Ping Redis; None when there is no broker because tasks run eagerly."""
    if not settings.REDIS_URL:
        return None
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_timeout=PROBE_TIMEOUT_SECONDS,
            socket_connect_timeout=PROBE_TIMEOUT_SECONDS,
        )
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception as exc:
        logger.warning("readiness: broker unreachable (%s)", type(exc).__name__)
        return False


def readiness() -> tuple[bool, dict[str, str]]:
    database = database_reachable()
    broker = broker_reachable()
    checks = {
        "database": "ok" if database else "unreachable",
        "broker": "eager" if broker is None else ("ok" if broker else "unreachable"),
    }
    return database and broker is not False, checks


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz":
            return self._no_store(JsonResponse({"status": "ok"}))
        if request.path == "/readyz":
            ready, checks = readiness()
            body = {"status": "ok" if ready else "unavailable", "checks": checks}
            return self._no_store(JsonResponse(body, status=200 if ready else 503))
        return self.get_response(request)

    @staticmethod
    def _no_store(response: HttpResponse) -> HttpResponse:
        response["Cache-Control"] = "no-store"
        return response
