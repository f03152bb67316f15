"""The native platform API over real HTTP."""

import re

import pytest
import requests

from cases.services import case_create, case_withdraw
from hashes import selectors
from hashes.models import HashRecord
from hashes.services import hash_record_review
from partners.authentication import ApiKeyThrottle
from partners.models import Feedback
from partners.services import api_key_issue
from tests.factories import PlatformFactory, UserFactory, md5, pdq

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def platform():
    return PlatformFactory(slug="acme")


@pytest.fixture
def api(live_server, platform):
    key = api_key_issue(organisation=platform, scopes=["fetch", "feedback", "match"], source="command").secret
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    session.base = live_server.url + "/api/v1/"
    return session


def get(api, path, **params):
    return api.get(api.base + path, params=params)


def post(api, path, body):
    return api.post(api.base + path, json=body)


def sync(api, cursor=None, **params) -> tuple[dict, str]:
    seen = {}
    while True:
        page = get(api, "hashes/", cursor=cursor, **params).json()
        seen.update({r["value"]: r for r in page["results"]})
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return seen, cursor


def test_the_feed_pages_by_cursor_and_resumes_with_only_what_changed(api):
    hashes = [pdq() for _ in range(7)]
    cases = [case_create(hashes=[h], language="en").case for h in hashes]
    first, cursor = sync(api, limit=3)
    assert set(first) == {h["value"] for h in hashes}
    assert all(r["status"] == "active" for r in first.values())
    assert sync(api, cursor)[0] == {}  # nothing new

    case_withdraw(case=cases[2])
    changes, cursor = sync(api, cursor)
    assert list(changes) == [hashes[2]["value"]] and changes[hashes[2]["value"]]["status"] == "withdrawn"


def test_the_feed_can_be_limited_to_one_hash_type(api):
    photo, video = pdq(), md5()
    case_create(hashes=[photo, video], language="en")
    only_md5, _ = sync(api, signal_type="md5")
    assert list(only_md5) == [video["value"]]


def test_a_hash_held_by_staff_turns_into_a_deletion(api):
    h = pdq()
    case_create(hashes=[h], language="en")
    _, cursor = sync(api)
    hash_record_review(record=HashRecord.objects.get(), decision="held", reason="matches a logo", actor=UserFactory())
    changes, _ = sync(api, cursor)
    assert changes[h["value"]]["status"] == "held"


def test_a_hashs_detail_tells_its_provenance(api, platform):
    h = pdq()
    case_create(hashes=[h], language="en")
    case_create(hashes=[h], language="en")
    record = HashRecord.objects.get()
    post(api, "feedback/", {"feedback": [{"signal_type": "pdq", "value": h["value"], "verdict": "Blocked"}]})
    detail = get(api, f"hashes/{record.id}/").json()
    assert detail["cases"] == 2 and detail["feedback"] == {"Blocked": 1} and detail["status"] == "active"
    assert detail["first_seen"] <= detail["modified_at"]
    missing = get(api, "hashes/999999/")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_feedback_keeps_one_current_verdict_per_platform_and_the_history(api, platform):
    h = md5()
    case_create(hashes=[h], language="en")
    for verdict in ["PendingReview", "Blocked", "Blocked"]:
        response = post(api, "feedback/", {"feedback": [
            {"signal_type": "md5", "value": h["value"].upper(), "verdict": verdict, "tags": ["t"]}
        ]})
        assert response.status_code == 200 and response.json() == {"accepted": 1, "unknown": []}
    assert list(Feedback.objects.order_by("id").values_list("verdict", "is_current")) == [
        ("PendingReview", False), ("Blocked", True)
    ]


