import json
import secrets
import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from cases.declarations import current_versions
from cases.models import Case
from hashes.models import HashRecord
from partners.models import Feedback
from tests.factories import PlatformFactory, md5, pdq

pytestmark = pytest.mark.django_db

CREATE = "/api/v1/cases/"


def post(client, url, body, lang="en"):
    return client.post(url, json.dumps(body), content_type="application/json", HTTP_ACCEPT_LANGUAGE=lang)


def create_body(hashes=None, **extra):
    return {"hashes": hashes or [pdq(), md5()], "declarations": current_versions(), "language": "en", **extra}


def open_case(client, **extra):
    response = post(client, CREATE, create_body(**extra))
    assert response.status_code == 201, response.content
    return response.json()


def test_opening_a_case_returns_its_number_and_pin_and_stores_the_declaration_versions(client):
    answer = open_case(client)
    case = Case.objects.get()
    assert answer["case_number"] == case.display_number and len(answer["pin"]) == 8
    assert case.declarations == current_versions()
    assert case.hash_records.count() == 2
    assert answer["pin"] not in json.dumps(case.declarations) + case.pin_hash + case.pin_replay


@pytest.mark.parametrize("declarations, code", [
    ({}, "missing_declaration"),
    ({**current_versions(), "agree": None}, "invalid"),
    ({**current_versions(), "agree": "I agree to anything"}, "missing_declaration"),
    ({**current_versions(), "agree": "over_18.v1"}, "missing_declaration"),
])
def test_every_declaration_must_be_a_known_version_of_its_own_text(client, declarations, code):
    response = post(client, CREATE, {**create_body(), "declarations": declarations})
    assert response.status_code == 400 and response.json()["error"]["code"] == code
    assert not Case.objects.exists() and not HashRecord.objects.exists()


@pytest.mark.parametrize("hashes, code", [
    ([{"signal_type": "pdq", "value": "xyz", "quality": 90}], "invalid_hash"),
    ([{"signal_type": "sha1", "value": "ab" * 20}], "invalid_choice"),
    ([pdq(quality=20)], "low_quality"),
    ([], "no_hashes"),
])
def test_bad_hashes_are_refused_with_a_specific_translated_message(client, hashes, code):
    response = post(client, CREATE, {**create_body(), "hashes": hashes}, lang="zh-hant")
    error = response.json()["error"]
    assert response.status_code == 400 and error["code"] == code, error
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error["message"]
    assert not Case.objects.exists()


def test_a_file_sent_twice_in_one_request_is_refused_by_name(client):
    h = md5()
    response = post(client, CREATE, create_body([h, {**h, "value": h["value"].upper()}]))
    assert response.json()["error"]["code"] == "duplicate_hash" and not Case.objects.exists()


def test_too_many_files_at_once_are_refused(client, settings):
    settings.CASE_MAX_HASHES_PER_REQUEST = 3
    response = post(client, CREATE, create_body([md5() for _ in range(4)]))
    assert response.json()["error"] == {
        "code": "too_many_files", "message": "You can send at most 3 files at a time.",
        "fields": {"hashes": ["You can send at most 3 files at a time."]},
    }
    assert not Case.objects.exists()


def test_an_oversized_body_is_refused_before_it_is_read(client):
    body = json.dumps({**create_body(), "padding": "x" * (1024 * 1024 + 10)})
    response = client.post(CREATE, body, content_type="application/json")
    assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"
    assert not Case.objects.exists()


def test_a_retry_with_the_same_key_returns_the_same_case_and_pin(client):
    key = secrets.token_urlsafe(24)
    first = open_case(client, idempotency_key=key)
    again = open_case(client, idempotency_key=key)
    assert first == again and Case.objects.count() == 1
    assert open_case(client, idempotency_key=secrets.token_urlsafe(24)) != first
    assert Case.objects.count() == 2


def test_the_key_is_stored_only_as_a_keyed_hash(client):
    key = secrets.token_urlsafe(24)
    open_case(client, idempotency_key=key)
    case = Case.objects.get()
    assert case.idempotency_key_hash and key not in case.idempotency_key_hash


