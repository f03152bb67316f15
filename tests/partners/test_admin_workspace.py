"""The partner workspace's screens: audit rows, two-factor gate, keys, review, assisted case, dashboard."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django_otp.oath import totp

from cases.models import Case
from cases.services import case_create
from hashes.models import HashRecord
from partners.models import ApiKey, AuditEvent, CaseNote, HelpEntry, Organisation
from partners.services import api_key_authenticate
from tests.factories import NgoFactory, PlatformFactory, UserFactory, login_verified, md5, pdq, staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def ngo():
    return NgoFactory(is_operator=True)


@pytest.fixture
def worker(ngo):
    return staff_member(ngo, password="a long test password")


@pytest.fixture
def manager(ngo):
    return staff_member(ngo, role="manager")


@pytest.fixture
def case(ngo):
    return case_create(hashes=[pdq(), md5()], language="en", organisation=ngo).case


def test_looking_at_a_case_writes_an_audit_row(client, worker, case):
    login_verified(client, worker)
    response = client.get(reverse("admin:cases_case_change", args=[case.pk]))
    assert response.status_code == 200
    assert case.pin_hash not in response.content.decode()
    event = AuditEvent.objects.get(action="case.view")
    assert (event.actor, event.case, event.organisation) == (worker, case, case.organisation)
    client.get(reverse("admin:cases_case_history", args=[case.pk]))
    assert AuditEvent.objects.filter(action="case.view.history", case=case, actor=worker).count() == 1


def test_withdrawing_needs_a_reason_and_is_audited(client, worker, case):
    login_verified(client, worker)
    url = reverse("admin:cases_case_withdraw", args=[case.pk])
    assert client.post(url, {"reason": ""}).status_code == 200
    case.refresh_from_db()
    assert case.status == Case.Status.ACTIVE
    client.post(url, {"reason": "asked by phone"})
    case.refresh_from_db()
    assert case.status == Case.Status.WITHDRAWN
    assert AuditEvent.objects.get(action="case.withdraw").details == {"reason": "asked by phone"}


def test_internal_notes_are_added_with_their_author_and_audited(client, worker, case):
    login_verified(client, worker)
    client.post(reverse("admin:cases_case_change", args=[case.pk]), {"text": "Called back on Tuesday."})
    note = CaseNote.objects.get(case=case)
    assert (note.author, note.text) == (worker, "Called back on Tuesday.")
    assert AuditEvent.objects.filter(action="case.note", case=case, actor=worker).exists()
    assert "Called back on Tuesday." in client.get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()


def test_the_case_page_shows_each_platforms_feedback(client, worker, case):
    from partners.services import FeedbackItem, feedback_submit

    platform = PlatformFactory(name="Photo Share")
    record = case.hash_records.first()
    feedback_submit(platform=platform, items=[FeedbackItem(record, "Blocked")])
    login_verified(client, worker)
    body = client.get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()
    assert "Photo Share: Match found and blocked" in body


def test_case_export_is_audited_per_case(client, worker, case):
    login_verified(client, worker)
    response = client.post(reverse("admin:cases_case_changelist"),
                           {"action": "export_csv", "_selected_action": [case.pk], "index": 0})
    assert case.display_number in response.content.decode()
    assert AuditEvent.objects.filter(action="case.export", case=case, actor=worker).count() == 1


def test_review_queue_keep_and_hold_need_a_reason_and_are_audited(client, worker, case):
    login_verified(client, worker)
    records = list(case.hash_records.order_by("id"))
    changelist = reverse("admin:hashes_hashrecord_changelist")
    client.post(changelist, {"action": "flag_for_review", "_selected_action": [r.pk for r in records], "index": 0,
                             "reason": "looks like a screenshot of a news photo"})
    assert set(HashRecord.objects.filter(pk__in=[r.pk for r in records]).values_list("review", flat=True)) == {"queued"}
    queue = reverse("admin:partners_reviewitem_changelist")
    assert str(records[0]) in client.get(queue).content.decode()
    # Without a reason, the action only asks for one.
    client.post(queue, {"action": "hold", "_selected_action": [records[0].pk], "index": 0})
    assert HashRecord.objects.get(pk=records[0].pk).review == "queued"
    client.post(queue, {"action": "hold", "_selected_action": [records[0].pk], "index": 0, "reason": "news photo"})
    client.post(queue, {"action": "keep", "_selected_action": [records[1].pk], "index": 0, "reason": "checked"})
    assert HashRecord.objects.get(pk=records[0].pk).review == "held"
    assert HashRecord.objects.get(pk=records[1].pk).review == "kept"
    actions = set(AuditEvent.objects.filter(actor=worker).values_list("action", flat=True))
    assert {"hash.review.flag", "hash.review.held", "hash.review.kept"} <= actions
    assert str(records[0]) not in client.get(queue).content.decode()


def test_operator_managers_issue_keys_shown_once_and_revoke_them(client, manager):
    platform = PlatformFactory()
    login_verified(client, manager)
    response = client.post(reverse("admin:partners_organisation_issue_key", args=[platform.pk]),
                           {"name": "sync", "scopes": ["fetch", "feedback"]})
    assert "no-store" in response["Cache-Control"]
    secret = response.context["secret"]
    key = api_key_authenticate(secret)
    assert key is not None and key.organisation == platform
    assert secret not in client.get(reverse("admin:partners_apikey_change", args=[key.pk])).content.decode()
    assert "Last used" in client.get(reverse("admin:partners_apikey_changelist")).content.decode()
    client.post(reverse("admin:partners_apikey_changelist"),
                {"action": "revoke", "_selected_action": [key.pk], "index": 0})
    assert api_key_authenticate(secret) is None
    assert set(AuditEvent.objects.filter(actor=manager).values_list("action", flat=True)) >= {
        "api_key.issue", "api_key.revoke"}


def test_webhook_secret_is_shown_once_and_platforms_are_added_by_operator_managers(client, manager):
    login_verified(client, manager)
    response = client.post(reverse("admin:partners_organisation_add"), {
        "kind": "ngo", "slug": "clips", "name_en": "Clips", "is_active": "on", "is_listed": "",
    })
    platform = Organisation.objects.get(slug="clips")
    assert platform.kind == Organisation.Kind.PLATFORM, response
    response = client.post(reverse("admin:partners_organisation_add_webhook", args=[platform.pk]),
                           {"url": "https://hooks.example.org/ncii", "events": ["hash.added"]})
    assert platform.webhooks.get().secret == response.context["secret"]
    assert AuditEvent.objects.filter(action="webhook.create", actor=manager).exists()


def test_caseworkers_and_other_ngos_managers_cannot_issue_keys(client, worker):
    platform = PlatformFactory()
    login_verified(client, worker)
    url = reverse("admin:partners_organisation_issue_key", args=[platform.pk])
    assert client.post(url, {"scopes": ["fetch"]}).status_code == 403
    client.logout()
    login_verified(client, staff_member(NgoFactory(), role="manager"))
    assert client.post(url, {"scopes": ["fetch"]}).status_code == 403
    assert not ApiKey.objects.exists()


def test_an_assisted_case_belongs_to_the_caseworkers_ngo_and_shows_the_pin_once(client, worker, ngo):
    login_verified(client, worker)
    url = reverse("admin:cases_case_assist")
    assert client.get(url).status_code == 200
    hashes = [pdq(), md5()]
    response = client.post(url, {"language": "zh-hant", "hashes": json.dumps(hashes)})
    assert "no-store" in response["Cache-Control"]
    case = Case.objects.get(number=response.context["case"].number)
    assert case.organisation == ngo and case.language == "zh-hant"
    assert sorted(case.hash_records.values_list("value", flat=True)) == sorted(h["value"] for h in hashes)
    from django.contrib.auth.hashers import check_password

    assert check_password(response.context["pin"], case.pin_hash)
    assert AuditEvent.objects.get(action="case.create.assisted").case == case
    # Nothing without hashes.
    response = client.post(url, {"language": "en", "hashes": "[]"})
    assert Case.objects.count() == 1 and response.status_code == 200


def test_audit_trail_is_read_only_filterable_and_exportable(client, manager, case):
    login_verified(client, manager)
    client.get(reverse("admin:cases_case_change", args=[case.pk]))
    event = AuditEvent.objects.get(action="case.view")
    changelist = reverse("admin:partners_auditevent_changelist")
    assert client.get(changelist + "?action=case.view").status_code == 200
    assert client.post(reverse("admin:partners_auditevent_change", args=[event.pk]), {}).status_code == 403
    assert client.post(reverse("admin:partners_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    response = client.post(changelist, {"action": "export_csv", "_selected_action": [event.pk], "index": 0})
    assert "case.view" in response.content.decode() and manager.username in response.content.decode()


def test_dashboard_and_its_csv_show_counts_but_no_case_numbers(client, worker, case):
    login_verified(client, worker)
    body = client.get(reverse("admin:dashboard")).content.decode()
    assert "<svg" in body and case.display_number not in body
    csv_text = client.get(reverse("admin:dashboard_csv")).content.decode()
    assert case.number not in csv_text and case.display_number not in csv_text
    rows = [line.split(",") for line in csv_text.strip().splitlines()[1:]]
    assert sum(int(v) for k, _l, v in rows if k == "cases") == 1
    assert sum(int(v) for k, _l, v in rows if k == "hashes") == 2


def test_admin_needs_the_second_factor(client, worker):
    client.force_login(worker)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    response = client.get(response["Location"])
    assert response["Location"].startswith(reverse("admin:two_factor"))
    response = client.post(reverse("admin:two_factor"), {"otp_token": "000000"})
    assert client.get(reverse("admin:index")).status_code == 302
    # django-otp makes the next try wait after a miss; let that pause pass.
    device = worker.totp
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    device.throttling_failure_timestamp -= timedelta(seconds=5)
    device.save()
    token = totp(device.bin_key)
    client.post(reverse("admin:two_factor"), {"otp_token": f"{token:06d}"})
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_new_staff_member_enrols_and_gets_backup_codes_once(client, ngo):
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from partners.models import Membership

    user = UserFactory()
    Membership.objects.create(user=user, organisation=ngo)
    client.force_login(user)
    response = client.get(reverse("admin:login"))
    assert response["Location"].startswith(reverse("admin:two_factor_setup"))
    page = client.get(response["Location"])
    assert "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(reverse("admin:two_factor_setup"), {"otp_token": f"{totp(device.bin_key):06d}"})
    codes = response.context["codes"]
    assert len(codes) == 10
    assert client.get(reverse("admin:index")).status_code == 200
    # A backup code works once, in place of the app.
    client.logout()
    client.force_login(user)
    client.post(reverse("admin:two_factor"), {"otp_token": codes[0]})
    assert client.get(reverse("admin:index")).status_code == 200
    assert StaticDevice.objects.get(user=user).token_set.count() == 9


def test_login_is_throttled_by_username_and_address(client, worker):
    url = reverse("admin:login")
    for _ in range(5):
        client.post(url, {"username": worker.username, "password": "wrong"}, REMOTE_ADDR="10.0.0.1")
    locked = client.post(url, {"username": worker.username, "password": "a long test password"}, REMOTE_ADDR="10.0.0.1")
    assert locked.status_code == 429
    # The same account from another address, and another account from that address, still work.
    other = client.post(url, {"username": worker.username, "password": "a long test password"}, REMOTE_ADDR="10.0.0.2")
    assert other.status_code == 302
    from axes.models import AccessLog, AccessAttempt

    assert not AccessLog.objects.exists() and not AccessAttempt.objects.exists()


def test_log_out_everywhere_ends_every_session(client, worker):
    from django.test import Client

    other_device = Client()
    login_verified(other_device, worker)
    login_verified(client, worker)
    assert other_device.get(reverse("admin:index")).status_code == 200
    client.post(reverse("admin:logout_everywhere"))
    assert other_device.get(reverse("admin:index")).status_code == 302
    assert AuditEvent.objects.filter(action="staff.logout_everywhere", actor=worker).exists()


def test_idle_staff_sessions_end(client, worker, settings):
    login_verified(client, worker)
    assert client.get(reverse("admin:index")).status_code == 200
    session = client.session
    session["staff_last_seen"] -= settings.STAFF_SESSION_IDLE_SECONDS + 1
    session.save()
    assert client.get(reverse("admin:index")).status_code == 302


def test_public_directory_and_help_fall_back_to_english_with_a_note(client):
    NgoFactory(name_en="Harbour Support", name_zh_hant="海港支援", helpline="2345 6789",
               services_en="Counselling", services_zh_hant="", hours_en="Mon–Fri")
    HelpEntry.objects.create(question_en="Can I undo it?", answer_en="Yes, withdraw it any time.",
                             question_zh_hant="可以撤回嗎？", answer_zh_hant="可以，隨時撤回。")
    HelpEntry.objects.create(question_en="Is it free?", answer_en="Yes.")
    body = client.get("/zh-hant/partners/").content.decode()
    assert "海港支援" in body and "Counselling" in body and "2345 6789" in body
    assert 'class="fallback-note"' in body
    body = client.get("/zh-hant/help/").content.decode()
    assert "可以撤回嗎？" in body and "Is it free?" in body and body.count('class="fallback-note"') == 1
    body = client.get("/en/help/").content.decode()
    assert "Can I undo it?" in body and 'class="fallback-note"' not in body
