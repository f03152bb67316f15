"""Exact PDQ lookups: which hash records lie within a Hamming distance of a query hash.

`PdqIndex` is an immutable faiss index of PDQ codes with record ids. `MatchIndexCache` keeps one
per server process in step with the `HashRecord` table, and `pdq_index()` returns this process's.

Choice of faiss index (measured on the project's 2-core machine with 1,000,000 uniform random
hashes at distance 31; `benchmarks/match.py` and docs/benchmarks.md have the figures):
- `IndexBinaryFlat` compares the query with every code: exact, 32 MB, built in 0.1 s, and its cost
  grows with the size, about 1 µs per thousand codes, so 1-1.5 ms per lookup at a million.
- `IndexBinaryMultiHash` cuts each code into `nhash` chunks of `b` bits, looks up every chunk value
  within `nflip` flipped bits of the query's in one hash table per chunk, and verifies the
  candidates with their true distance. It is exact by the pigeonhole principle: if every chunk
  differed in more than `nflip` bits the distance would be at least `nhash * (nflip + 1)`, so all
  hashes within `nhash * (nflip + 1) - 1` are found. 16 chunks of 16 bits with one flip (as
  threatexchange's PDQIndex uses it) is exact to 31 but leaves ~4,000 candidates per query: no
  faster than the flat scan. 11 chunks of 23 bits with two flips (exact to 32) makes ~3,000 table
  lookups and ~400 candidates: ~0.4 ms, the fastest of those measured (10..16 chunks), at the price
  of ~950 MB and ~12 s to build a million. Its cost barely depends on size, so below ~300,000
  codes the flat scan wins and is used instead.
- `IndexBinaryHash` (one table) and `IndexBinaryIVF` (clusters) are only exact when they visit
  nearly everything: uniform random 256-bit codes are all ~128 bits apart, so nothing can be
  pruned safely.
Radii above 32 would need three flips (~22,000 lookups, slower than a scan), so they are answered
from the multi-hash index's own flat storage: exact for any radius, at no extra memory.
"""

import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import faiss
import numpy as np
from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

PDQ_BITS = 256
PDQ_BYTES = PDQ_BITS // 8
DEFAULT_MAX_DISTANCE = 31  # PDQ's usual match threshold

MULTIHASH_CHUNKS = 11
MULTIHASH_CHUNK_BITS = 23  # 11 * 23 = 253 bits: the 3 bits left out only make the filter looser
MULTIHASH_FLIPS = 2
# Exact up to here (see the module docstring); larger radii use the flat storage.
MULTIHASH_MAX_DISTANCE = MULTIHASH_CHUNKS * (MULTIHASH_FLIPS + 1) - 1
# Below this many codes a flat scan is faster than the multi-hash tables (measured crossover).
MULTIHASH_MIN_SIZE = 300_000

# New records go to a small flat "delta" index beside the big one; past this size the whole index
# is rebuilt in the background, because a flat scan of the delta costs ~1 µs per thousand codes.
DELTA_MAX_SIZE = 20_000


class Match(NamedTuple):
    record_id: int
    distance: int


def pdq_codes(values: Sequence[str]) -> np.ndarray:
    """Turn PDQ hex strings into faiss binary codes, one row of 32 bytes each.

    Hex digit order is byte order, so the first (most significant) bit of the hash is the top bit
    of byte 0. Bit order within bytes does not matter to a Hamming distance.
    """
    if any(len(v) != 2 * PDQ_BYTES for v in values):
        raise ValueError("a PDQ hash is 64 hex digits")
    raw = bytes.fromhex("".join(values))  # raises ValueError on a non-hex digit
    return np.frombuffer(raw, dtype=np.uint8).reshape(len(values), PDQ_BYTES)


class PdqIndex:
    """An immutable set of PDQ codes with record ids, answering exact Hamming range queries.

    Immutable so that any number of threads can search it with no lock: faiss indexes are safe
    to read concurrently but not while something is added.
    """

    def __init__(self, codes: np.ndarray, ids: np.ndarray, *, multihash_min_size: int = MULTIHASH_MIN_SIZE):
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

        self._multihash = None
        if len(self.codes) >= multihash_min_size:
            self._multihash = faiss.IndexBinaryMultiHash(PDQ_BITS, MULTIHASH_CHUNKS, MULTIHASH_CHUNK_BITS)
            # Fixed for life: nflip is a field of the shared index, so setting it per query would
            # race between threads. Two flips stay exact for every radius this index answers.
            self._multihash.nflip = MULTIHASH_FLIPS
            self._multihash.add(_padded(self.codes))
            self._flat = self._multihash.storage  # owned by the multi-hash index, which we keep
        else:
            self._flat = faiss.IndexBinaryFlat(PDQ_BITS)
            self._flat.add(self.codes)

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
        use_multihash = self._multihash is not None and max_distance <= MULTIHASH_MAX_DISTANCE
        index = self._multihash if use_multihash else self._flat
        # faiss keeps distances strictly below the radius it is given.
        limits, distances, positions = index.range_search(_padded(queries), max_distance + 1)
        results = []
        for q in range(len(queries)):
            found = slice(limits[q], limits[q + 1])
            ids, dist = self.ids[positions[found]], distances[found]
            order = np.lexsort((ids, dist))
            results.append([Match(int(i), int(d)) for i, d in zip(ids[order], dist[order])])
        return results


def _padded(codes: np.ndarray) -> np.ndarray:
    """The same codes in a buffer with 8 spare bytes after the last one.

    IndexBinaryMultiHash reads each chunk as 8 bytes from the chunk's first byte, so for the last
    chunk it reads past the end of the code: harmless inside an array, but past the last row it
    would read memory that is not ours.
    """
    buffer = np.zeros(codes.size + 8, dtype=np.uint8)
    buffer[: codes.size] = codes.ravel()
    return buffer[: codes.size].reshape(codes.shape)


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
                    merged.sort(key=lambda m: (m.distance, m.record_id))
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
