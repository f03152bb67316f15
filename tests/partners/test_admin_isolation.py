"""No staff member reaches another organisation's case through any admin URL."""

import pytest
from django.contrib import admin
from django.urls import reverse

from cases.models import Case
from cases.services import case_create
from partners.models import AuditEvent, CaseNote
from tests.factories import NgoFactory, UserFactory, login_verified, md5, pdq, staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    operator = NgoFactory(is_operator=True)
    other = NgoFactory()
    return {
        "operator": operator,
        "other": other,
        "operator_case": case_create(hashes=[pdq()], language="en", organisation=operator).case,
        "other_case": case_create(hashes=[pdq(), md5()], language="en", organisation=other).case,
        "public_case": case_create(hashes=[md5()], language="en").case,
        "operator_worker": staff_member(operator),
        "other_worker": staff_member(other),
        "other_manager": staff_member(other, role="manager"),
    }


def case_urls(case: Case) -> list[tuple[str, str]]:
    """Every admin URL that names one case, and the method to try it with."""
    pk = case.pk
    return [
        ("get", reverse("admin:cases_case_change", args=[pk])),
        ("post", reverse("admin:cases_case_change", args=[pk])),
        ("get", reverse("admin:cases_case_history", args=[pk])),
        ("get", reverse("admin:cases_case_delete", args=[pk])),
        ("post", reverse("admin:cases_case_delete", args=[pk])),
        ("get", reverse("admin:cases_case_withdraw", args=[pk])),
        ("post", reverse("admin:cases_case_withdraw", args=[pk])),
        ("get", reverse("admin:cases_case_changelist") + f"?q={case.number}"),
        ("get", reverse("admin:cases_case_changelist") + f"?q={case.display_number}"),
        ("get", reverse("admin:cases_case_changelist") + f"?q={case.hash_records.first().value}"),
        ("get", reverse("admin:cases_case_changelist") + f"?id__exact={pk}"),
        ("get", reverse("admin:cases_case_changelist") + f"?organisation__id__exact={case.organisation_id}"),
        ("get", reverse("admin:partners_auditevent_changelist") + f"?case__id__exact={pk}"),
        ("get", reverse("admin:autocomplete") + f"?term={case.number}&app_label=partners&model_name=casenote&field_name=case"),
        ("get", f"/admin/r/{Case._meta.app_label}.{pk}/"),
    ]


def assert_sealed(client, case: Case, actor) -> None:
    for method, url in case_urls(case):
        data = {"text": "note", "reason": "r", "post": "yes"} if method == "post" else None
        response = getattr(client, method)(url, data) if data else client.get(url)
        body = response.content.decode(errors="replace")
        if "?" in url and response.status_code == 200:
            # A list or search: the search box repeats what was typed, but no row may show the case.
            assert 'class="field-display_number"' not in body or 'id="result_list"' not in body \
                or str(case.display_number) not in body.split('id="result_list"', 1)[1], (method, url)
            assert f"/{case.pk}/change/" not in body, (method, url)
        else:
            assert case.number not in body and case.display_number not in body, (method, url)
            assert response.status_code in (302, 403, 404), (method, url, response.status_code)
            if response.status_code == 302:
                assert f"/{case.pk}/" not in response["Location"], (method, url)
    # The bulk actions, with the case's id forged into the selection.
    for action in ["export_csv", "delete_selected"]:
        response = client.post(reverse("admin:cases_case_changelist"),
                               {"action": action, "_selected_action": [case.pk], "index": 0})
        assert case.number not in response.content.decode(errors="replace"), action
    case.refresh_from_db()
    assert case.status == Case.Status.ACTIVE
    assert not CaseNote.objects.filter(case=case).exists()
    assert not AuditEvent.objects.filter(case=case, actor=actor).exists()


def test_a_caseworker_cannot_reach_another_organisations_case(client, world):
    login_verified(client, world["other_worker"])
    assert_sealed(client, world["operator_case"], world["other_worker"])


