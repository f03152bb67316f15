"""Exact PDQ range search by multi-index hashing, in a kernel compiled with numba.

Why our own index here, when the design names faiss for PDQ lookups: at a million hashes and
distance 31 no faiss index answers a batch of 100 in under 0.1 ms a hash on this project's 2-core
machine (benchmarks/match.py; the configurations tried are in docs/benchmarks.md). faiss's
`IndexBinaryMultiHash` spends its time in node-based hash tables: ~3,000 probes a query in the
layout that suits it, or ~4,000 candidates each inserted into a hash set in the one HMA uses. This
index does the same search with flat arrays, so every probe is two reads and every candidate a
short sequential one, and it takes about a third of the memory (~350 MB at a million hashes
against ~1 GB) and a fifth of the build time. faiss stays where it is the better tool: the small
and recent indexes, radii above 31 (its exhaustive `IndexBinaryFlat`), and as the reference every
test and benchmark compares this index with.

How it works (Norouzi, Punjani and Fleet, "Fast search in Hamming space with multi-index hashing",
CVPR 2012): a 256-bit code is cut into 16 chunks of 16 bits. If two codes differ in at most 31
bits, some chunk differs in at most one (otherwise the distance would be at least 16 × 2 = 32),
and at most 15 bits means some chunk is equal. So for each chunk, one table lists the codes by that
chunk's value (a counting sort: `starts` gives where each of the 65,536 values begins), and a
query looks up its own chunk value and the 16 values one bit away: 272 table slots, ~4,000
candidates at a million uniform hashes. Each table entry carries the first 128 bits of its code
beside its row number, read in the same sequential pass, so nearly every false candidate is
dropped (128 bits that differ in more than 31 places) without touching the full code. A code close
to the query turns up in several chunks' lists; it is reported only from the first chunk within
the allowed bits, so no result needs de-duplicating.
"""

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

CHUNKS = 16
CHUNK_BITS = 16
CHUNK_VALUES = 1 << CHUNK_BITS
CODE_BYTES = CHUNKS * CHUNK_BITS // 8
# One flipped bit per chunk is exact to 16 * 2 - 1; more flips cost more than faiss's flat scan.
MAX_DISTANCE = CHUNKS * 2 - 1


