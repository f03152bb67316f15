from csp.decorators import csp_update
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from cases import views as case_views
from cases.urls import case_api_urlpatterns
from hashes.api.urls import native_urlpatterns, stopncii_urlpatterns
from partners import views_public as partner_views

admin.site.site_header = _("NCII portal: partner workspace")
admin.site.site_title = _("NCII portal")

api_docs = csp_update({"style-src": ["'unsafe-inline'"], "img-src": ["data:"]})(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema")
)


def favicon(request: HttpRequest) -> HttpResponse:
    # Resolved per request: the hashed static name exists only once collectstatic has run.
    return redirect(static("img/favicon.svg"))


# /healthz and /readyz are answered by ncii_portal.health.HealthCheckMiddleware before routing.
urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/stopncii/v1/", include(stopncii_urlpatterns)),
    path("api/v1/cases/", include(case_api_urlpatterns)),
    path("api/v1/", include(native_urlpatterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI from our own static files, its start-up script as a file (no inline script);
    # only its styles and icons need inline (data:) sources, and only on this page.
    path("api/docs/", api_docs, name="api-docs"),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin's).
    path("favicon.ico", favicon),
]

# Public pages carry the language in the URL (/en/, /zh-hant/), so a shared link opens in the
# language it was copied in, and "/" sends a first visit to the language its browser asks for.
urlpatterns += i18n_patterns(
    path("", case_views.home, name="home"),
    path("start/", case_views.start, name="case-start"),
    path("check/", case_views.check, name="case-check"),
    path("partners/", partner_views.directory, name="partner-directory"),
    path("help/", partner_views.help_page, name="help"),
    # Scripts get their translations from here (a script tag, never inline), in the URL's language.
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
)
