"""Webhooks: signed pushes of hash events to a real HTTP receiver, retried until it answers."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cases.services import case_create, case_withdraw
from partners.models import WebhookDelivery
from partners.services import webhook_endpoint_create
from tests.factories import PlatformFactory, UserFactory, md5, pdq

pytestmark = pytest.mark.django_db(transaction=True)


class Receiver:
    """A platform's endpoint: records what arrives, answers with the next status in `answers`."""

    def __init__(self, answers=(200,)):
        self.received: list[dict] = []
        self.answers = list(answers)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                status = receiver.answers.pop(0) if len(receiver.answers) > 1 else receiver.answers[0]
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.received]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


def verify(secret: str, delivery: dict) -> bool:
    fields = dict(part.split("=", 1) for part in delivery["headers"]["x-ncii-signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + delivery["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


def test_added_and_withdrawn_hashes_are_pushed_signed_once_the_change_commits(receiver):
    _endpoint, secret = webhook_endpoint_create(
        platform=PlatformFactory(), url=receiver.url, events=["hash.added", "hash.withdrawn"], actor=UserFactory()
    )
    photo, video = pdq(), md5()
    case = case_create(hashes=[photo, video], language="en").case
    case_withdraw(case=case)

    added, withdrawn = receiver.events()
    assert added["type"] == "hash.added" and withdrawn["type"] == "hash.withdrawn"
    assert {h["value"] for h in added["hashes"]} == {photo["value"], video["value"]}
    assert all(verify(secret, d) for d in receiver.received)
    assert receiver.received[0]["headers"]["x-ncii-event-id"] == added["id"]
    assert not verify("another secret", receiver.received[0])
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_a_hash_already_active_in_another_case_is_not_announced_again(receiver):
    webhook_endpoint_create(platform=PlatformFactory(), url=receiver.url, events=["hash.added"], actor=UserFactory())
    h = pdq()
    case_create(hashes=[h], language="en")
    case_create(hashes=[h], language="en")
    assert len(receiver.events()) == 1


def test_nothing_is_announced_for_a_change_that_rolled_back(receiver):
    from django.db import transaction

    webhook_endpoint_create(platform=PlatformFactory(), url=receiver.url, events=["hash.added"], actor=UserFactory())
    with pytest.raises(RuntimeError), transaction.atomic():
        case_create(hashes=[pdq()], language="en")
        raise RuntimeError("the request failed after the case was made")
    time.sleep(0.2)
    assert receiver.received == [] and not WebhookDelivery.objects.exists()


def test_a_failing_receiver_gets_the_same_event_again_until_it_accepts(worker):
    receiver = Receiver(answers=[503, 500, 200])
    try:
        webhook_endpoint_create(platform=PlatformFactory(), url=receiver.url, events=["hash.added"], actor=UserFactory())
        case_create(hashes=[pdq()], language="en")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and WebhookDelivery.objects.get().status == "pending":
            time.sleep(0.2)
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
        ids = {r["headers"]["x-ncii-event-id"] for r in receiver.received}
        assert len(receiver.received) == 3 and ids == {str(delivery.event_id)}  # receivers can drop repeats
    finally:
        receiver.server.shutdown()