class MultiIndex:
    """The chunk tables of a fixed set of codes; answers which rows lie within a distance.

    Read-only after construction, so any number of threads may search it at once; the kernel
    releases the GIL.
    """

    def __init__(self, codes: np.ndarray):
        codes = np.ascontiguousarray(codes, dtype=np.uint8).reshape(-1, CODE_BYTES)
        if len(codes) >= 2**31:
            raise ValueError("row numbers are 32-bit")
        # Little-endian views on any machine, so chunk c is bytes 2c..2c+1 both here and in the
        # kernel, which takes it from word c // 4 at bit 16 * (c % 4).
        self._words = codes.view("<u8")
        chunk_values = codes.view("<u2")
        n = len(codes)
        self._starts = np.empty((CHUNKS, CHUNK_VALUES + 1), dtype=np.int32)
        self._rows = np.empty((CHUNKS, n), dtype=np.int32)
        self._heads = np.empty((CHUNKS, n, 2), dtype="<u8")
        for c in range(CHUNKS):
            column = chunk_values[:, c]
            order = np.argsort(column, kind="stable")  # a radix sort for 16-bit keys
            self._starts[c, 0] = 0
            np.cumsum(np.bincount(column, minlength=CHUNK_VALUES), out=self._starts[c, 1:])
            self._rows[c] = order
            np.take(self._words[:, :2], order, axis=0, out=self._heads[c])
        self.nbytes = self._starts.nbytes + self._rows.nbytes + self._heads.nbytes
        # Compile the kernel now, in the thread building the index, not in the first lookup.
        self.search(np.zeros((1, CODE_BYTES), dtype=np.uint8), 0)

    def __len__(self) -> int:
        return len(self._words)

    def search(self, queries: np.ndarray, max_distance: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(query number, row, distance) of every code within max_distance of each query."""
        if not 0 <= max_distance <= MAX_DISTANCE:
            raise ValueError(f"exact only up to distance {MAX_DISTANCE}")
        queries = np.ascontiguousarray(queries, dtype=np.uint8).reshape(-1, CODE_BYTES).view("<u8")
        flips = 0 if max_distance < CHUNKS else 1
        capacity = 64 * len(queries) + 1024
        while True:
            out_query = np.empty(capacity, dtype=np.int32)
            out_row = np.empty(capacity, dtype=np.int32)
            out_distance = np.empty(capacity, dtype=np.int32)
            found = _search(
                self._starts, self._rows, self._heads, self._heads.reshape(-1), self._words,
                self._words.reshape(-1), queries, max_distance, flips, out_query, out_row, out_distance,
            )  # fmt: skip
            if found <= capacity:
                return out_query[:found], out_row[:found], out_distance[:found]
            capacity = found  # more matches than room: the kernel counted them, so ask again


@intrinsic
def _prefetch(typingctx, array, index):
    """Ask the CPU to start loading array[index] of a 1-d array into cache (llvm.prefetch).

    The candidates of one chunk sit in up to 17 places far apart in memory; starting all the loads
    before reading any of them overlaps their waits (about a third off a lookup, measured).
    """

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        array_value = context.make_array(array_type)(context, builder, args[0])
        pointer = cgutils.get_item_pointer(context, builder, array_type, array_value, [args[1]], wraparound=False)
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]), "llvm.prefetch.p0i8"
        )
        # read, keep in all cache levels, data cache
        builder.call(function, [builder.bitcast(pointer, byte_pointer), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(array, index), codegen


@njit(inline="always")
def _popcount(x):
    # LLVM turns this into the popcnt instruction on CPUs that have it.
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@njit(inline="always")
def _close_chunk_in_word(x, first, stop, flips):
    """Whether any of the 16-bit chunks first..stop-1 of the xor word x differs in <= flips bits."""
    for k in range(first, stop):
        if _popcount((x >> np.uint64(16 * k)) & np.uint64(0xFFFF)) <= flips:
            return True
    return False


@njit(nogil=True, cache=False)
def _search(starts, rows, heads, heads_flat, words, words_flat, queries, radius, flips, out_query, out_row, out_distance):
    found = 0
    probes = 1 + CHUNK_BITS * flips
    lows = np.empty(CHUNK_BITS + 1, dtype=np.int64)
    highs = np.empty(CHUNK_BITS + 1, dtype=np.int64)
    survivors = np.empty(1024, dtype=np.int64)
    for q in range(queries.shape[0]):
        q0, q1, q2, q3 = queries[q, 0], queries[q, 1], queries[q, 2], queries[q, 3]
        for c in range(CHUNKS):
            value = (queries[q, c >> 2] >> np.uint64(16 * (c & 3))) & np.uint64(0xFFFF)
            candidates = 0
            for p in range(probes):
                key = value if p == 0 else value ^ np.uint64(1 << (p - 1))
                lows[p] = starts[c, key]
                highs[p] = starts[c, key + 1]
                candidates += highs[p] - lows[p]
                if highs[p] > lows[p]:
                    _prefetch(heads_flat, (c * heads.shape[1] + lows[p]) * 2)
            if candidates > survivors.shape[0]:
                survivors = np.empty(candidates, dtype=np.int64)
            # First pass, sequential: the 128-bit heads rule out nearly everything.
            kept = 0
            for p in range(probes):
                for j in range(lows[p], highs[p]):
                    x0 = heads[c, j, 0] ^ q0
                    x1 = heads[c, j, 1] ^ q1
                    if _popcount(x0) + _popcount(x1) > radius:
                        continue
                    # Within reach in an earlier chunk (0..7 are in the head): reported there.
                    if _close_chunk_in_word(x0, 0, min(c, 4), flips):
                        continue
                    if _close_chunk_in_word(x1, 0, min(max(c - 4, 0), 4), flips):
                        continue
                    row = rows[c, j]
                    survivors[kept] = row
                    kept += 1
                    _prefetch(words_flat, row * 4 + 2)
            # Second pass: the full codes of the few left, their loads already under way.
            for s in range(kept):
                row = survivors[s]
                x0 = words[row, 0] ^ q0
                x1 = words[row, 1] ^ q1
                x2 = words[row, 2] ^ q2
                x3 = words[row, 3] ^ q3
                distance = _popcount(x0) + _popcount(x1) + _popcount(x2) + _popcount(x3)
                if distance > radius:
                    continue
                if _close_chunk_in_word(x2, 0, min(max(c - 8, 0), 4), flips):
                    continue
                if _close_chunk_in_word(x3, 0, max(c - 12, 0), flips):
                    continue
                if found < out_query.shape[0]:
                    out_query[found] = q
                    out_row[found] = row
                    out_distance[found] = distance
                found += 1
    return found
