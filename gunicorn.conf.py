"""gunicorn's settings for the portal; gunicorn reads this file from the working directory."""

import os


def post_worker_init(worker):
    if os.environ.get("MATCH_INDEX_WARM_UP", "1") == "0":
        return
    # Each worker holds its own PDQ match index: build it now, in the background, so the first
    # lookup does not wait for it (seconds for a million hashes, mostly reading them).
    import faiss

    from hashes.match_index import pdq_index

    # Lookups are many and small; faiss's own threads (flat scans) only contend with the worker's.
    faiss.omp_set_num_threads(1)
    pdq_index().warm_up()
