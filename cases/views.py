from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from partners.selectors import ngo_partners_public


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "cases/home.html", {"partners": ngo_partners_public()})
