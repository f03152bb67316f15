from django.urls import path

from . import api

# Every case endpoint takes the case number and PIN in the body: none has them in its path.
case_api_urlpatterns = [
    path("", api.CaseCreateView.as_view(), name="api-case-create"),
    path("status/", api.CaseStatusView.as_view(), name="api-case-status"),
    path("hashes/", api.CaseAddHashesView.as_view(), name="api-case-hashes"),
    path("withdraw/", api.CaseWithdrawView.as_view(), name="api-case-withdraw"),
]
