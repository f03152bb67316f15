import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import faiss
import numpy as np
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.services import case_create, case_withdraw
from hashes import match_index
from hashes.feed_clock import feed_stamp_open
from hashes.match_index import (
    MatchIndexCache,
    PdqIndex,
    pdq_codes,
    pdq_index,
)
from hashes.models import HashRecord
from hashes.services import hash_records_purge_withdrawn, hash_records_upsert
from hashes.signal_types import NormalisedHash

# Both ways our index answers: faiss's flat scan (small indexes) and our multi-index (large ones),
# forced here on small data so that each is checked against the reference.
KINDS = {"flat": 10**12, "multi_index": 0}


def random_codes(rng, n: int) -> np.ndarray:
    return rng.integers(0, 256, (n, 32), dtype=np.uint8)


def flip(code: np.ndarray, bits) -> np.ndarray:
    """A copy of a code with these bits (0..255, LSB first within each byte) inverted."""
    out = code.copy()
    for bit in bits:
        out[bit // 8] ^= 1 << (bit % 8)
    return out


def flip_random(rng, code: np.ndarray, k: int) -> np.ndarray:
    return flip(code, rng.choice(256, k, replace=False))


def reference(codes: np.ndarray, ids: np.ndarray, queries: np.ndarray, max_distance: int) -> list[set]:
    """What faiss's exhaustive IndexBinaryFlat finds: the definition of a right answer."""
    flat = faiss.IndexBinaryFlat(256)
    flat.add(codes)
    limits, distances, labels = flat.range_search(queries, max_distance + 1)
    found = [slice(limits[q], limits[q + 1]) for q in range(len(queries))]
    return [{(int(ids[label]), int(d)) for label, d in zip(labels[f], distances[f])} for f in found]


def as_sets(results) -> list[set]:
    sets = [set(matches) for matches in results]
    assert list(map(len, sets)) == list(map(len, results)), "a record reported twice for one query"
    return sets


def to_hex(codes: np.ndarray) -> list[str]:
    return [bytes(row).hex() for row in codes]


def queries_near(rng, codes: np.ndarray, count: int, max_flips: int = 40) -> np.ndarray:
    """Perturbed copies of indexed codes at distances 0..max_flips, and codes that match nothing."""
    picked = codes[rng.choice(len(codes), count)]
    near = [flip_random(rng, c, int(k)) for c, k in zip(picked, rng.integers(0, max_flips + 1, count))]
    return np.concatenate([np.array(near), random_codes(rng, count // 4)])


def clustered(rng, seeds: int, per_seed: int) -> np.ndarray:
    """Near-duplicates: each seed with copies at k flipped bits for k in 0..40."""
    centres = random_codes(rng, seeds)
    members = [flip_random(rng, c, k % 41) for c in centres for k in range(per_seed)]
    return np.unique(np.array(members), axis=0)  # distinct values, as in the table


def record_ids(rng, n: int) -> np.ndarray:
    # Sparse and shuffled, as ids are after deletions: positions must not pass for ids.
    return rng.choice(10 * n, n, replace=False).astype(np.int64) + 1


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("max_distance", [0, 8, 31, 32, 40, 64])
def test_random_data_gives_what_the_flat_index_gives(kind, max_distance):
    rng = np.random.default_rng(max_distance)
    codes = random_codes(rng, 20_000)
    ids = record_ids(rng, len(codes))
    queries = queries_near(rng, codes, 300, max_flips=max_distance + 8)
    index = PdqIndex(codes, ids, multi_index_min_size=KINDS[kind])

    expected = reference(codes, ids, queries, max_distance)
    assert as_sets(index.search_codes(queries, max_distance)) == expected
    assert sum(1 for found in expected if found) >= 20  # the queries did find things


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("max_distance", [31, 32, 48])
def test_clustered_data_gives_what_the_flat_index_gives(kind, max_distance):
    rng = np.random.default_rng(7)
    codes = clustered(rng, seeds=60, per_seed=200)
    ids = record_ids(rng, len(codes))
    queries = queries_near(rng, codes, 200)
    index = PdqIndex(codes, ids, multi_index_min_size=KINDS[kind])

    expected = reference(codes, ids, queries, max_distance)
    assert as_sets(index.search_codes(queries, max_distance)) == expected
    assert max(map(len, expected)) > 50  # queries landed inside clusters


@pytest.mark.parametrize("distance", range(0, 32))
def test_multi_index_finds_flips_spread_as_evenly_as_possible(distance):
    # The hardest case for the pigeonhole argument: flips dealt round-robin over the 16 chunks of
    # 16 bits (chunk c is bytes 2c and 2c+1), so no chunk is left with fewer than the others.
    chunks = [range(16 * c, 16 * c + 16) for c in range(16)]
    bits = [chunk[i] for i in range(16) for chunk in chunks][:distance]
    rng = np.random.default_rng(distance)
    codes = random_codes(rng, 1000)
    index = PdqIndex(codes, np.arange(1000), multi_index_min_size=0)

    query = flip(codes[0], bits)
    assert (0, distance) in as_sets(index.search_codes(query[None], distance))[0]
    assert (0, distance) in as_sets(index.search_codes(query[None], 31))[0]


def test_more_matches_than_the_kernel_first_makes_room_for():
    rng = np.random.default_rng(11)
    query = random_codes(rng, 1)[0]
    codes = np.unique(np.array([flip_random(rng, query, k % 30) for k in range(6000)]), axis=0)
    index = PdqIndex(codes, np.arange(len(codes)), multi_index_min_size=0)

    found = as_sets(index.search_codes(query[None], 31))[0]
    assert found == reference(codes, np.arange(len(codes)), query[None], 31)[0]
    assert len(found) > 5000


@pytest.mark.parametrize("kind", KINDS)
def test_a_hash_31_bits_away_matches_and_one_32_away_does_not(kind):
    rng = np.random.default_rng(1)
    query = random_codes(rng, 1)[0]
    codes = np.array([flip(query, range(31)), flip(query, range(100, 132))])
    codes = np.concatenate([codes, random_codes(rng, 500)])
    index = PdqIndex(codes, np.arange(502), multi_index_min_size=KINDS[kind])

    assert index.search_codes(query[None])[0] == [(0, 31)]
    assert index.search_codes(query[None], 32)[0] == [(0, 31), (1, 32)]
    assert index.search_codes(query[None], 30)[0] == []


@pytest.mark.parametrize("kind", KINDS)
def test_a_batch_answers_as_the_single_lookups_do(kind):
    rng = np.random.default_rng(2)
    codes = clustered(rng, seeds=20, per_seed=100)
    index = PdqIndex(codes, record_ids(rng, len(codes)), multi_index_min_size=KINDS[kind])
    queries = queries_near(rng, codes, 80)

    batch = index.search_codes(queries)
    assert batch == [index.search_codes(q[None])[0] for q in queries]
    assert len(batch) == len(queries)
    for matches in batch:  # nearest first, then by id
        assert matches == sorted(matches, key=lambda m: (m[1], m[0]))


def test_threads_searching_at_once_get_what_one_thread_gets():
    # The multi-index kernel releases the GIL, so server threads search it truly in parallel.
    rng = np.random.default_rng(12)
    codes = clustered(rng, seeds=30, per_seed=150)
    index = PdqIndex(codes, record_ids(rng, len(codes)), multi_index_min_size=0)
    batches = [queries_near(rng, codes, 40) for _ in range(8)]
    expected = [index.search_codes(batch) for batch in batches]

    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(5):
            assert list(pool.map(index.search_codes, batches)) == expected


def test_an_empty_index_finds_nothing():
    index = PdqIndex.empty()
    assert index.search_codes(random_codes(np.random.default_rng(3), 3)) == [[], [], []]
    assert not index.contains(np.array([1])).any()


def test_hex_digit_order_is_byte_order():
    value = "80" + "00" * 31  # the first bit of the hash set, nothing else
    assert pdq_codes([value])[0][0] == 0x80
    index = PdqIndex.from_hex([value], [5])
    assert index.search_codes(pdq_codes(["00" * 32]), 1)[0] == [(5, 1)]


@pytest.mark.parametrize("bad", ["ab" * 31, "ab" * 33, "zz" * 32])
def test_malformed_hashes_are_refused(bad):
    with pytest.raises(ValueError):
        pdq_codes([bad])


@pytest.mark.parametrize("distance", [-1, 257, 3.5])
def test_impossible_distances_are_refused(distance):
    with pytest.raises(ValueError):
        PdqIndex.empty().search_codes(pdq_codes(["00" * 32]), distance)


def test_ids_must_be_unique():
    with pytest.raises(ValueError):
        PdqIndex(random_codes(np.random.default_rng(4), 2), np.array([1, 1]))


# Kept in step with the database ---------------------------------------------------------------


def random_pdq(rng) -> str:
    return bytes(random_codes(rng, 1)[0]).hex()


def upsert(*values: str) -> list[HashRecord]:
    """Write records as the services do: under the feed clock, stamped with new feed positions."""
    with transaction.atomic():
        stamp = feed_stamp_open()
        records = hash_records_upsert(hashes=[NormalisedHash("pdq", v, 90) for v in values], stamp=stamp)
        stamp.close()
    return records


@pytest.fixture
def fresh_process_index(monkeypatch):
    """Start with no process-wide index, as a new server process does, and leave none behind.

    Tests roll their writes back, feed positions included, so an index kept from another test
    would have read past positions that this test's records reuse.
    """
    monkeypatch.setattr(match_index, "_cache", None)
    monkeypatch.setattr(match_index, "_cache_pid", None)


@pytest.fixture(params=KINDS)
def index_kind(request, monkeypatch):
    """Each process index built as flat scans, then again with the multi-index for any size."""
    monkeypatch.setattr(match_index, "MULTI_INDEX_MIN_SIZE", KINDS[request.param])
    return request.param


@pytest.mark.django_db
def test_a_sync_finds_new_records(settings, index_kind):
    settings.MATCH_INDEX_SYNC_SECONDS = 0
    rng = np.random.default_rng(10)
    first = upsert(random_pdq(rng))[0]
    cache = MatchIndexCache()
    assert cache.search_one(first.value) == [(first.id, 0)]
    assert (cache._snapshot.main._multi is not None) == (index_kind == "multi_index")  # the kind asked for

    second = upsert(random_pdq(rng))[0]
    assert cache.search_one(second.value) == [(second.id, 0)]
    assert len(cache) == 2


@pytest.mark.django_db
def test_lookups_do_not_query_the_database_between_syncs(settings, django_assert_num_queries):
    settings.MATCH_INDEX_SYNC_SECONDS = 3600
    rng = np.random.default_rng(11)
    cache = MatchIndexCache()
    cache.sync()
    record = upsert(random_pdq(rng))[0]

    with django_assert_num_queries(0):
        assert cache.search_one(record.value) == []  # not synced yet
    cache.sync()
    assert cache.search_one(record.value) == [(record.id, 0)]


@pytest.mark.django_db
def test_a_changed_record_is_indexed_once(settings, index_kind):
    settings.MATCH_INDEX_SYNC_SECONDS = 0
    rng = np.random.default_rng(12)
    value = random_pdq(rng)
    new_case = case_create(hashes=[{"signal_type": "pdq", "value": value, "quality": 90}], language="en")
    cache = MatchIndexCache()
    record_id = HashRecord.objects.get(value=value).id
    assert cache.search_one(value) == [(record_id, 0)]

    # Withdrawn, then submitted again: each change gives the record a higher feed position.
    seq = HashRecord.objects.get(value=value).feed_seq
    case_withdraw(case=new_case.case)
    assert cache.search_one(value) == [(record_id, 0)]
    upsert(value)
    assert HashRecord.objects.get(value=value).feed_seq > seq + 1
    assert cache.search_one(value) == [(record_id, 0)]
    assert len(cache) == 1


@pytest.mark.django_db
def test_the_sync_queries_are_index_scans(settings):
    settings.MATCH_INDEX_SYNC_SECONDS = 0
    cache = MatchIndexCache()
    cache.sync()
    with CaptureQueriesContext(connection) as queries:
        cache.sync()
    assert len(queries) == 3  # the newest feed_seq, the records past the last one, the check again
    with connection.cursor() as cursor:
        # A small test table is cheaper to scan than to look up: ask whether an index can serve.
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in queries:
            cursor.execute("EXPLAIN " + query["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "feed_seq" in plan and "Index" in plan and "Sort" not in plan, plan


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_after_a_purge_drops_the_deleted_ids(settings, index_kind):
    settings.MATCH_INDEX_SYNC_SECONDS = 0
    settings.MATCH_INDEX_PURGE_CHECK_SECONDS = 0
    rng = np.random.default_rng(13)
    kept, purged = random_pdq(rng), random_pdq(rng)
    case_create(hashes=[{"signal_type": "pdq", "value": kept, "quality": 90}], language="en")
    gone = case_create(hashes=[{"signal_type": "pdq", "value": purged, "quality": 90}], language="en")
    cache = MatchIndexCache()
    assert len(cache) == 2
    purged_id = HashRecord.objects.get(value=purged).id

    case_withdraw(case=gone.case)
    assert hash_records_purge_withdrawn(withdrawn_before=timezone.now() + timedelta(seconds=1)) == 1
    # This lookup's sync counts fewer records than it indexed and starts a rebuild. Until it is
    # swapped in, the purged id may still match: callers re-read matched ids from the table.
    assert cache.search_one(purged) in ([], [(purged_id, 0)])
    cache.wait_for_rebuild(timeout=30)

    assert cache.search_one(purged) == []
    assert cache.search_one(kept) == [(HashRecord.objects.get(value=kept).id, 0)]
    assert len(cache) == 1


@pytest.mark.django_db
def test_a_case_is_found_by_the_process_index_within_the_sync_interval(settings, fresh_process_index):
    settings.MATCH_INDEX_SYNC_SECONDS = 0.2
    rng = np.random.default_rng(14)
    value = random_pdq(rng)
    near = bytes(flip_random(rng, pdq_codes([value])[0], 12)).hex()
    assert pdq_index().search_one(near) == []  # built before the case exists

    case_create(hashes=[{"signal_type": "pdq", "value": value, "quality": 90}], language="en")
    created = time.monotonic()
    record = HashRecord.objects.get(signal_type="pdq", value=value)
    while not (matches := pdq_index().search_one(near)) and time.monotonic() - created < 1:
        time.sleep(0.02)
    assert matches == [(record.id, 12)]
    assert time.monotonic() - created <= 0.2 + 0.5  # the interval, and slack for a loaded machine
    assert pdq_index() is pdq_index()