def test_a_manager_cannot_reach_another_organisations_case_either(client, world):
    login_verified(client, world["other_manager"])
    assert_sealed(client, world["operator_case"], world["other_manager"])


def test_cases_opened_without_an_ngo_belong_to_the_operators_staff_only(client, world):
    login_verified(client, world["other_worker"])
    assert_sealed(client, world["public_case"], world["other_worker"])
    client.logout()
    login_verified(client, world["operator_worker"])
    response = client.get(reverse("admin:cases_case_change", args=[world["public_case"].pk]))
    assert response.status_code == 200
    assert world["public_case"].display_number in response.content.decode()


def test_the_operators_staff_cannot_reach_another_ngos_case(client, world):
    login_verified(client, world["operator_worker"])
    assert_sealed(client, world["other_case"], world["operator_worker"])


def test_no_admin_list_shows_another_organisations_case_or_hashes(client, world):
    login_verified(client, world["other_manager"])
    hidden = world["operator_case"]
    secrets = [hidden.number, hidden.display_number] + list(hidden.hash_records.values_list("value", flat=True))
    secrets += [v[:12] for v in secrets]
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        body = client.get(url).content.decode(errors="replace")
        for secret in secrets:
            assert secret not in body, (url, secret)


def test_staff_see_their_own_cases_and_superusers_see_all(client, world):
    login_verified(client, world["other_worker"])
    body = client.get(reverse("admin:cases_case_changelist")).content.decode()
    assert world["other_case"].display_number in body
    assert world["operator_case"].display_number not in body
    client.logout()
    login_verified(client, UserFactory(is_superuser=True))
    body = client.get(reverse("admin:cases_case_changelist")).content.decode()
    for key in ["other_case", "operator_case", "public_case"]:
        assert world[key].display_number in body


def test_staff_without_an_organisation_see_nothing(client, world):
    login_verified(client, UserFactory())
    assert client.get(reverse("admin:index")).status_code == 302
    assert client.get(reverse("admin:cases_case_change", args=[world["other_case"].pk])).status_code == 302


def test_a_caseworker_cannot_open_other_staff_api_keys_or_the_audit_trail(client, world):
    login_verified(client, world["operator_worker"])
    for name in ["partners_apikey", "partners_membership", "partners_auditevent", "partners_webhookendpoint",
                 "auth_user", "otp_totp_totpdevice"]:
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 403, name


def test_managers_manage_only_their_own_staff(client, world):
    login_verified(client, world["other_manager"])
    body = client.get(reverse("admin:partners_membership_changelist")).content.decode()
    assert world["other_worker"].username in body
    assert world["operator_worker"].username not in body
    membership = world["operator_worker"].membership
    response = client.post(reverse("admin:partners_membership_changelist"),
                           {"action": "remove_staff", "_selected_action": [membership.pk], "index": 0})
    world["operator_worker"].refresh_from_db()
    assert world["operator_worker"].is_active

    response = client.post(reverse("admin:partners_membership_add"),
                           {"username": "new-helper", "password": "a long enough password 1", "role": "caseworker"})
    assert response.status_code == 302
    from partners.models import Membership

    added = Membership.objects.get(user__username="new-helper")
    assert added.organisation == world["other"]
    assert AuditEvent.objects.filter(action="staff.add", actor=world["other_manager"]).exists()
    client.post(reverse("admin:partners_membership_changelist"),
                {"action": "remove_staff", "_selected_action": [added.pk], "index": 0})
    added.user.refresh_from_db()
    assert not added.user.is_active
    assert AuditEvent.objects.filter(action="staff.remove", actor=world["other_manager"]).exists()


def test_staff_find_their_own_case_by_a_hash_it_holds(client, world):
    case = world["other_case"]
    login_verified(client, world["other_worker"])
    value = case.hash_records.filter(signal_type="md5").get().value
    body = client.get(reverse("admin:cases_case_changelist") + f"?q={value.upper()}").content.decode()
    listed = body.split('id="result_list"', 1)[1]
    assert case.display_number in listed
    assert world["operator_case"].display_number not in listed
