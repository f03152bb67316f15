"""Full sync of the hash feed through FetchHashes over HTTP, against a raw read of the same rows.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/ncii_bench .venv/bin/python benchmarks/feed.py

Seeds the database up to --records hash records (manage.py seed_hashes) if it holds fewer, serves
the portal with gunicorn (2 workers, production settings over plain HTTP), and prints one table:
records per second for a full sync at --page-size, next to a raw psycopg read in feed order of the
columns a page reads (position, time, the stored JSON of each record; the ceiling), and the first
page's latency next to the last page's.
"""

import argparse
import statistics
import time

import psycopg
import requests
from portal import database_url, prepare, server_env, start_gunicorn


def full_sync(session: requests.Session, url: str, page_size: int) -> tuple[int, float, list[str]]:
    params = {"startTimestamp": 10, "pageSize": page_size}
    tokens, total, started = [], 0, time.perf_counter()
    while True:
        page = session.get(url, params=params).json()
        total += page["count"]
        tokens.append(params.get("nextPageToken"))
        if not page["hasMoreRecords"]:
            return total, time.perf_counter() - started, tokens
        params["nextPageToken"] = page["nextPageToken"]


def page_latency(session: requests.Session, url: str, page_size: int, token: str | None, repeats: int = 15) -> float:
    params = {"startTimestamp": 10, "pageSize": page_size, **({"nextPageToken": token} if token else {})}
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        session.get(url, params=params).raise_for_status()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def raw_read(database_url: str, page_size: int) -> tuple[int, float]:
    started, total = time.perf_counter(), 0
    with psycopg.connect(database_url) as conn, conn.cursor(name="feed") as cursor:
        cursor.itersize = page_size
        cursor.execute("SELECT feed_seq, modified_at, feed_json FROM hashes_hashrecord ORDER BY feed_seq")
        for _row in cursor:
            total += 1
    return total, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args()
    url_of_database = database_url()
    # Measure the feed alone: not the PDQ index each worker would otherwise build at start.
    env = server_env(url_of_database, MATCH_INDEX_WARM_UP="0")
    key = prepare(env, args.records, "fetch")
    process, base = start_gunicorn(env)
    try:
        session = requests.Session()
        session.headers["x-functions-key"] = key
        url = base + "/api/stopncii/v1/FetchHashes"
        session.get(url, params={"startTimestamp": 10, "pageSize": 10}).raise_for_status()  # warm up both workers
        count, elapsed, tokens = full_sync(session, url, args.page_size)
        first = page_latency(session, url, args.page_size, tokens[0])
        last = page_latency(session, url, args.page_size, tokens[-1])
        raw_count, raw_elapsed = raw_read(url_of_database, args.page_size)
    finally:
        process.terminate()
        process.wait()

    rate, raw_rate = count / elapsed, raw_count / raw_elapsed
    print(f"\nFull feed sync, {count:,} records, pageSize {args.page_size} ({len(tokens)} pages)")
    print(f"{'measure':<44}{'value':>16}{'vs baseline':>14}")
    print(f"{'raw psycopg read, same rows (baseline)':<44}{raw_rate:>12,.0f} r/s{'1.00x':>14}")
    print(f"{'FetchHashes over HTTP, gunicorn 2 workers':<44}{rate:>12,.0f} r/s{rate / raw_rate:>13.2f}x")
    print(f"{'first page latency, median of 15 (baseline)':<44}{first * 1000:>13.1f} ms{'1.00x':>14}")
    print(f"{'last page latency, median of 15':<44}{last * 1000:>13.1f} ms{last / first:>13.2f}x")


if __name__ == "__main__":
    main()
