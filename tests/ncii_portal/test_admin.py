from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

from tests.factories import UserFactory, login_verified


@pytest.fixture
def superuser_client(client):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    user = UserFactory(username="root", is_superuser=True)
    login_verified(client, user)
    return client


@pytest.mark.django_db
def test_every_model_has_an_admin_list_and_detail_that_open(superuser_client):
    from hashes.signal_types import NormalisedHash
    from partners.models import Organisation
    from partners.services import FeedbackItem, feedback_submit, hash_submissions_create, webhook_endpoint_create

    platform = Organisation.objects.get(slug="demo-platform")
    from django.contrib.auth import get_user_model

    staff = get_user_model().objects.get(username="root")
    webhook_endpoint_create(platform=platform, url="http://127.0.0.1:9/hooks", events=["hash.added"], actor=staff)
    (record,) = hash_submissions_create(
        platform=platform, hashes=[NormalisedHash("md5", "ab" * 16, None)], verdicts=[("Blocked", ())]
    )
    feedback_submit(platform=platform, items=[FeedbackItem(record, "NotBlocked", ("checked",))])
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        response = superuser_client.get(url)
        assert response.status_code == 200, url
        # The first row the list shows (a proxy such as the review queue shows only some rows).
        first = response.context["cl"].result_list.first()
        if first is not None:
            url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk])
            assert superuser_client.get(url).status_code == 200, url


@pytest.mark.django_db
def test_the_pin_hash_is_never_shown_to_staff(superuser_client):
    from cases.models import Case

    case = Case.objects.first()
    html = superuser_client.get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()
    assert case.pin_hash not in html
    assert "pin_hash" not in html and "pin hash" not in html.lower()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_translated_fields_get_language_tabs_from_our_own_static_files(page, live_server):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    UserFactory(username="root", is_superuser=True).set_password("a long test password")
    from django.contrib.auth import get_user_model

    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = get_user_model().objects.get(username="root")
    user.set_password("a long test password")
    user.save()
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    requests, problems = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "a long test password")
    page.click("input[type=submit]")
    page.fill("#id_otp_token", f"{totp(device.bin_key):06d}")
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/admin/")
    page.goto(live_server.url + "/admin/partners/organisation/")
    page.get_by_role("link", name="Demo Support Centre").click()
    page.wait_for_load_state("networkidle")

    tabs = page.locator(".ui-tabs-nav").first
    assert tabs.is_visible(), (problems, [u for u in requests if "static" in u])
    page.get_by_role("tab", name="zh-hant").first.click()
    assert page.locator("#id_name_zh_hant").input_value() == "示範支援中心"
    origin = urlsplit(live_server.url).netloc
    assert all(urlsplit(u).netloc == origin for u in requests), [u for u in requests if origin not in u]
    assert problems == []