def test_hashes_many_platforms_do_not_block_are_queued_for_review(live_server, settings):
    settings.REVIEW_NOT_BLOCKED_PLATFORMS = 2
    h = pdq()
    case_create(hashes=[h], language="en")
    for slug in ["p1", "p2"]:
        key = api_key_issue(organisation=PlatformFactory(slug=slug), scopes=["feedback"], source="command").secret
        requests.post(
            live_server.url + "/api/v1/feedback/",
            json={"feedback": [{"signal_type": "pdq", "value": h["value"], "verdict": "NotBlocked"}]},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert HashRecord.objects.get().review == ("queued" if slug == "p2" else "none")


def test_bad_feedback_is_refused_whole_with_the_reason(api):
    h = pdq()
    case_create(hashes=[h], language="en")
    response = post(api, "feedback/", {"feedback": [
        {"signal_type": "pdq", "value": h["value"], "verdict": "Blocked"},
        {"signal_type": "pdq", "value": "zz", "verdict": "Blocked"},
    ]})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_hash" and error["fields"]["feedback"]["1"]["value"]
    assert not Feedback.objects.exists()


def test_each_key_is_throttled_on_its_own(api, live_server, platform, monkeypatch):
    # Windows are fixed: a day long, the four requests cannot straddle two of them.
    monkeypatch.setitem(ApiKeyThrottle.THROTTLE_RATES, "fetch", "3/day")
    statuses = [get(api, "hashes/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    throttled = get(api, "hashes/")
    assert throttled.json()["error"]["code"] == "throttled" and "Retry-After" in throttled.headers
    other = api_key_issue(organisation=platform, scopes=["fetch"], source="command").secret
    assert requests.get(live_server.url + "/api/v1/hashes/", headers={"Authorization": f"Bearer {other}"}).ok


def test_the_api_is_described_by_an_openapi_schema_and_docs_served_by_us(live_server):
    schema = requests.get(live_server.url + "/api/schema/", headers={"Accept": "application/json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/hashes/", "/api/v1/feedback/", "/api/stopncii/v1/FetchHashes"} <= set(paths)
    docs = requests.get(live_server.url + "/api/docs/")
    assert docs.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert any("swagger-ui" in a for a in assets)
    assert all(a.startswith("/") and not a.startswith("//") for a in assets), assets


@pytest.mark.browser
def test_the_api_docs_work_in_a_browser_under_our_content_security_policy(page, live_server):
    requests_made, problems = [], []
    page.on("request", lambda r: requests_made.append(r.url))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(live_server.url + "/api/docs/")
    page.get_by_text("/api/stopncii/v1/FetchHashes").first.wait_for()
    assert all(u.startswith(live_server.url) for u in requests_made), requests_made
    assert problems == []


def flip(value: str, bits: int) -> str:
    number = int(value, 16)
    for bit in range(bits):
        number ^= 1 << (bit * 7)
    return f"{number:064x}"


def test_pdq_lookups_find_near_copies_within_the_distance_with_provenance(api, live_server, settings):
    settings.MATCH_INDEX_SYNC_SECONDS = 0
    h = pdq()
    case_create(hashes=[h], language="en")
    # This platform changed its mind (only its current verdict counts); two others gave theirs.
    for verdict in ["NotBlocked", "Blocked"]:
        post(api, "feedback/", {"feedback": [{"signal_type": "pdq", "value": h["value"], "verdict": verdict}]})
    for slug, verdict in [("p1", "Blocked"), ("p2", "NotBlocked")]:
        key = api_key_issue(organisation=PlatformFactory(slug=slug), scopes=["feedback"], source="command").secret
        requests.post(
            live_server.url + "/api/v1/feedback/",
            json={"feedback": [{"signal_type": "pdq", "value": h["value"], "verdict": verdict}]},
            headers={"Authorization": f"Bearer {key}"},
        ).raise_for_status()
    near, far = flip(h["value"], 31), flip(h["value"], 32)
    single = post(api, "lookup/", {"signal_type": "pdq", "value": near.upper()}).json()["results"][0]
    (match,) = single["matches"]
    assert (match["value"], match["distance"], match["status"], match["feedback"]) == (
        h["value"], 31, "active", {"Blocked": 2, "NotBlocked": 1}
    )
    assert post(api, "lookup/", {"signal_type": "pdq", "value": far}).json()["results"][0]["matches"] == []
    wider = post(api, "lookup/", {"signal_type": "pdq", "value": far, "max_distance": 40}).json()
    assert wider["results"][0]["matches"][0]["distance"] == 32


def test_batch_lookups_answer_each_hash_in_order_and_md5_exactly(api, settings, monkeypatch):
    settings.MATCH_INDEX_SYNC_SECONDS = 0
    # Matched records are read in statements of bounded size: make every one a statement of its own.
    monkeypatch.setattr(selectors, "_IDS_PER_STATEMENT", 1)
    photo, video = pdq(), md5()
    case_create(hashes=[photo, video], language="en")
    queries = [
        {"signal_type": "md5", "value": video["value"]},
        {"signal_type": "pdq", "value": flip(photo["value"], 3)},
        {"signal_type": "md5", "value": md5()["value"]},
    ]
    results = post(api, "lookups/", {"hashes": queries}).json()["results"]
    assert [len(r["matches"]) for r in results] == [1, 1, 0]
    assert results[1]["matches"][0]["distance"] == 3
    too_many = post(api, "lookups/", {"hashes": queries * 34})
    assert too_many.status_code == 400 and too_many.json()["error"]["fields"]["hashes"]


def test_a_withdrawn_hash_still_matches_but_says_so_and_a_held_one_does_not(api, settings):
    settings.MATCH_INDEX_SYNC_SECONDS = 0
    withdrawn, held = pdq(), pdq()
    case_withdraw(case=case_create(hashes=[withdrawn], language="en").case)
    case_create(hashes=[held], language="en")
    hash_record_review(record=HashRecord.objects.get(value=held["value"]), decision="held", reason="logo", actor=UserFactory())
    results = post(api, "lookups/", {"hashes": [{"signal_type": "pdq", "value": v["value"]} for v in (withdrawn, held)]})
    first, second = results.json()["results"]
    assert first["matches"][0]["status"] == "withdrawn" and second["matches"] == []


@pytest.mark.parametrize("lang, required", [("ko", "이 항목은 필수입니다."), ("fil", "Kailangan ang field na ito."),
                                            ("ur", "یہ خانہ لازمی ہے۔")])
def test_field_errors_are_in_the_callers_language_where_drf_has_no_catalog(api, lang, required):
    response = api.post(api.base + "lookup/", json={"value": "ab" * 32}, headers={"Accept-Language": lang})
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["signal_type"] == [required]
