"""PDQ lookups: our index against threatexchange's PDQ indexes and faiss's binary indexes.

    .venv/bin/python benchmarks/match.py            # 1,000,000 hashes, ~6 minutes on 2 cores

Builds two data sets in memory (uniform random hashes; near-duplicates of a few thousand seeds),
indexes each with every contender, runs the same queries through them (copies of indexed hashes
with 0..31 bits flipped, and random hashes that match nothing) at distance 31, and prints one
table per data set. `IndexBinaryFlat` compares the query with every hash, so its answer is the
right one: the "mismatches" column counts queries on which a contender answers differently.
Ratios are the baseline's median over the contender's (above 1: the contender is faster).

Everything runs on one thread (faiss's OpenMP is set to one; our kernel never starts threads), as
in a server process answering one request per thread. Our build time in the first table includes
compiling the search kernel, which a server process does once.
No database or server is involved, except with --http: then the portal is served by gunicorn on
the PostgreSQL database at DATABASE_URL and the same kind of lookups go over HTTP:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/ncii_bench .venv/bin/python benchmarks/match.py --http
"""

import argparse
import ctypes
import gc
import os
import statistics
import sys
import time
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hashes.match_index import DEFAULT_MAX_DISTANCE, PdqIndex, pdq_codes  # noqa: E402

RADIUS = DEFAULT_MAX_DISTANCE
BATCH = 100


# Data --------------------------------------------------------------------------------------------


def uniform(rng, n: int) -> np.ndarray:
    return rng.integers(0, 256, (n, 32), dtype=np.uint8)


def flipped(rng, codes: np.ndarray, flips: np.ndarray) -> np.ndarray:
    """Copies of codes, row i with flips[i] distinct random bits inverted."""
    out = codes.copy()
    for start in range(0, len(codes), 50_000):  # bounded memory: a float per bit per row
        part = slice(start, start + 50_000)
        ranks = np.argsort(rng.random((len(out[part]), 256), dtype=np.float32), axis=1)
        mask = ranks < flips[part, None]  # the first k of a random order: k distinct bits
        out[part] ^= np.packbits(mask, axis=1)
    return out


def clustered(rng, n: int, seeds: int) -> np.ndarray:
    """Near-duplicates: each hash is one of `seeds` random hashes with 1..40 bits flipped."""
    centres = uniform(rng, seeds)
    codes = flipped(rng, centres[rng.integers(0, seeds, n)], rng.integers(1, 41, n))
    # Distinct values, as in the table (a record per distinct hash); a few collide at 1-2 flips.
    unique = np.unique(codes.view(np.dtype((np.void, 32))).ravel())
    return np.frombuffer(unique.tobytes(), dtype=np.uint8).reshape(-1, 32)


def queries_for(rng, codes: np.ndarray, count: int) -> list[str]:
    """Three in four near an indexed hash (0..31 bits away), one in four random."""
    near = count * 3 // 4
    picked = codes[rng.integers(0, len(codes), near)]
    near_codes = flipped(rng, picked, rng.integers(0, RADIUS + 1, near))
    queries = np.concatenate([near_codes, uniform(rng, count - near)])
    return [bytes(row).hex() for row in queries[rng.permutation(count)]]


# Contenders: each builds from (hex values, ids) and answers a list of hex queries with, per query,
# a set of (id, distance). --------------------------------------------------------------------------


class Ours:
    name = "ours: hashes.match_index.PdqIndex"

    def __init__(self, values, codes):
        self.index = PdqIndex(codes, np.arange(len(codes)))

    def search(self, queries):
        return [set(found) for found in self.index.search_codes(pdq_codes(queries), RADIUS)]


class Flat:
    name = "faiss IndexBinaryFlat"

    def __init__(self, values, codes):
        self.index = faiss.IndexBinaryFlat(256)
        self.index.add(codes)

    def search(self, queries):
        limits, distances, labels = self.index.range_search(pdq_codes(queries), RADIUS + 1)
        return [
            set(zip(labels[limits[q]:limits[q + 1]].tolist(), distances[limits[q]:limits[q + 1]].tolist()))
            for q in range(len(queries))
        ]


class FaissMultiHash:
    """faiss's multi-hash index as this project used it before hashes/multi_index.py: 11 chunks of
    23 bits with two flips, the fastest exact layout of those tried (10..16 chunks)."""

    name = "faiss IndexBinaryMultiHash 11x23, 2 flips"

    def __init__(self, values, codes):
        self.index = faiss.IndexBinaryMultiHash(256, 11, 23)
        self.index.nflip = 2
        # It reads each chunk as 8 bytes from the chunk's first byte: past the last code, so pad.
        self.buffer = np.zeros(codes.size + 8, dtype=np.uint8)
        self.buffer[: codes.size] = codes.ravel()
        self.index.add(self.buffer[: codes.size].reshape(codes.shape))

    def search(self, queries):
        codes = pdq_codes(queries)
        padded = np.zeros(codes.size + 8, dtype=np.uint8)
        padded[: codes.size] = codes.ravel()
        limits, distances, labels = self.index.range_search(padded[: codes.size].reshape(codes.shape), RADIUS + 1)
        return [
            set(zip(labels[limits[q]:limits[q + 1]].tolist(), distances[limits[q]:limits[q + 1]].tolist()))
            for q in range(len(queries))
        ]


