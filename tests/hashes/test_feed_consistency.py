"""No missed update: a platform that keeps syncing while cases come and go ends with the server's set."""

import random
import threading

import pytest
from django.db import connection
from threatexchange.exchanges.clients.stopncii.api import StopNCIIAPI

from cases.models import Case
from cases.services import case_create, case_withdraw
from hashes.api.stopncii import _record
from hashes.selectors import feed_page
from partners.services import api_key_issue
from tests.factories import PlatformFactory, md5, pdq

pytestmark = pytest.mark.django_db(transaction=True)


def server_state() -> dict:
    rows, _ = feed_page(after_seq=0, limit=10**6)
    return {(r.signal_type, r.value): _as_state(_record(r)) for r in rows}


def _as_state(record: dict) -> tuple:
    return record["hashStatus"], tuple(sorted(record["caseNumbers"].items()))


def client_state(records: dict) -> dict:
    names = {"ImagePDQ": "pdq", "VideoMD5": "md5"}
    return {
        (names[r.signalType.value], r.hashValue): (
            r.hashStatus.value, tuple(sorted((k, v.value) for k, v in r.caseNumbers.items()))
        )
        for r in records.values()
    }


def test_a_platform_syncing_during_concurrent_changes_ends_with_exactly_the_servers_set(live_server):
    key = api_key_issue(organisation=PlatformFactory(), scopes=["fetch"], source="command").secret
    api = StopNCIIAPI(key, key, base_url_override=live_server.url + "/api/stopncii/v1")
    pool = [pdq() for _ in range(40)] + [md5() for _ in range(20)]  # shared between cases on purpose
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(40):
                if rng.random() < 0.6:
                    case_create(hashes=rng.sample(pool, rng.randint(1, 4)), language="en")
                else:
                    active = list(Case.objects.filter(status="active").values_list("pk", flat=True)[:50])
                    if active:
                        case_withdraw(case=Case(pk=rng.choice(active)))
        except BaseException as exc:  # surfaced below: a writer must never fail
            errors.append(exc)
        finally:
            connection.close()

    seen: dict = {}
    checkpoint = StopNCIIAPI.DEFAULT_START_TIME
    syncs = 0

    def sync() -> None:
        nonlocal checkpoint, syncs
        stamps = []
        for page in api.fetch_hashes_iter(start_timestamp=checkpoint):
            stamps.append(page.nextSetTimestamp)
            for record in page.hashRecords:
                seen[(record.signalType, record.hashValue)] = record
        assert stamps == sorted(stamps) and stamps[0] >= checkpoint  # what the client insists on
        checkpoint = stamps[-1]
        syncs += 1

    writers = [threading.Thread(target=writer, args=(seed,)) for seed in range(4)]
    for w in writers:
        w.start()
    while any(w.is_alive() for w in writers):
        sync()
    for w in writers:
        w.join()
    sync()  # one last sync after the writers stop, as a platform's next scheduled run would

    assert not errors, errors
    assert syncs >= 3
    assert client_state(seen) == server_state()
