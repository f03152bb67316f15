from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases.models import Case, CaseHash
from cases.services import case_add_hashes, case_create, case_withdraw
from hashes.models import HashRecord
from partners.models import AuditEvent
from tests.factories import NgoFactory, PlatformFactory, UserFactory, md5, pdq

pytestmark = pytest.mark.django_db


def test_a_case_is_created_with_its_hashes_and_a_pin_that_is_not_stored():
    hashes = [pdq(90), md5()]
    new = case_create(hashes=hashes, language="zh-hant")
    case = Case.objects.get(pk=new.case.pk)
    assert case.status == Case.Status.ACTIVE and case.language == "zh-hant"
    assert sorted(case.hash_records.values_list("value", flat=True)) == sorted(h["value"] for h in hashes)
    assert new.pin not in case.pin_hash and check_password(new.pin, case.pin_hash)


def test_the_same_hash_in_two_cases_is_one_record_with_two_links():
    shared = pdq(70)
    first = case_create(hashes=[shared], language="en").case
    second = case_create(hashes=[{**shared, "value": shared["value"].upper(), "quality": 95}], language="en").case
    record = HashRecord.objects.get()
    assert set(record.cases.all()) == {first, second}
    assert record.quality == 95  # the better copy's quality is kept


def test_a_repeated_hash_in_one_request_is_linked_once():
    h = md5()
    case = case_create(hashes=[h, h, {**h, "value": h["value"].upper()}], language="en").case
    assert CaseHash.objects.filter(case=case).count() == 1


def test_nothing_is_saved_when_one_hash_is_bad():
    with pytest.raises(ValidationError):
        case_create(hashes=[pdq(), {"signal_type": "pdq", "value": "nope", "quality": 50}], language="en")
    assert not Case.objects.exists() and not HashRecord.objects.exists()


def test_a_case_needs_at_least_one_hash_and_at_most_the_limit(settings):
    settings.CASE_MAX_HASHES = 3
    with pytest.raises(ValidationError) as exc:
        case_create(hashes=[], language="en")
    assert exc.value.code == "no_hashes"
    with pytest.raises(ValidationError) as exc:
        case_create(hashes=[md5() for _ in range(4)], language="en")
    assert exc.value.code == "too_many_hashes"
    case = case_create(hashes=[md5(), md5()], language="en").case
    with pytest.raises(ValidationError):
        case_add_hashes(case=case, hashes=[md5(), md5()])
    assert case.case_hashes.count() == 2


def test_only_an_ngo_can_assist_a_case():
    with pytest.raises(ValidationError):
        case_create(hashes=[md5()], language="en", organisation=PlatformFactory())
    ngo = NgoFactory()
    assert case_create(hashes=[md5()], language="en", organisation=ngo).case.organisation == ngo


def test_withdrawing_keeps_a_hash_active_while_another_case_holds_it():
    shared, own = pdq(), md5()
    first = case_create(hashes=[shared, own], language="en").case
    second = case_create(hashes=[shared], language="en").case
    before = {r.value: r.modified_at for r in HashRecord.objects.all()}

    case_withdraw(case=first)
    records = {r.value: r for r in HashRecord.objects.all()}
    assert records[shared["value"]].status == HashRecord.Status.ACTIVE
    assert records[own["value"]].status == HashRecord.Status.WITHDRAWN
    # Both changed for platforms: one is gone, the other lost a case.
    assert all(records[v].modified_at > before[v] for v in before)

    case_withdraw(case=second)
    assert HashRecord.objects.get(value=shared["value"]).status == HashRecord.Status.WITHDRAWN


def test_withdrawing_twice_changes_nothing_the_second_time():
    case = case_create(hashes=[md5()], language="en").case
    first = case_withdraw(case=case)
    modified = HashRecord.objects.get().modified_at
    second = case_withdraw(case=case)
    assert second.withdrawn_at == first.withdrawn_at
    assert HashRecord.objects.get().modified_at == modified


def test_nothing_can_be_added_to_a_withdrawn_case():
    case = case_create(hashes=[md5()], language="en").case
    case_withdraw(case=case)
    with pytest.raises(ValidationError) as exc:
        case_add_hashes(case=case, hashes=[md5()])
    assert exc.value.code == "case_withdrawn"
    assert case.case_hashes.count() == 1


def test_a_withdrawn_hash_submitted_again_comes_back_to_the_feed():
    h = pdq()
    old = case_create(hashes=[h], language="en").case
    case_withdraw(case=old)
    assert HashRecord.objects.get().withdrawn_at is not None
    case_create(hashes=[h], language="en")
    record = HashRecord.objects.get()
    assert record.status == HashRecord.Status.ACTIVE and record.withdrawn_at is None


def test_adding_hashes_links_new_ones_and_ignores_known_ones():
    known = md5()
    case = case_create(hashes=[known], language="en").case
    case_add_hashes(case=case, hashes=[known, pdq()])
    assert case.case_hashes.count() == 2


def test_a_staff_withdrawal_is_audited_with_who_and_why():
    staff = UserFactory()
    case = case_create(hashes=[md5()], language="en", organisation=NgoFactory()).case
    case_withdraw(case=case, actor=staff, reason="asked by phone")
    event = AuditEvent.objects.get()
    assert (event.actor, event.case, event.action, event.details) == (
        staff, case, "case.withdraw", {"reason": "asked by phone"}
    )
    assert event.organisation == case.organisation


def test_the_withdrawn_time_is_recorded():
    case = case_create(hashes=[md5()], language="en").case
    withdrawn = case_withdraw(case=case)
    assert abs(withdrawn.withdrawn_at - timezone.now()) < timedelta(seconds=5)


@pytest.mark.django_db(transaction=True)
def test_cases_submitting_the_same_hashes_at_the_same_moment_share_records():
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    hashes = [pdq() for _ in range(20)]

    def create(_):
        try:
            return case_create(hashes=hashes, language="en").case.pk
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        cases = list(pool.map(create, range(12)))
    assert len(set(cases)) == 12
    assert HashRecord.objects.count() == 20
    assert CaseHash.objects.count() == 12 * 20


@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_racing_a_new_case_never_leaves_a_held_hash_withdrawn():
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    for _round in range(10):
        h = pdq()
        old = case_create(hashes=[h], language="en").case

        def withdraw():
            try:
                case_withdraw(case=old)
            finally:
                connection.close()

        def create():
            try:
                case_create(hashes=[h], language="en")
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=2) as pool:
            for future in [pool.submit(withdraw), pool.submit(create)]:
                future.result()
        assert HashRecord.objects.get(value=h["value"]).status == HashRecord.Status.ACTIVE
