"""Fill the database with synthetic hash records, for benchmarks at the scale of a real feed."""

import io
import secrets

import numpy as np
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from cases.models import Case
from hashes.feed_clock import feed_stamp_open
from hashes.models import HashRecord

BATCH = 50_000


class Command(BaseCommand):
    help = (
        "Add COUNT synthetic hash records, each in a synthetic case that nobody can log in to, in "
        "feed order, with COPY. For benchmarks only: the values are random, the PIN hashes unusable."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--md5-share", type=float, default=0.1, help="share of MD5 hashes (rest PDQ)")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, count: int, md5_share: float, seed: int, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("seed_hashes writes with PostgreSQL's COPY: set DATABASE_URL to a PostgreSQL database.")
        rng = np.random.default_rng(seed)
        done = 0
        while done < count:
            size = min(BATCH, count - done)
            self._batch(rng, size, md5_share)
            done += size
            self.stderr.write(f"{done}/{count}")
        with connection.cursor() as cursor:
            # Fresh statistics, or the planner takes the new million rows for a few and joins badly.
            cursor.execute("ANALYZE hashes_hashrecord, cases_case, cases_casehash")
        self.stdout.write(f"Added {count} hash records; the feed now holds {HashRecord.objects.count()}.")

    def _batch(self, rng: np.random.Generator, size: int, md5_share: float) -> None:
        is_md5 = rng.random(size) < md5_share
        raw = rng.integers(0, 256, size=(size, 32), dtype=np.uint8)
        qualities = rng.integers(50, 101, size=size)
        with transaction.atomic():
            # The clock's lock and positions keep the feed's order rule: times rise with positions.
            stamp = feed_stamp_open()
            now = stamp.time.isoformat()
            with connection.cursor() as cursor:
                first_case = self._copy_cases(cursor, size, now)
                first_record = self._copy_records(cursor, raw, is_md5, qualities, stamp, now)
                links = io.StringIO()
                for i in range(size):
                    links.write(f"{first_case + i}\t{first_record + i}\t{now}\n")
                self._copy(cursor, "cases_casehash (case_id, hash_record_id, added_at)", links)
            stamp.close()

    def _copy_cases(self, cursor, size: int, now: str) -> int:
        buffer = io.StringIO()
        for _ in range(size):
            # "!" starts an unusable password hash in Django: no PIN opens these cases.
            buffer.write(
                f"{secrets.token_hex(8).upper()}\t{secrets.token_hex(10)}\t!{secrets.token_hex(8)}\t"
                f"{Case.Status.ACTIVE}\ten\t{now}\t{{}}\t0\t\n"
            )
        # Every NOT NULL column is named: the model's defaults live in Python, not in the table.
        self._copy(
            cursor,
            "cases_case (number, reference, pin_hash, status, language, created_at, declarations, pin_failures,"
            " pin_replay)",
            buffer,
        )
        return self._first_id(cursor, "cases_case", size)

    def _copy_records(self, cursor, raw, is_md5, qualities, stamp, now: str) -> int:
        buffer = io.StringIO()
        for row, md5, quality in zip(raw, is_md5, qualities):
            value = row[:16].tobytes().hex() if md5 else row.tobytes().hex()
            signal_type, q = ("md5", r"\N") if md5 else ("pdq", str(int(quality)))
            buffer.write(f"{signal_type}\t{value}\t{q}\tactive\tnone\t{now}\t{now}\t{stamp.next_seq()}\n")
        self._copy(
            cursor,
            "hashes_hashrecord (signal_type, value, quality, status, review, created_at, modified_at, feed_seq)",
            buffer,
        )
        return self._first_id(cursor, "hashes_hashrecord", len(raw))

    @staticmethod
    def _first_id(cursor, table: str, size: int) -> int:
        # The rows just copied have consecutive ids: every writer of cases and hashes holds the
        # feed clock's lock, which this transaction holds, so nobody else drew from the sequence.
        cursor.execute(f"SELECT max(id) FROM {table}")
        return cursor.fetchone()[0] - size + 1

    @staticmethod
    def _copy(cursor, target: str, buffer: io.StringIO) -> None:
        with cursor.cursor.copy(f"COPY {target} FROM STDIN") as copy:
            copy.write(buffer.getvalue())