class ThreatExchange:
    """threatexchange's index API answers one hash per call, as HMA calls it."""

    batch = False

    def __init__(self, values, codes):
        self.index = self.make(values)

    def search(self, queries):
        return [{(m.metadata, m.similarity_info.distance) for m in self.index.query(q)} for q in queries]


class TxPdqIndex(ThreatExchange):
    name = "threatexchange PDQIndex (MultiHash 16x16)"

    @staticmethod
    def make(values):
        from threatexchange.signal_type.pdq.pdq_index import PDQIndex

        return PDQIndex(entries=zip(values, range(len(values))))


class TxPdqIndex2(ThreatExchange):
    name = "threatexchange PDQIndex2"

    @staticmethod
    def make(values):
        from threatexchange.signal_type.pdq.pdq_index2 import PDQIndex2

        return PDQIndex2(entries=zip(values, range(len(values))))


# Measuring ---------------------------------------------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def release_memory() -> None:
    gc.collect()
    # Give freed heap back to the system, so the next build's growth is its own.
    ctypes.CDLL("libc.so.6").malloc_trim(0)


def measure(contender, values, codes, queries, expected, single_count, batch_count) -> dict:
    release_memory()
    before = rss_mb()
    started = time.perf_counter()
    index = contender(values, codes)
    build = time.perf_counter() - started
    memory = rss_mb() - before

    singles, answers = [], []
    for q in queries[:single_count]:
        t = time.perf_counter()
        answers.extend(index.search([q]))
        singles.append(time.perf_counter() - t)
    mismatches = sum(a != e for a, e in zip(answers, expected))
    per_hash = []
    if getattr(index, "batch", True):
        for b in range(batch_count):
            chunk = slice(b * BATCH, (b + 1) * BATCH)
            t = time.perf_counter()
            found = index.search(queries[chunk])
            per_hash.append((time.perf_counter() - t) / BATCH)
            mismatches += sum(a != e for a, e in zip(found, expected[chunk]))
    del index
    release_memory()
    return {
        "build_s": build,
        "memory_mb": memory,
        "single_median_ms": statistics.median(singles) * 1e3,
        "single_p95_ms": float(np.percentile(singles, 95)) * 1e3,
        "batch_ms": statistics.median(per_hash) * 1e3 if per_hash else None,
        "timed": len(singles) + len(per_hash) * BATCH,
        "mismatches": mismatches,
        "matches": sum(map(len, answers)),
    }


