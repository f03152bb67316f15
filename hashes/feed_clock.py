"""The order in which platforms see changes.

Every transaction that changes what the feed shows takes the feed clock's row lock first and stamps
each record it changes with the next sequence number and the clock's time. Holding the lock until
commit makes commit order and sequence order the same, so a platform that has read up to sequence
N can never later find a newly committed change below N: a long transaction cannot slip a change
in behind a reader's cursor. Writers are people opening cases and platforms sending feedback, a
few per second at most, so serialising them costs nothing that matters.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from .feed_json import feed_json_render
from .models import FeedClock


@dataclass
class FeedStamp:
    clock: FeedClock
    # Never behind the last stamp, even if the system clock steps back, so times rise with seq.
    time: datetime
    _issued: int = field(default=0)

    def next_seq(self) -> int:
        self._issued += 1
        return self.clock.last_seq + self._issued

    def close(self) -> None:
        """Move the clock on past the positions issued, and render the stamped records' feed JSON.

        Call it once the stamped records, their cases and their feedback are saved.
        """
        if self._issued:
            first = self.clock.last_seq
            self.clock.last_seq += self._issued
            self.clock.last_time = self.time
            self.clock.save(update_fields=["last_seq", "last_time"])
            # Every record stamped in this transaction holds one of the positions just issued.
            feed_json_render(after_seq=first, through_seq=self.clock.last_seq)


def feed_stamp_open() -> FeedStamp:
    """Lock the feed clock for the rest of the current transaction; call before locking records."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("the feed clock must be taken inside a transaction")
    # Migration hashes.0002 makes the row; should it be missing (a flushed database), concurrent
    # first writers may all try to make it and the database keeps exactly one.
    FeedClock.objects.bulk_create([FeedClock(pk=1)], ignore_conflicts=True)
    clock = FeedClock.objects.select_for_update().get(pk=1)
    now = timezone.now()
    return FeedStamp(clock=clock, time=max(now, clock.last_time) if clock.last_time else now)
