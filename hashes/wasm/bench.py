#!/usr/bin/env python3
"""Time PDQ and MD5: native pdqhash / hashlib vs our C (native) vs our pdq.wasm under Node.js.

    python hashes/wasm/bench.py [--runs 7] [--sizes 1000x1000,4000x3000,8000x6000]

Needs numpy, pdqhash, a C compiler and node. Hash step only (pixels already
decoded); each figure is the median of --runs runs after one warm-up run,
and every hash is also checked for equality with pdqhash. The browser
benchmark (headless Chromium, decode + hash) is separate.
"""

import argparse
import ctypes
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pdqhash

HERE = Path(__file__).resolve().parent
WASM = HERE.parents[1] / "static" / "hashing" / "pdq.wasm"


def build_native(directory: Path) -> ctypes.CDLL:
    target = directory / "libpdq.so"
    cc = os.environ.get("CC", "cc")
    subprocess.run(
        [cc, "-std=c11", "-O2", "-fPIC", "-shared", "-ffp-contract=off", str(HERE / "pdq.c"), str(HERE / "md5.c"),
         "-o", str(target)],
        check=True,
    )
    lib = ctypes.CDLL(str(target))
    lib.pdq_scratch_bytes.restype = ctypes.c_size_t
    lib.pdq_scratch_bytes.argtypes = [ctypes.c_int32, ctypes.c_int32]
    lib.pdq_hash_rgba.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32] + [ctypes.c_void_p] * 3
    lib.md5_update.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
    return lib


def photo_like(height: int, width: int) -> np.ndarray:
    """Smooth structure plus sensor-like noise, so no shortcut applies."""
    rng = np.random.default_rng(height * 7 + width)
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    base = np.stack([200 * x + 20 * y, 120 + 100 * np.sin(7 * x + 4 * y), 128 + 90 * np.cos(13 * x * y)], axis=-1)
    return np.clip(base + rng.normal(0, 8, (height, width, 3)).astype(np.float32), 0, 255).astype(np.uint8)


def median_ms(fn, runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def to_hex(bits) -> str:
    return "%064x" % int("".join(str(b) for b in bits), 2)


def bench_pdq(lib, height: int, width: int, runs: int, tmp: Path) -> dict:
    rgb = photo_like(height, width)
    rgba = np.empty((height, width, 4), np.uint8)
    rgba[..., :3] = rgb
    rgba[..., 3] = 255
    scratch = np.empty(lib.pdq_scratch_bytes(width, height) + 16, np.uint8)
    aligned = scratch.ctypes.data + (-scratch.ctypes.data % 16)
    digest = (ctypes.c_uint8 * 32)()
    quality = ctypes.c_int32()

    def ours():
        lib.pdq_hash_rgba(rgba.ctypes.data, width, height, aligned, digest, ctypes.byref(quality))

    ref_bits, ref_quality = pdqhash.compute(rgb)
    result = {
        "size": f"{width}x{height}",
        "pdqhash_ms": median_ms(lambda: pdqhash.compute(rgb), runs),
        "native_ms": median_ms(ours, runs),
    }
    native_exact = (bytes(digest).hex(), quality.value) == (to_hex(ref_bits), ref_quality)

    path = tmp / "image.rgba"
    rgba.tofile(path)
    out = subprocess.run(
        ["node", str(HERE / "run_wasm.mjs"), "pdq", str(WASM), str(path), str(width), str(height), str(runs + 1)],
        check=True, capture_output=True, text=True,
    ).stdout
    wasm = json.loads(out)
    path.unlink()
    result["wasm_first_ms"] = wasm["ms"][0]
    result["wasm_ms"] = statistics.median(wasm["ms"][1:])
    result["wasm_memory_vs_rgba"] = wasm["memory_bytes"] / rgba.nbytes
    result["exact"] = native_exact and (wasm["hash"], wasm["quality"]) == (to_hex(ref_bits), ref_quality)
    return result


def bench_md5(lib, megabytes: int, tmp: Path) -> dict:
    data = np.random.default_rng(3).bytes(megabytes << 20)
    chunk = 4 << 20

    def with_hashlib():
        h = hashlib.md5()
        view = memoryview(data)
        for i in range(0, len(data), chunk):
            h.update(view[i : i + chunk])

    ctx = ctypes.create_string_buffer(256)
    base = ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value

    def with_native():
        lib.md5_init(ctx)
        for i in range(0, len(data), chunk):
            lib.md5_update(ctx, base + i, min(chunk, len(data) - i))

    path = tmp / "data.bin"
    path.write_bytes(data)
    wasm = json.loads(subprocess.run(
        ["node", str(HERE / "run_wasm.mjs"), "md5", str(WASM), str(path), str(chunk)],
        check=True, capture_output=True, text=True,
    ).stdout)
    path.unlink()
    return {
        "hashlib_MBps": megabytes / median_ms(with_hashlib, 3) * 1000,
        "native_MBps": megabytes / median_ms(with_native, 3) * 1000,
        "wasm_MBps": megabytes / wasm["ms"] * 1000,
        "wasm_exact": wasm["md5"] == hashlib.md5(data).hexdigest(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sizes", default="1000x1000,4000x3000,8000x6000")
    parser.add_argument("--md5-mb", type=int, default=256)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        lib = build_native(tmp)
        print(f"pdq.wasm: {WASM.stat().st_size} bytes")
        print(f"{'size':>10} {'pdqhash':>9} {'ours C':>9} {'wasm':>9} {'wasm 1st':>9} {'vs pdqhash':>10} "
              f"{'wasm mem':>9} exact")
        for size in args.sizes.split(","):
            width, height = (int(v) for v in size.split("x"))
            r = bench_pdq(lib, height, width, args.runs, tmp)
            print(f"{r['size']:>10} {r['pdqhash_ms']:8.1f}ms {r['native_ms']:7.1f}ms {r['wasm_ms']:7.1f}ms "
                  f"{r['wasm_first_ms']:7.1f}ms {r['wasm_ms'] / r['pdqhash_ms']:9.2f}x "
                  f"{r['wasm_memory_vs_rgba']:8.2f}x {r['exact']}")
            sys.stdout.flush()
        m = bench_md5(lib, args.md5_mb, tmp)
        print(f"MD5 {args.md5_mb} MB: hashlib {m['hashlib_MBps']:.0f} MB/s, ours C {m['native_MBps']:.0f} MB/s, "
              f"wasm {m['wasm_MBps']:.0f} MB/s ({m['wasm_MBps'] / m['hashlib_MBps']:.0%} of hashlib), "
              f"exact {m['wasm_exact']}")


if __name__ == "__main__":
    main()