def test_a_replay_after_the_window_is_refused_not_turned_into_a_new_case(client, settings):
    key = secrets.token_urlsafe(24)
    open_case(client, idempotency_key=key)
    Case.objects.update(created_at=timezone.now() - timezone.timedelta(hours=settings.CASE_IDEMPOTENCY_WINDOW_HOURS + 1))
    response = post(client, CREATE, create_body(idempotency_key=key))
    assert response.status_code == 400 and response.json()["error"]["code"] == "idempotency_key_reused"
    assert Case.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_double_tap_sent_in_parallel_opens_one_case(live_server):
    import urllib.request

    key = secrets.token_urlsafe(24)
    body = json.dumps(create_body([pdq(), md5()], idempotency_key=key)).encode()
    answers = []

    def send():
        request = urllib.request.Request(live_server.url + CREATE, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as response:
            answers.append(json.loads(response.read()))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 4 and all(a == answers[0] for a in answers)
    assert Case.objects.count() == 1


def test_status_shows_hashes_and_platform_reports_in_plain_words(client):
    answer = open_case(client)
    record = HashRecord.objects.get(signal_type="pdq")
    Feedback.objects.create(organisation=PlatformFactory(name="PhotoSite"), hash_record=record, verdict="Blocked")
    Feedback.objects.create(organisation=PlatformFactory(name="VideoSite"), hash_record=record, verdict="NotBlocked",
                            is_current=False)
    response = post(client, "/api/v1/cases/status/", answer)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    status = response.json()
    assert status["status"] == "active" and status["case_number"] == answer["case_number"]
    by_type = {h["signal_type"]: h for h in status["hashes"]}
    assert by_type["pdq"]["platforms"] == [
        {"platform": "PhotoSite", "verdict": "Blocked", "words": "A copy was found and removed or blocked"}
    ]
    assert by_type["md5"]["platforms"] == [] and "None has reported" in by_type["md5"]["summary"]
    assert answer["pin"] not in response.content.decode()


def test_the_case_number_is_accepted_as_a_person_types_it(client):
    answer = open_case(client)
    typed = answer["case_number"].replace("-", " ").lower()
    assert post(client, "/api/v1/cases/status/", {"case_number": typed, "pin": answer["pin"]}).status_code == 200


def test_adding_files_and_withdrawing(client):
    answer = open_case(client)
    more = post(client, "/api/v1/cases/hashes/", {**answer, "hashes": [md5()]})
    assert more.status_code == 200 and len(more.json()["hashes"]) == 3
    withdrawn = post(client, "/api/v1/cases/withdraw/", answer)
    assert withdrawn.json()["status"] == "withdrawn"
    assert set(HashRecord.objects.values_list("status", flat=True)) == {"withdrawn"}
    again = post(client, "/api/v1/cases/withdraw/", answer)
    assert again.status_code == 400 and again.json()["error"]["code"] == "case_withdrawn"
    late = post(client, "/api/v1/cases/hashes/", {**answer, "hashes": [md5()]}, lang="zh-hant")
    assert late.status_code == 400 and late.json()["error"]["code"] == "case_withdrawn"
    assert "撤回" in late.json()["error"]["message"]
    assert HashRecord.objects.count() == 3


def test_malformed_case_numbers_and_pins_get_a_specific_message(client):
    response = post(client, "/api/v1/cases/status/", {"case_number": "ABC", "pin": "12"})
    assert response.json()["error"]["code"] == "invalid_case_number"
    assert set(response.json()["error"]["fields"]) == {"case_number", "pin"}


def test_an_unknown_case_and_a_wrong_pin_get_the_same_answer(client):
    answer = open_case(client)
    wrong_pin = post(client, "/api/v1/cases/status/", {**answer, "pin": "00000000" if answer["pin"] != "00000000" else "11111111"})
    unknown = post(client, "/api/v1/cases/status/", {"case_number": "2222-3333-4444", "pin": answer["pin"]})
    assert wrong_pin.status_code == unknown.status_code == 403
    assert wrong_pin.json() == unknown.json() and wrong_pin.json()["error"]["code"] == "wrong_case_or_pin"


def _wrong(pin):
    return str((int(pin) + 1) % 10**8).zfill(8)


def test_the_case_locks_after_too_many_wrong_pins_even_for_the_right_one(client, settings):
    settings.CASE_PIN_MAX_FAILURES = 3
    answer = open_case(client)
    codes = [post(client, "/api/v1/cases/status/", {**answer, "pin": _wrong(answer["pin"])}).json()["error"]["code"]
             for _ in range(3)]
    assert codes == ["wrong_case_or_pin", "wrong_case_or_pin", "case_locked"]
    locked = post(client, "/api/v1/cases/status/", answer)
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "case_locked"
    assert int(locked["Retry-After"]) > 0
    Case.objects.update(locked_until=timezone.now())
    assert post(client, "/api/v1/cases/status/", answer).status_code == 200
    assert Case.objects.get().pin_failures == 0


def test_unknown_case_numbers_lock_just_like_real_ones(client, settings):
    settings.CASE_PIN_MAX_FAILURES = 2
    body = {"case_number": "2222-3333-4444", "pin": "12345678"}
    codes = [post(client, "/api/v1/cases/status/", body).json()["error"]["code"] for _ in range(3)]
    assert codes == ["wrong_case_or_pin", "case_locked", "case_locked"]


@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_cannot_get_past_the_limit(settings):
    from cases.services import CaseAccessDenied, case_create, case_sign_in

    settings.CASE_PIN_MAX_FAILURES = 5
    new = case_create(hashes=[md5()], language="en")
    results = []

    def guess(i):
        try:
            case_sign_in(number=new.case.number, pin=str(i).zfill(8) if str(i).zfill(8) != new.pin else "99999999")
            results.append("in")
        except CaseAccessDenied as denied:
            results.append("locked" if denied.locked_for else "wrong")
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("wrong") == 4 and results.count("locked") == 16 and "in" not in results
    assert Case.objects.get().locked_until is not None


def test_the_per_client_throttle_stops_a_flood_from_one_address(client, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                                          "case_access": "3/hour"}}
    body = {"case_number": "2222-3333-4444", "pin": "12345678"}
    codes = [post(client, "/api/v1/cases/status/", body).status_code for _ in range(4)]
    assert codes == [403, 403, 403, 429]
    response = post(client, "/api/v1/cases/status/", body, lang="zh-hant")
    assert response.json()["error"]["code"] == "throttled" and int(response["Retry-After"]) > 0
    assert response.json()["error"]["message"] == "這部裝置發出的請求太多。請稍等一會再試。"
    from django.core.cache import cache

    keys = [k for k in cache._cache.get_client().keys("*throttle:case_access*")]
    assert keys and not any(b"127.0.0.1" in k for k in keys)


def test_an_unknown_case_costs_the_same_time_as_a_wrong_pin(client, settings):
    # With the real PIN hasher: a fast "no such case" would tell a guesser which numbers exist.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    answer = open_case(client)
    wrong = {**answer, "pin": _wrong(answer["pin"])}
    unknown = {"case_number": "2222-3333-4444", "pin": answer["pin"]}

    def timed(body):
        Case.objects.update(pin_failures=0, locked_until=None)
        from django.core.cache import cache

        cache.clear()
        start = time.perf_counter()
        post(client, "/api/v1/cases/status/", body)
        return time.perf_counter() - start

    for body in (wrong, unknown):
        timed(body)  # warm up
    # Taken in turns, so a load that comes and goes on the machine weighs on both alike; the
    # fastest of each is its cost with the least noise on top.
    wrong_times, unknown_times = zip(*[(timed(wrong), timed(unknown)) for _ in range(7)])
    ratio = min(unknown_times) / min(wrong_times)
    assert 0.7 < ratio < 1.4, (wrong_times, unknown_times)
    assert min(unknown_times) > 0.05  # the PIN hash really ran
