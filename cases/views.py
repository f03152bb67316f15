from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from partners.selectors import ngo_partners_public

from .declarations import CURRENT


def _limits() -> dict:
    return {"per_request": settings.CASE_MAX_HASHES_PER_REQUEST, "per_case": settings.CASE_MAX_HASHES}


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "cases/home.html", {"partners": ngo_partners_public()})


def start(request: HttpRequest) -> HttpResponse:
    return render(
        request, "cases/start.html",
        {"declarations": CURRENT, "limits": _limits(), "partners": ngo_partners_public()},
    )


def check(request: HttpRequest) -> HttpResponse:
    lockout = {"tries": settings.CASE_PIN_MAX_FAILURES, "minutes": settings.CASE_PIN_LOCKOUT_MINUTES}
    return render(request, "cases/check.html", {"limits": _limits(), "lockout": lockout})
