"""The partner workspace's admin site: two-factor login, idle time-out, log out everywhere.

Every admin page needs a password *and* a second factor (a TOTP app, or a backup code). A staff
member who has no authenticator yet is taken to enrolment right after the password; until the
second factor is given, no admin page opens. Counting of failed passwords is django-axes' (by
username and address); failed codes are throttled by django-otp itself.
"""

import time
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

_LAST_SEEN = "staff_last_seen"


def user_is_verified(user) -> bool:
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def user_has_second_factor(user) -> bool:
    from django_otp import user_has_device

    return user_has_device(user, confirmed=True)


class TokenForm(forms.Form):
    otp_token = forms.CharField(
        label=_("Code from your authenticator app, or a backup code"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class PartnerAdminSite(admin.AdminSite):
    site_header = _("NCII portal: partner workspace")
    site_title = _("NCII portal")
    index_title = _("Partner workspace")
    enable_nav_sidebar = True

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff and user_is_verified(user)):
            return False
        if not user.is_superuser:
            from .selectors import staff_membership

            # Staff without an organisation have nothing to look after, so nothing opens for them.
            if staff_membership(user) is None:
                return False
        return self._still_fresh(request)

    def _still_fresh(self, request: HttpRequest) -> bool:
        """End a staff session idle for longer than STAFF_SESSION_IDLE_SECONDS."""
        now = int(time.time())
        last = request.session.get(_LAST_SEEN)
        if last is not None and now - last > settings.STAFF_SESSION_IDLE_SECONDS:
            logout(request)
            return False
        # Written at most once a minute, so an admin page does not always rewrite the session.
        if last is None or now - last >= 60:
            request.session[_LAST_SEEN] = now
        return True

    def _next(self, request: HttpRequest) -> str:
        target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME) or ""
        if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
            return target
        return reverse("admin:index", current_app=self.name)

    def _second_factor_url(self, request: HttpRequest) -> str:
        name = "admin:two_factor" if user_has_second_factor(request.user) else "admin:two_factor_setup"
        return reverse(name, current_app=self.name) + "?" + urlencode({REDIRECT_FIELD_NAME: self._next(request)})

    def login(self, request, extra_context=None):
        user = request.user
        if user.is_authenticated and user.is_staff and not user_is_verified(user):
            return HttpResponseRedirect(self._second_factor_url(request))
        response = super().login(request, extra_context)
        if request.method == "POST" and request.user.is_authenticated and not user_is_verified(request.user):
            # The password was right; the second factor comes next, before any admin page.
            return HttpResponseRedirect(self._second_factor_url(request))
        return response

    def get_urls(self):
        from . import views_staff

        urls = [
            path("2fa/", self._pending(views_staff.two_factor_verify), name="two_factor"),
            path("2fa/setup/", self._pending(views_staff.two_factor_setup), name="two_factor_setup"),
            path("2fa/setup/qr.svg", self._pending(views_staff.two_factor_qr), name="two_factor_qr"),
            path("logout-everywhere/", self.admin_view(views_staff.logout_everywhere), name="logout_everywhere"),
            path("dashboard/", self.admin_view(views_staff.dashboard), name="dashboard"),
            path("dashboard.csv", self.admin_view(views_staff.dashboard_csv), name="dashboard_csv"),
        ]
        return urls + super().get_urls()

    def _pending(self, view):
        """For the second-factor pages: a signed-in staff member who has not yet given a code."""

        @never_cache
        @csrf_protect
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not (user.is_authenticated and user.is_active and user.is_staff):
                return redirect_to_login(request, self)
            request.current_app = self.name
            return view(request, self, *args, **kwargs)

        return wrapped

    def each_context(self, request):
        from .selectors import staff_membership

        context = super().each_context(request)
        membership = staff_membership(request.user) if request.user.is_authenticated else None
        context["staff_membership"] = membership
        context["staff_is_manager"] = request.user.is_superuser or (
            membership is not None and membership.role == membership.Role.MANAGER
        )
        return context


def redirect_to_login(request, site) -> HttpResponse:
    url = reverse("admin:login", current_app=site.name)
    return HttpResponseRedirect(url + "?" + urlencode({REDIRECT_FIELD_NAME: request.get_full_path()}))