def table(title: str, rows: dict[str, dict]) -> str:
    flat = rows[Flat.name]["single_median_ms"]
    tx2 = rows[TxPdqIndex2.name]["single_median_ms"]
    lines = [
        f"### {title}",
        "",
        "| index | build s | memory MB | single median ms | single p95 ms | batch of 100, ms per hash "
        "| × vs IndexBinaryFlat | × vs PDQIndex2 | queries timed | mismatches vs IndexBinaryFlat |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for name, r in rows.items():
        batch = f"{r['batch_ms']:.3f}" if r["batch_ms"] is not None else "n/a (one hash per call)"
        lines.append(
            f"| {name} | {r['build_s']:.1f} | {r['memory_mb']:.0f} | {r['single_median_ms']:.3f} "
            f"| {r['single_p95_ms']:.3f} | {batch} | {flat / r['single_median_ms']:.3g} "
            f"| {tx2 / r['single_median_ms']:.3g} | {r['timed']} | {r['mismatches']} |"
        )
    return "\n".join(lines)


def measure_http(args) -> str:
    """Lookups over HTTP against the portal (gunicorn, 2 workers) on the database at DATABASE_URL.

    The database is filled to --size records (manage.py seed_hashes) if it holds fewer. Queries
    are made from its PDQ hashes as above; every answer is checked against IndexBinaryFlat on the
    same hashes, and the in-process median of our index on the same data is the baseline.
    """
    import threading

    import psycopg
    import requests
    from portal import database_url, prepare, server_env, start_gunicorn

    url = database_url()
    env = server_env(url)
    key = prepare(env, args.size, "match")
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT id, value FROM hashes_hashrecord WHERE signal_type = 'pdq' AND review <> 'held'"
        ).fetchall()
    ids = np.array([record_id for record_id, _value in rows])
    codes = pdq_codes([value for _id, value in rows])
    rng = np.random.default_rng(7)
    queries = queries_for(rng, codes, max(args.queries, args.batches * BATCH))
    expected = [{(int(ids[p]), d) for p, d in found} for found in Flat(None, codes).search(queries)]
    ours = Ours(None, codes)
    in_process = []
    for q in queries[: args.queries]:
        t = time.perf_counter()
        ours.search([q])
        in_process.append(time.perf_counter() - t)
    del ours
    release_memory()

    process, base = start_gunicorn(env)
    try:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key}"

        def lookup(path, body):
            response = session.post(f"{base}/api/v1/{path}", json=body)
            response.raise_for_status()
            return [{(m["record_id"], m["distance"]) for m in r["matches"]} for r in response.json()["results"]]

        # Each worker builds its index as it starts; a lookup waits for it. One request per worker
        # at once, so both are ready before anything is timed.
        warm = [threading.Thread(target=lookup, args=("lookup/", {"signal_type": "pdq", "value": queries[0]}))
                for _ in range(2)]
        for thread in warm:
            thread.start()
        for thread in warm:
            thread.join()
        for q in queries[:50]:
            lookup("lookup/", {"signal_type": "pdq", "value": q})

        singles, mismatches = [], 0
        for q, want in zip(queries[: args.queries], expected):
            t = time.perf_counter()
            got = lookup("lookup/", {"signal_type": "pdq", "value": q})[0]
            singles.append(time.perf_counter() - t)
            mismatches += got != want
        per_hash = []
        for b in range(args.batches):
            chunk = slice(b * BATCH, (b + 1) * BATCH)
            t = time.perf_counter()
            got = lookup("lookups/", {"hashes": [{"signal_type": "pdq", "value": q} for q in queries[chunk]]})
            per_hash.append((time.perf_counter() - t) / BATCH)
            mismatches += sum(g != w for g, w in zip(got, expected[chunk]))
    finally:
        process.terminate()
        process.wait()

    base_ms = statistics.median(in_process) * 1e3
    median_ms = statistics.median(singles) * 1e3
    return "\n".join([
        f"### over HTTP: {len(codes):,} PDQ hashes in PostgreSQL, gunicorn 2 workers",
        "",
        "| lookup | median ms | p95 ms | × vs in-process median | queries | mismatches vs IndexBinaryFlat |",
        "|---|--:|--:|--:|--:|--:|",
        f"| in-process, our index (baseline) | {base_ms:.3f} | {np.percentile(in_process, 95) * 1e3:.3f} "
        f"| 1.00 | {len(in_process)} | n/a |",
        f"| POST /api/v1/lookup/, one hash | {median_ms:.3f} | {np.percentile(singles, 95) * 1e3:.3f} "
        f"| {median_ms / base_ms:.3g} | {len(singles)} | {mismatches} |",
        f"| POST /api/v1/lookups/, 100 hashes, per hash | {statistics.median(per_hash) * 1e3:.3f} | "
        f"{np.percentile(per_hash, 95) * 1e3:.3f} | {statistics.median(per_hash) * 1e3 / base_ms:.3g} "
        f"| {len(per_hash) * BATCH} | (counted above) |",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--seeds", type=int, default=3_000, help="clusters in the clustered data set")
    parser.add_argument("--queries", type=int, default=1_000, help="single lookups timed per fast index")
    parser.add_argument("--slow-queries", type=int, default=30, help="single lookups timed on PDQIndex2")
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--http", action="store_true",
                        help="only measure lookups over HTTP, on the PostgreSQL database at DATABASE_URL")
    args = parser.parse_args()
    if args.http:
        faiss.omp_set_num_threads(1)
        print(measure_http(args))
        return
    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(20261125)

    print(f"# PDQ lookups, {args.size:,} hashes, distance <= {RADIUS}, faiss {faiss.__version__}, 1 thread\n")
    for title, codes in [
        ("uniform random hashes", lambda: uniform(rng, args.size)),
        (f"clustered: near-duplicates of {args.seeds:,} seeds",
         lambda: clustered(rng, args.size, args.seeds)),
    ]:
        codes = codes()
        values = [bytes(row).hex() for row in codes]
        queries = queries_for(rng, codes, max(args.queries, args.batches * BATCH))
        expected = Flat(values, codes).search(queries)  # the right answers
        rows = {}
        for contender in (Ours, Flat, FaissMultiHash, TxPdqIndex, TxPdqIndex2):
            singles = args.slow_queries if contender is TxPdqIndex2 else args.queries
            rows[contender.name] = measure(contender, values, codes, queries, expected, singles, args.batches)
            print(f"  measured {contender.name}", file=sys.stderr, flush=True)
        found = sum(1 for e in expected[: args.queries] if e)
        print(table(f"{title}: {len(codes):,} hashes", rows))
        print(f"\n{found} of {args.queries} timed queries have a match within {RADIUS}; "
              f"{sum(map(len, expected[: args.queries])):,} matches in all.\n")


if __name__ == "__main__":
    main()
