"""Staff pages of the partner workspace: second factor, log out everywhere, dashboard."""

import csv

import qrcode
import qrcode.image.svg
from django.contrib.auth import logout
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from .admin_site import TokenForm, user_has_second_factor
from .dashboard import dashboard_figures
from .models import Organisation
from .selectors import cases_visible_to, staff_membership
from .services import audit_record, staff_sessions_end, staff_two_factor_confirm

_NO_STORE = "no-store"


def _next(request, site) -> str:
    return site._next(request)


def two_factor_verify(request, site):
    """Second step of login: a code from the authenticator app, or a backup code."""
    if not user_has_second_factor(request.user):
        return redirect(reverse("admin:two_factor_setup", current_app=site.name))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # django-otp counts failures per device and makes each try wait longer after a miss.
        device = match_token(request.user, form.cleaned_data["otp_token"].replace(" ", ""))
        if device is not None:
            otp_login(request, device)
            return HttpResponseRedirect(_next(request, site))
        form.add_error("otp_token", _("That code did not work. Wait for a new code and try again."))
    context = {**site.each_context(request), "title": _("Two-step sign-in"), "form": form,
               "next": _next(request, site)}
    return TemplateResponse(request, "admin/partners/two_factor_verify.html", context)


def _pending_device(request) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name=_("Authenticator app"), confirmed=False)
    return device


def _qr_svg(device: TOTPDevice) -> str:
    # Drawn here as SVG paths: the secret never goes to a QR service, and no script draws it.
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")


def two_factor_setup(request, site):
    """Enrolment: scan a QR code, type the first code, receive backup codes once."""
    if user_has_second_factor(request.user) and not user_is_verified_now(request):
        # Replacing an authenticator needs the current one first.
        return redirect(reverse("admin:two_factor", current_app=site.name))
    device = _pending_device(request)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = staff_two_factor_confirm(
            user=request.user, device=device, token=form.cleaned_data["otp_token"].replace(" ", "")
        )
        if codes is not None:
            otp_login(request, device)
            context = {**site.each_context(request), "title": _("Your backup codes"), "codes": codes,
                       "next": _next(request, site)}
            response = TemplateResponse(request, "admin/partners/backup_codes.html", context)
            response["Cache-Control"] = _NO_STORE
            return response
        form.add_error("otp_token", _("That code did not work. Check the time on your phone and try the next code."))
    from base64 import b32encode

    context = {
        **site.each_context(request),
        "title": _("Set up two-step sign-in"),
        "form": form,
        "qr_svg": _qr_svg(device),
        "secret": b32encode(device.bin_key).decode(),
        "next": _next(request, site),
    }
    response = TemplateResponse(request, "admin/partners/two_factor_setup.html", context)
    response["Cache-Control"] = _NO_STORE
    return response


def user_is_verified_now(request) -> bool:
    from .admin_site import user_is_verified

    return user_is_verified(request.user)


def two_factor_qr(request, site):
    response = HttpResponse(_qr_svg(_pending_device(request)), content_type="image/svg+xml")
    response["Cache-Control"] = _NO_STORE
    return response


@require_POST
def logout_everywhere(request):
    staff_sessions_end(user=request.user, actor=request.user)
    logout(request)
    return redirect("admin:login")


def _dashboard_cases(request):
    """The cases whose figures this viewer may see: their own NGO's, or any one NGO for superusers."""
    cases = cases_visible_to(request.user)
    organisation = None
    if request.user.is_superuser and request.GET.get("organisation"):
        organisation = Organisation.objects.filter(pk=request.GET["organisation"], kind="ngo").first()
        if organisation is not None:
            cases = cases.filter(organisation=organisation)
    elif not request.user.is_superuser:
        membership = staff_membership(request.user)
        organisation = membership.organisation if membership else None
    return cases, organisation


def dashboard(request):
    from django.contrib import admin

    cases, organisation = _dashboard_cases(request)
    context = {
        **admin.site.each_context(request),
        "title": _("Dashboard"),
        "organisation": organisation,
        "organisations": Organisation.objects.filter(kind="ngo") if request.user.is_superuser else [],
        "charts": dashboard_figures(cases),
        "query": request.GET.urlencode(),
    }
    return TemplateResponse(request, "admin/partners/dashboard.html", context)


def dashboard_csv(request):
    cases, organisation = _dashboard_cases(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="dashboard.csv"'
    writer = csv.writer(response)
    writer.writerow(["figure", "label", "value"])
    for chart in dashboard_figures(cases):
        for bar in chart.bars:
            writer.writerow([chart.key, bar.label, bar.value])
    with transaction.atomic():
        audit_record(actor=request.user, action="dashboard.export", organisation=organisation)
    return response
