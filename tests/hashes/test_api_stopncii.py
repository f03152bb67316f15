"""The StopNCII-compatible endpoints, driven by Meta's own client (python-threatexchange) over HTTP."""

import logging

import pytest
import requests
from threatexchange.exchanges.clients.stopncii.api import (
    StopNCIIAPI,
    StopNCIICaseStatus,
    StopNCIICSPFeedbackValue,
    StopNCIIEndpoint,
    StopNCIISignalType,
)

from cases.services import case_create, case_withdraw
from hashes.models import HashRecord
from partners.models import Feedback, HashSubmission
from partners.services import api_key_issue, api_key_revoke
from tests.factories import PlatformFactory, md5, pdq

pytestmark = pytest.mark.django_db(transaction=True)
ALL_SCOPES = ["fetch", "feedback", "submit", "match"]


@pytest.fixture
def platform():
    return PlatformFactory(slug="acme")


@pytest.fixture
def key(platform) -> str:
    return api_key_issue(organisation=platform, scopes=ALL_SCOPES, source="command").secret


def client_for(live_server, key: str, other: str = "unused") -> StopNCIIAPI:
    # The client's own CLI passes (fetch key, subscription key) in the opposite order to its
    # constructor; a platform's one key must work in either header.
    return StopNCIIAPI(
        subscription_key=other,
        fetch_function_key=key,
        additional_function_keys={StopNCIIEndpoint.SubmitFeedback: key, StopNCIIEndpoint.SubmitHashes: key},
        base_url_override=live_server.url + "/api/stopncii/v1",
    )


def fetch_all(api: StopNCIIAPI, start: int = StopNCIIAPI.DEFAULT_START_TIME) -> dict:
    records = {}
    for page in api.fetch_hashes_iter(start_timestamp=start):
        for record in page.hashRecords:
            records[(record.signalType, record.hashValue)] = record
    return records


def test_the_real_client_fetches_every_hash_with_its_cases_and_status(live_server, key, caplog):
    photo, video = pdq(80), md5()
    case = case_create(hashes=[photo, video], language="en").case
    case_create(hashes=[photo], language="zh-hant")
    with caplog.at_level(logging.ERROR):
        records = fetch_all(client_for(live_server, key))
    assert not [r for r in caplog.records if "Convert response" in r.getMessage()]  # nothing skipped
    assert set(records) == {(StopNCIISignalType.ImagePDQ, photo["value"]), (StopNCIISignalType.VideoMD5, video["value"])}
    shared = records[(StopNCIISignalType.ImagePDQ, photo["value"])]
    assert shared.hashStatus == StopNCIICaseStatus.Active
    assert len(shared.caseNumbers) == 2 and set(shared.caseNumbers.values()) == {StopNCIICaseStatus.Active}
    # Platforms never learn the case number, which is half of the victim's login.
    assert case.number not in shared.caseNumbers and case.reference in shared.caseNumbers


def test_a_withdrawn_hash_comes_back_as_a_deletion_after_the_checkpoint(live_server, key):
    h = pdq()
    case = case_create(hashes=[h], language="en").case
    api = client_for(live_server, key)
    first = list(api.fetch_hashes_iter())
    checkpoint = first[-1].nextSetTimestamp
    case_withdraw(case=case)
    again = fetch_all(api, start=checkpoint)
    record = again[(StopNCIISignalType.ImagePDQ, h["value"])]
    assert record.hashStatus == StopNCIICaseStatus.Withdrawn
    assert list(record.caseNumbers.values()) == [StopNCIICaseStatus.Withdrawn]


def test_paging_follows_tokens_and_the_checkpoint_never_goes_down(live_server, key):
    values = {case_create(hashes=[h], language="en") and h["value"] for h in [pdq() for _ in range(23)]}
    api = client_for(live_server, key)
    seen, stamps, start = set(), [], StopNCIIAPI.DEFAULT_START_TIME
    token, more = "", True
    while more:
        page = api.fetch_hashes(page_size=5, start_timestamp=start, next_page=token)
        assert page.count == len(page.hashRecords) <= 5
        seen |= {r.hashValue for r in page.hashRecords}
        stamps.append(page.nextSetTimestamp)
        token, more = page.nextPageToken, page.hasMoreRecords
    assert seen == values and len(stamps) == 5
    assert stamps == sorted(stamps) and stamps[0] >= start
    # Fetching again from the checkpoint repeats at most the last second, never less.
    assert fetch_all(api, start=stamps[-1])


def test_feedback_from_the_client_is_recorded_and_shown_to_every_platform(live_server, key, platform):
    h = pdq()
    case_create(hashes=[h], language="en")
    api = client_for(live_server, key)
    api.submit_feedback(StopNCIISignalType.ImagePDQ, h["value"], StopNCIICSPFeedbackValue.Blocked, {"nudity"})
    api.submit_feedback(StopNCIISignalType.ImagePDQ, h["value"], StopNCIICSPFeedbackValue.NotBlocked)
    rows = list(Feedback.objects.order_by("id").values_list("verdict", "is_current", "tags"))
    assert rows == [("Blocked", False, ["nudity"]), ("NotBlocked", True, [])]

    other = api_key_issue(organisation=PlatformFactory(slug="other"), scopes=["fetch"], source="command").secret
    record = fetch_all(client_for(live_server, other))[(StopNCIISignalType.ImagePDQ, h["value"])]
    assert [(f.source, f.feedbackValue, f.tags) for f in record.CSPFeedbacks] == [
        ("acme", StopNCIICSPFeedbackValue.NotBlocked, set())
    ]


