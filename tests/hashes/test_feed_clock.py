import threading
import time

import pytest
from django.db import connection, transaction

from cases.services import case_create, case_withdraw
from hashes.feed_clock import feed_stamp_open
from hashes.models import HashRecord
from tests.factories import md5, pdq

pytestmark = pytest.mark.django_db


def test_every_change_moves_a_record_to_the_end_of_the_feed():
    h1, h2 = pdq(), md5()
    first = case_create(hashes=[h1], language="en").case
    case_create(hashes=[h2], language="en")
    seq = dict(HashRecord.objects.values_list("value", "feed_seq"))
    assert seq[h1["value"]] < seq[h2["value"]]
    case_withdraw(case=first)
    after = dict(HashRecord.objects.values_list("value", "feed_seq"))
    assert after[h1["value"]] > after[h2["value"]] == seq[h2["value"]]


@pytest.mark.django_db(transaction=True)
def test_the_clock_is_only_taken_inside_a_transaction():
    with pytest.raises(RuntimeError):
        feed_stamp_open()


@pytest.mark.django_db(transaction=True)
def test_a_slow_writer_holds_back_later_writers_so_commit_order_is_feed_order():
    """A reader that saw seq N must never later find a new record below N."""
    started, release = threading.Event(), threading.Event()

    def slow_writer():
        try:
            with transaction.atomic():
                stamp = feed_stamp_open()
                started.set()
                release.wait(5)
                HashRecord.objects.create(
                    signal_type="md5", value="a" * 32, modified_at=stamp.time, feed_seq=stamp.next_seq()
                )
                stamp.close()
        finally:
            connection.close()

    slow = threading.Thread(target=slow_writer)
    slow.start()
    started.wait(5)
    fast = threading.Thread(target=lambda: (case_create(hashes=[md5()], language="en"), connection.close()))
    fast.start()
    time.sleep(0.3)
    assert not HashRecord.objects.exists()  # the fast writer waits for the clock
    release.set()
    slow.join(5)
    fast.join(5)
    ordered = list(HashRecord.objects.order_by("feed_seq").values_list("value", flat=True))
    assert ordered[0] == "a" * 32 and len(ordered) == 2
