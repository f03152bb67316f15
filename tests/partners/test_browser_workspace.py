"""The partner workspace in headless Chromium: 2FA enrolment and login, the assisted case, the dashboard.

Each test saves a screenshot of its screens under docs/screenshots/ (staff-*.png).
"""

import re
from pathlib import Path

import pytest
from django_otp.oath import totp

from cases.models import Case
from partners.models import AuditEvent, Membership
from tests.factories import NgoFactory, UserFactory, staff_member
from tests.screenshots import save_screenshot

PASSWORD = "a long test password"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def staff_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.problems = problems
    yield page
    context.close()


def log_in(page, base, username, device):
    page.goto(base + "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.fill("#id_otp_token", f"{totp(device.bin_key):06d}")
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/$"))


def test_enrolment_and_login_with_two_factor(staff_page, live_server):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    page = staff_page
    ngo = NgoFactory(is_operator=True, name="Harbour Support")
    user = UserFactory(username="new-caseworker")
    user.set_password(PASSWORD)
    user.save()
    Membership.objects.create(user=user, organisation=ngo)

    page.goto(live_server.url + "/admin/login/")
    save_screenshot(page, "staff-login")
    page.fill("#id_username", "new-caseworker")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/2fa/setup/.*"))
    assert page.locator(".qr-code svg path").count() == 1
    save_screenshot(page, "staff-2fa-setup", full_page=True)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    page.fill("#id_otp_token", f"{totp(device.bin_key):06d}")
    page.click("input[type=submit]")
    codes = page.locator("[data-testid=backup-codes] code").all_inner_texts()
    assert len(codes) == 10
    save_screenshot(page, "staff-2fa-backup-codes", full_page=True)
    page.get_by_role("link", name=re.compile("continue")).click()
    page.wait_for_url(re.compile(r".*/admin/$"))
    assert "Harbour Support" in page.content()

    # Log out, then in again with a code from the app.
    page.locator("#logout-form button").click()
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", "new-caseworker")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/2fa/\?.*"))
    save_screenshot(page, "staff-2fa-verify")
    device.refresh_from_db()
    # The code enrolment used is spent; the app's next one is what a person would type.
    page.fill("#id_otp_token", f"{totp(device.bin_key, drift=1):06d}")
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/$"))
    save_screenshot(page, "staff-home", full_page=True)
    assert page.problems == []


def test_assisted_case_hashes_in_the_browser_and_shows_number_and_pin(staff_page, live_server, tmp_path):
    from PIL import Image
    import random

    page = staff_page
    ngo = NgoFactory(is_operator=True, name="Harbour Support")
    worker = staff_member(ngo, username="caseworker", password=PASSWORD)
    rng = random.Random(7)
    image = Image.new("RGB", (160, 120))
    image.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(160 * 120)])
    photo = tmp_path / "photo.png"
    image.save(photo)
    uploads = []
    page.on("request", lambda r: uploads.append(r.post_data_buffer or b"") if r.method == "POST" else None)

    log_in(page, live_server.url, "caseworker", worker.totp)
    page.goto(live_server.url + "/admin/cases/case/assist/")
    page.select_option("#id_language", "zh-hant")
    page.set_input_files("#assist-file-input", str(photo))
    page.wait_for_selector("[data-assist-list] li[data-state=done]", timeout=30000)
    assert page.locator("[data-assist-submit]").is_enabled()
    save_screenshot(page, "staff-assisted-case", full_page=True)
    page.click("[data-assist-submit]")
    number = page.locator("[data-testid=case-number]").inner_text()
    pin = page.locator("[data-testid=case-pin]").inner_text()
    save_screenshot(page, "staff-assisted-case-done", full_page=True)

    case = Case.objects.get(number=number.replace("-", ""))
    assert case.organisation == ngo and case.language == "zh-hant"
    assert sorted(case.hash_records.values_list("signal_type", flat=True)) == ["md5", "pdq"]
    assert re.fullmatch(r"\d{8}", pin)
    # The image's bytes never left the page: every POST was small form data, never the file.
    png = photo.read_bytes()
    assert all(png[100:160] not in body for body in uploads)
    assert AuditEvent.objects.filter(action="case.create.assisted", actor=worker, case=case).exists()

    page.get_by_role("link", name="Go to the case").click()
    save_screenshot(page, "staff-case", full_page=True)
    page.get_by_role("link", name="Withdraw on the person's request").click()
    save_screenshot(page, "staff-case-withdraw")
    assert page.problems == []


def test_dashboard_draws_charts_on_the_server(staff_page, live_server):
    from cases.services import case_create
    from partners.services import FeedbackItem, feedback_submit
    from tests.factories import PlatformFactory, pdq

    page = staff_page
    ngo = NgoFactory(is_operator=True, name="Harbour Support")
    manager = staff_member(ngo, role="manager", username="manager", password=PASSWORD)
    platform = PlatformFactory(name="Photo Share")
    for _ in range(3):
        case = case_create(hashes=[pdq(), pdq()], language="en", organisation=ngo).case
    feedback_submit(platform=platform, items=[FeedbackItem(case.hash_records.first(), "Blocked")])

    log_in(page, live_server.url, "manager", manager.totp)
    page.get_by_role("link", name="Dashboard").first.click()
    page.wait_for_selector("[data-chart=cases] svg rect.bar", state="attached")
    assert page.locator("[data-chart=cases] .chart-total").inner_text().endswith("3")
    assert page.locator("[data-chart=hashes] .chart-total").inner_text().endswith("6")
    assert "Photo Share" in page.locator("[data-chart=feedback]").inner_text()
    assert case.display_number not in page.content()
    save_screenshot(page, "staff-dashboard", full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download these figures (CSV)").click()
    assert "figure,label,value" in Path(download.value.path()).read_text()

    for name, url in [("staff-review-queue", "/admin/partners/reviewitem/"), ("staff-audit", "/admin/partners/auditevent/"),
                      ("staff-cases", "/admin/cases/case/"), ("staff-memberships", "/admin/partners/membership/"),
                      ("staff-platform", f"/admin/partners/organisation/{platform.pk}/change/"),
                      ("staff-api-keys", "/admin/partners/apikey/"), ("staff-help-entries", "/admin/partners/helpentry/add/")]:
        page.goto(live_server.url + url)
        save_screenshot(page, name, full_page=True)
    page.goto(live_server.url + f"/admin/partners/organisation/{platform.pk}/issue-key/")
    page.locator("input[value=fetch]").check()
    page.click("input[type=submit]")
    save_screenshot(page, "staff-api-key-once")
    assert page.problems == []