def test_hashes_a_platform_submits_join_the_feed(live_server, key, platform):
    api = client_for(live_server, key)
    value = pdq()["value"]
    api.submit_hash(StopNCIISignalType.ImagePDQ, value.upper(), {"found-by-us"})
    record = HashRecord.objects.get(value=value)
    assert record.status == "active" and HashSubmission.objects.get().organisation == platform
    assert Feedback.objects.get().verdict == "Blocked"
    assert (StopNCIISignalType.ImagePDQ, value) in fetch_all(api)


def url(live_server, endpoint: str) -> str:
    return f"{live_server.url}/api/stopncii/v1/{endpoint}"


@pytest.mark.parametrize("header", ["Ocp-Apim-Subscription-Key", "x-functions-key", "Authorization"])
def test_the_key_is_accepted_in_any_of_the_headers(live_server, key, header):
    value = f"Bearer {key}" if header == "Authorization" else key
    response = requests.get(url(live_server, "FetchHashes"), params={"startTimestamp": 0}, headers={header: value})
    assert response.status_code == 200 and response.json()["hashRecords"] == []


def test_errors_are_json_with_a_stable_code(live_server, key, platform):
    fetch = url(live_server, "FetchHashes")
    missing = requests.get(fetch)
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "not_authenticated"
    wrong = requests.get(fetch, headers={"x-functions-key": key[:-2] + "xx"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "authentication_failed"
    narrow = api_key_issue(organisation=platform, scopes=["match"], source="command").secret
    denied = requests.get(fetch, headers={"x-functions-key": narrow})
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "missing_scope"
    bad = requests.get(fetch, params={"pageSize": "1.5"}, headers={"x-functions-key": key})
    assert bad.status_code == 400 and "pageSize" in bad.json()["error"]["fields"]
    token = requests.get(fetch, params={"nextPageToken": "nonsense!"}, headers={"x-functions-key": key})
    assert token.status_code == 400 and token.json()["error"]["code"] == "invalid_cursor"


def test_a_revoked_key_is_refused_at_once(live_server, key, platform):
    from partners.models import ApiKey

    api_key_revoke(api_key=ApiKey.objects.get(), source="command")
    response = requests.get(url(live_server, "FetchHashes"), headers={"x-functions-key": key})
    assert response.status_code == 401


def test_bad_feedback_changes_nothing_and_says_what_is_wrong(live_server, key):
    h = pdq()
    case_create(hashes=[h], language="en")
    headers = {"x-functions-key": key}
    body = {"count": 2, "hashFeedbacks": [
        {"hashValue": h["value"], "feedbackValue": "Blocked", "tags": []},
        {"hashValue": h["value"], "feedbackValue": "blocked", "tags": []},  # the enum is case-sensitive
    ]}
    response = requests.post(url(live_server, "SubmitFeedback"), json=body, headers=headers)
    assert response.status_code == 400 and "hashFeedbacks[1]" in response.json()["error"]["fields"]
    assert not Feedback.objects.exists()

    unknown = {"count": 1, "hashFeedbacks": [{"hashValue": "ab" * 16, "feedbackValue": "Blocked", "tags": []}]}
    response = requests.post(url(live_server, "SubmitFeedback"), json=unknown, headers=headers)
    assert response.status_code == 200 and response.json() == {"count": 1, "accepted": 0, "unknownHashes": ["ab" * 16]}


def test_an_oversized_body_is_refused_with_413(live_server, key):
    body = b'{"count": 1, "hashFeedbacks": [' + b" " * (2 * 1024 * 1024) + b"]}"
    response = requests.post(
        url(live_server, "SubmitFeedback"), data=body,
        headers={"x-functions-key": key, "Content-Type": "application/json"},
    )
    assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"


def test_errors_speak_the_callers_language(live_server):
    response = requests.get(url(live_server, "FetchHashes"), headers={
        "x-functions-key": "ncii_nope_nope", "Accept-Language": "zh-Hant-HK"
    })
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "這條 API 金鑰無效，或者已經被撤銷。"


def test_the_threatexchange_command_line_syncs_and_drops_withdrawn_hashes(live_server, key, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    cli = str(Path(sys.executable).parent / "threatexchange")
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin",
           "TX_STOPNCII_KEYS": f"{key},{key},{live_server.url}/api/stopncii/v1"}

    def tx(*args: str) -> str:
        result = subprocess.run([cli, *args], env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout + result.stderr

    photos = [pdq(), pdq()]
    video = md5()
    case = case_create(hashes=[photos[0], video], language="en").case
    case_create(hashes=[photos[1]], language="en")
    tx("config", "collab", "edit", "stop_ncii", "--create", "NCII portal")
    assert "Up to date" in tx("fetch")
    assert tx("dataset").split() == ["pdq:", "2", "video_md5:", "1"]

    case_withdraw(case=case)
    second = tx("fetch")
    # The second run resumes from its checkpoint (no "checkpoint time rewound" abort) and takes the
    # two withdrawn records as updates. python-threatexchange 1.2.17 then keeps them in its dataset:
    # its StopNCII adapter compares hashValue, not hashStatus, with Withdrawn (see docs/api.md).
    assert "Up to date" in second and "rewound" not in second
    assert tx("dataset").split() == ["pdq:", "2", "video_md5:", "1"]
