"""Exact PDQ lookups: which hash records lie within a Hamming distance of a query hash.

`PdqIndex` is an immutable index of PDQ codes with record ids. `MatchIndexCache` keeps one per
server process in step with the `HashRecord` table, and `pdq_index()` returns this process's.

Which index answers (figures from `benchmarks/match.py` on the project's 2-core machine, a million
hashes, distance 31; docs/benchmarks.md has them all):
- Up to distance 31, once there are `MULTI_INDEX_MIN_SIZE` codes: our multi-index hashing
  (hashes/multi_index.py, which says why it is ours and not faiss's `IndexBinaryMultiHash`):
  ~0.06-0.09 ms a lookup, 0.04-0.07 ms a hash in batches of 100, ~350 MB, built in ~1-3 s.
- Otherwise faiss's `IndexBinaryFlat`, which compares the query with every code: exact for any
  radius, 32 bytes a code, ~1 µs per thousand codes a lookup. Fast enough for small indexes and
  for the new records since the last build; and radii above 31 would need two flipped bits per
  chunk in the multi-index, which costs more than this scan.
- Not `IndexBinaryHash` or `IndexBinaryIVF`: they are only exact when they visit nearly
  everything, because uniform random 256-bit codes are all ~128 bits apart.
"""

import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import faiss
import numpy as np
from django.conf import settings
from django.db import connections

from .multi_index import MAX_DISTANCE as MULTI_INDEX_MAX_DISTANCE
from .multi_index import MultiIndex

logger = logging.getLogger(__name__)

PDQ_BITS = 256
PDQ_BYTES = PDQ_BITS // 8
DEFAULT_MAX_DISTANCE = 31  # PDQ's usual match threshold

# Below this many codes the flat scan costs under ~50 µs and builds in no time.
MULTI_INDEX_MIN_SIZE = 50_000

# New records go to a small flat "delta" index beside the big one; past this size the whole index
# is rebuilt in the background, because a flat scan of the delta costs ~1 µs per thousand codes.
DELTA_MAX_SIZE = 20_000


# (record id, distance). A plain tuple, not a NamedTuple: building a NamedTuple costs ~0.6 µs in
# Python, and a batch of lookups in clustered data can return thousands of matches.
Match = tuple[int, int]


def pdq_codes(values: Sequence[str]) -> np.ndarray:
    """Turn PDQ hex strings into binary codes (as faiss takes them), one row of 32 bytes each.

    Hex digit order is byte order, so the first (most significant) bit of the hash is the top bit
    of byte 0. Bit order within bytes does not matter to a Hamming distance.
    """
    if any(len(v) != 2 * PDQ_BYTES for v in values):
        raise ValueError("a PDQ hash is 64 hex digits")
    raw = bytes.fromhex("".join(values))  # raises ValueError on a non-hex digit
    return np.frombuffer(raw, dtype=np.uint8).reshape(len(values), PDQ_BYTES)


class PdqIndex:
    """An immutable set of PDQ codes with record ids, answering exact Hamming range queries.

    Immutable so that any number of threads can search it with no lock: faiss indexes and our
    multi-index are safe to read concurrently but not while something is added.
    """

    def __init__(self, codes: np.ndarray, ids: np.ndarray, *, multi_index_min_size: int | None = None):
        codes = np.ascontiguousarray(codes, dtype=np.uint8).reshape(-1, PDQ_BYTES)
        ids = np.asarray(ids, dtype=np.int64)
        if len(codes) != len(ids):
            raise ValueError("one id per code")
        # Kept sorted by id so that membership (for the incremental sync) is a binary search.
        order = np.argsort(ids, kind="stable")
        self.codes = codes[order]
        self.ids = ids[order]
        self.codes.flags.writeable = self.ids.flags.writeable = False
        if len(self.ids) > 1 and not (np.diff(self.ids) > 0).all():
            raise ValueError("record ids must be unique")

        self._flat = faiss.IndexBinaryFlat(PDQ_BITS)
        self._flat.add(self.codes)
        if multi_index_min_size is None:
            multi_index_min_size = MULTI_INDEX_MIN_SIZE
        self._multi = MultiIndex(self.codes) if len(self.codes) >= multi_index_min_size else None

    @classmethod
    def from_hex(cls, values: Sequence[str], ids: Sequence[int], **kwargs) -> "PdqIndex":
        return cls(pdq_codes(values), np.asarray(ids, dtype=np.int64), **kwargs)

    @classmethod
    def empty(cls) -> "PdqIndex":
        return cls(np.empty((0, PDQ_BYTES), dtype=np.uint8), np.empty(0, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.ids)

    def contains(self, ids: np.ndarray) -> np.ndarray:
        """For each id, whether it is in the index."""
        ids = np.asarray(ids, dtype=np.int64)
        if not len(self.ids):
            return np.zeros(len(ids), dtype=bool)
        at = np.minimum(np.searchsorted(self.ids, ids), len(self.ids) - 1)
        return self.ids[at] == ids

    def search_codes(
        self, queries: np.ndarray, max_distance: int = DEFAULT_MAX_DISTANCE
    ) -> list[list[Match]]:
        """All (record id, distance) within max_distance of each query, nearest first, then by id."""
        check_distance(max_distance)
        queries = np.ascontiguousarray(queries, dtype=np.uint8).reshape(-1, PDQ_BYTES)
        if not len(self.ids) or not len(queries):
            return [[] for _ in range(len(queries))]
        if self._multi is not None and max_distance <= MULTI_INDEX_MAX_DISTANCE:
            query, positions, distances = self._multi.search(queries, max_distance)
        else:
            # faiss keeps distances strictly below the radius it is given.
            limits, distances, positions = self._flat.range_search(queries, max_distance + 1)
            query = np.repeat(np.arange(len(queries)), np.diff(limits).astype(np.int64))
        # One sort of one key: by query, then distance, then position, which is id order (the
        # codes are kept sorted by id). Bits: position 0-31, distance 32-40, query 41-62.
        key = (query.astype(np.int64) << 41) | (distances.astype(np.int64) << 32) | positions
        key.sort()
        bounds = np.searchsorted(key, np.arange(len(queries) + 1, dtype=np.int64) << 41).tolist()
        ids = self.ids[key & 0xFFFFFFFF].tolist()
        distances = ((key >> 32) & 0x1FF).tolist()
        return [list(zip(ids[start:end], distances[start:end])) for start, end in zip(bounds, bounds[1:])]


def check_distance(max_distance: int) -> None:
    if not isinstance(max_distance, (int, np.integer)) or not 0 <= max_distance <= PDQ_BITS:
        raise ValueError(f"max_distance must be an integer from 0 to {PDQ_BITS}")


@dataclass(frozen=True)
class _Snapshot:
    """What the lookups of one moment see: replaced whole, never changed, so readers need no lock."""

    main: PdqIndex
    delta: PdqIndex  # records that arrived since `main` was built
    last_seq: int  # every pdq record with feed_seq <= last_seq is in main or delta

    def __len__(self) -> int:
        return len(self.main) + len(self.delta)

    def search(self, queries: np.ndarray, max_distance: int) -> list[list[Match]]:
        results = self.main.search_codes(queries, max_distance)
        if len(self.delta):
            # main and delta hold different ids (the sync adds only ids not yet indexed).
            for merged, more in zip(results, self.delta.search_codes(queries, max_distance)):
                if more:
                    merged.extend(more)
                    merged.sort(key=lambda m: (m[1], m[0]))
        return results


class MatchIndexCache:
    """The PDQ index of one server process, kept in step with the HashRecord table.

    Lookups sync lazily: when `MATCH_INDEX_SYNC_SECONDS` have passed, the thread that notices
    reads the records whose feed_seq is above the last one seen (an index-range scan on the unique
    feed_seq) and adds the new ones to a small delta index; other threads meanwhile answer from the
    current snapshot. So a lookup sees every change committed a sync interval before it. The feed
    clock (hashes/feed_clock.py) makes commit order and feed_seq order the same, so a change can
    never commit below a feed_seq already read.

    A full rebuild (of the whole table, in a background thread, then swapped in) happens when the
    delta grows past DELTA_MAX_SIZE, and when a count every `MATCH_INDEX_PURGE_CHECK_SECONDS`
    finds fewer pdq records in the table than in the index: the retention purge deleted some. Ids
    of deleted records are harmless until then (callers re-read matched ids from the database),
    but would otherwise pile up.
    """

    def __init__(self) -> None:
        self._snapshot: _Snapshot | None = None
        self._lock = threading.Lock()  # one sync or swap at a time; lookups never wait for it
        self._next_sync = 0.0
        self._next_purge_check = 0.0
        self._rebuild_thread: threading.Thread | None = None

    # Lookups ---------------------------------------------------------------------------------

    def search(self, queries: Sequence[str], max_distance: int = DEFAULT_MAX_DISTANCE) -> list[list[Match]]:
        """Matches for each PDQ hex string, in order: [(record_id, distance)], nearest first."""
        codes = pdq_codes(queries)
        check_distance(max_distance)
        return self._current().search(codes, max_distance)

    def search_one(self, query: str, max_distance: int = DEFAULT_MAX_DISTANCE) -> list[Match]:
        return self.search([query], max_distance)[0]

    def __len__(self) -> int:
        return len(self._current())

    # Keeping in step -------------------------------------------------------------------------

    def _current(self) -> _Snapshot:
        snapshot = self._snapshot
        if snapshot is None:
            # Nothing to answer from yet, and an empty answer would be a wrong one: wait.
            with self._lock:
                if self._snapshot is None:
                    self._swap_in(self._build())
                return self._snapshot
        if time.monotonic() >= self._next_sync and self._lock.acquire(blocking=False):
            try:
                if time.monotonic() >= self._next_sync:
                    self._sync_locked()
                snapshot = self._snapshot
            finally:
                self._lock.release()
        return snapshot

    def sync(self) -> None:
        """Catch up with the table now (waiting for a sync in progress), rather than when due."""
        with self._lock:
            if self._snapshot is None:
                self._swap_in(self._build())
            else:
                self._sync_locked()

    def warm_up(self) -> threading.Thread:
        """Build the index in the background, e.g. when a server process starts."""
        thread = threading.Thread(target=self._run_closing_connections, args=(self.sync,), daemon=True)
        thread.start()
        return thread

    def _sync_locked(self) -> None:
        snapshot = self._caught_up(self._snapshot)
        self._snapshot = snapshot
        now = time.monotonic()
        self._next_sync = now + _setting("MATCH_INDEX_SYNC_SECONDS", 2)
        if len(snapshot.delta) > DELTA_MAX_SIZE:
            self._start_rebuild()
        elif _newest_seq() < snapshot.last_seq:
            # The table went back in time (restored from a backup): what we read may be gone and
            # new records may reuse feed_seqs we have passed. Only a full read is right.
            logger.warning("feed_seq went down; rebuilding the PDQ index")
            self._start_rebuild()
        elif now >= self._next_purge_check:
            self._next_purge_check = now + _setting("MATCH_INDEX_PURGE_CHECK_SECONDS", 300)
            # Every live record is indexed, so fewer in the table means some were deleted.
            if _pdq_records().count() < len(snapshot):
                self._start_rebuild()

    def _caught_up(self, snapshot: _Snapshot) -> _Snapshot:
        """The snapshot plus the pdq records changed since its last_seq, read in bounded chunks."""
        while True:
            # Read the newest feed_seq first: the feed clock commits in feed_seq order, so every
            # record at or below it is visible to the next statement. Moving last_seq up to it even
            # when no pdq record changed keeps the next scan short while only MD5s arrive.
            newest = _newest_seq()
            rows = list(
                _pdq_records()
                .filter(feed_seq__gt=snapshot.last_seq, feed_seq__lte=newest)
                .order_by("feed_seq")
                .values_list("id", "value", "feed_seq")[:DELTA_MAX_SIZE]
            )
            complete = len(rows) < DELTA_MAX_SIZE
            delta = snapshot.delta
            if rows:
                ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
                # A record that changed comes back with a higher feed_seq; its value never changes.
                new = ~(snapshot.main.contains(ids) | delta.contains(ids))
                if new.any():
                    values = [r[1] for r, is_new in zip(rows, new) if is_new]
                    delta = PdqIndex(
                        np.concatenate([delta.codes, pdq_codes(values)]),
                        np.concatenate([delta.ids, ids[new]]),
                    )
            last_seq = newest if complete else rows[-1][2]
            snapshot = _Snapshot(main=snapshot.main, delta=delta, last_seq=max(last_seq, snapshot.last_seq))
            if complete or len(delta) > DELTA_MAX_SIZE:
                # Done, or a bulk load: the background rebuild reads the rest faster.
                return snapshot

    def _build(self) -> _Snapshot:
        """Index every pdq record."""
        # Everything at or below this feed_seq has committed (see _caught_up), so the read below
        # sees it; records changed later are read again by the next sync and skipped by id.
        last_seq = _newest_seq()
        ids: list[np.ndarray] = []
        codes: list[np.ndarray] = []
        # A server-side cursor streams the rows rather than holding a million tuples at once.
        rows = _pdq_records().order_by().values_list("id", "value").iterator(chunk_size=_READ_CHUNK)
        for chunk in _chunked(rows, _READ_CHUNK):
            ids.append(np.fromiter((r[0] for r in chunk), dtype=np.int64, count=len(chunk)))
            codes.append(pdq_codes([r[1] for r in chunk]))
        main = PdqIndex(
            np.concatenate(codes) if codes else np.empty((0, PDQ_BYTES), dtype=np.uint8),
            np.concatenate(ids) if ids else np.empty(0, dtype=np.int64),
        )
        return _Snapshot(main=main, delta=PdqIndex.empty(), last_seq=last_seq)

    def _swap_in(self, snapshot: _Snapshot) -> None:
        self._snapshot = snapshot
        now = time.monotonic()
        self._next_sync = now + _setting("MATCH_INDEX_SYNC_SECONDS", 2)
        self._next_purge_check = now + _setting("MATCH_INDEX_PURGE_CHECK_SECONDS", 300)

    def _start_rebuild(self) -> None:
        if self._rebuild_thread is not None and self._rebuild_thread.is_alive():
            return
        self._rebuild_thread = threading.Thread(
            target=self._run_closing_connections, args=(self._rebuild,), name="pdq-index-rebuild", daemon=True
        )
        self._rebuild_thread.start()

    def _rebuild(self) -> None:
        started = time.monotonic()
        fresh = self._build()  # long, and done without the lock: lookups go on meanwhile
        with self._lock:
            # Syncs went on meanwhile: catch up so the swap never goes back in time.
            self._swap_in(self._caught_up(fresh))
        logger.info("PDQ index rebuilt: %d hashes in %.1f s", len(fresh), time.monotonic() - started)

    def wait_for_rebuild(self, timeout: float | None = None) -> None:
        thread = self._rebuild_thread
        if thread is not None:
            thread.join(timeout)

    @staticmethod
    def _run_closing_connections(work) -> None:
        try:
            work()
        except Exception:
            logger.exception("PDQ index build failed; lookups keep the previous index")
        finally:
            # Django opens a connection per thread; this thread's would otherwise stay open.
            connections.close_all()


_READ_CHUNK = 50_000


def _chunked(rows, size: int):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _newest_seq() -> int:
    from .models import HashRecord

    # A backward scan of the unique feed_seq index: one row.
    return HashRecord.objects.order_by("-feed_seq").values_list("feed_seq", flat=True).first() or 0


def _pdq_records():
    from .models import HashRecord  # not at import time: this module must load without apps ready

    return HashRecord.objects.filter(signal_type="pdq")


def _setting(name: str, default: float) -> float:
    return getattr(settings, name, default)


_cache: MatchIndexCache | None = None
_cache_pid: int | None = None
_cache_lock = threading.Lock()


def pdq_index() -> MatchIndexCache:
    """This process's PDQ match index.

    Per process id: a forked worker must not share its parent's locks or threads.
    """
    global _cache, _cache_pid
    pid = os.getpid()
    if _cache_pid != pid:
        with _cache_lock:
            if _cache_pid != pid:
                _cache, _cache_pid = MatchIndexCache(), pid
    return _cache
