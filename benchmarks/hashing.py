"""The browser hashing engine against native pdqhash and hashlib, in one run, in one table.

    .venv/bin/python benchmarks/hashing.py [--chromium /usr/bin/chromium]

Serves static/ from a tiny local server (with the portal's Content-Security-Policy), drives
headless Chromium through Playwright, and times on the same photo (scikit-image's astronaut,
resized) at 1, 12 and 48 MP:
  - the hash step: the WebAssembly call in the worker (as the worker times it), and
    pdqFromRGBA() from hasher.js as a caller sees it (pixels copied to the worker, into
    WebAssembly, PDQ), next to pdqhash.compute on the same pixels;
  - decode + hash: hashFile() on a JPEG of it (MD5, decode, PDQ), next to the server's
    hashes.decoding.hash_image_file (hashlib MD5, Pillow decode, pdqhash);
  - MD5 throughput of the worker on a 512 MB file, next to hashlib.md5 on the same file;
  - WebAssembly memory after hashing 48 MP, next to its RGBA size; the module's size.
Medians of several runs after a warm-up. Nothing is asserted: goals are printed beside figures.
"""

import argparse
import hashlib
import http.server
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ncii_portal.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import pdqhash  # noqa: E402
import skimage.data  # noqa: E402
from PIL import Image  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from hashes.decoding import hash_image_file  # noqa: E402

SIZES = {"1 MP": (1000, 1000), "12 MP": (4000, 3000), "48 MP": (8000, 6000)}
RUNS = {"1 MP": 9, "12 MP": 5, "48 MP": 3}
MD5_BYTES = 512 * 1024 * 1024
CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'"
PAGE = b"<!doctype html><title>hashing benchmark</title><input type=file id=files multiple>"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


class StaticHandler(http.server.SimpleHTTPRequestHandler):
    """/ is an empty page; /static/... are the repository's static files. Nothing else."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(REPO), **kwargs)

    def end_headers(self):
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def do_GET(self):
        if self.path == "/":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(PAGE)
        elif self.path.startswith("/static/hashing/"):
            super().do_GET()
        else:
            self.send_error(404)

    def log_message(self, *args):
        pass


def serve() -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StaticHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def median_ms(function, runs: int) -> float:
    function()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


BROWSER_PDQ = """async ([runs, width, height]) => {
  const { pdqFromRGBA } = await import("/static/hashing/hasher.js");
  const rgba = new Uint8Array(await document.getElementById("files").files[0].arrayBuffer());
  await pdqFromRGBA(rgba, width, height);  // warm-up (and the module's compilation)
  const times = [];
  let result;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    result = await pdqFromRGBA(rgba, width, height);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], ...result };
}"""

BROWSER_FILE = """async (runs) => {
  const { hashFile } = await import("/static/hashing/hasher.js");
  const file = document.getElementById("files").files[0];
  await hashFile(file);
  const times = [];
  let result;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    result = await hashFile(file);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], pdq: result.pdq };
}"""

# The worker's own protocol (see worker.js): a fresh worker, so its memory is this job's alone.
BROWSER_WORKER = """async ([op, width, height, runs]) => {
  const worker = new Worker("/static/hashing/worker.js", { type: "module" });
  let id = 0;
  const call = (message, transfer = []) => new Promise((resolve, reject) => {
    const mine = ++id;
    worker.addEventListener("message", function listen({ data }) {
      if (data.id !== mine || data.progress) return;
      worker.removeEventListener("message", listen);
      data.error ? reject(new Error(data.error.code)) : resolve(data.result);
    });
    worker.postMessage({ ...message, id: mine }, transfer);
  });
  const file = document.getElementById("files").files[0];
  try {
    if (op === "md5") {
      await call({ op: "md5", file: file.slice(0, 8 << 20) });  // warm-up
      const start = performance.now();
      const { md5 } = await call({ op: "md5", file });
      return { ms: performance.now() - start, md5 };
    }
    // The WebAssembly call alone, as the worker times it, and the memory it leaves.
    const rgba = new Uint8Array(await file.arrayBuffer());
    const times = [];
    for (let i = 0; i <= runs; i++) times.push((await call({ op: "pdq", rgba, width, height })).ms);
    times.shift();  // the first call also loads, compiles and warms up the module
    times.sort((a, b) => a - b);
    return { ms: times[Math.floor(times.length / 2)], ...(await call({ op: "stats" })) };
  } finally {
    worker.terminate();
  }
}"""


def pick(page, path: Path) -> None:
    page.set_input_files("#files", str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
    args = parser.parse_args()

    astronaut = skimage.data.astronaut()
    rows = []
    server = serve()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{server.server_port}/")
        for label, (width, height) in SIZES.items():
            runs = RUNS[label]
            rgb = np.asarray(Image.fromarray(astronaut).resize((width, height), Image.LANCZOS))
            rgba_path = Path(tmp) / f"{label}.rgba"
            rgba_path.write_bytes(np.dstack([rgb, np.full((height, width, 1), 255, np.uint8)]).tobytes())
            jpeg_path = Path(tmp) / f"{label}.jpg"
            Image.fromarray(rgb).save(jpeg_path, quality=90)

            pick(page, rgba_path)
            browser_hash = page.evaluate(BROWSER_PDQ, [runs, width, height])
            native_hash = median_ms(lambda: pdqhash.compute(rgb), runs)
            bits, _ = pdqhash.compute(rgb)
            exact = browser_hash["hash"] == f"{int(''.join(map(str, bits)), 2):064x}"

            pick(page, jpeg_path)
            browser_file = page.evaluate(BROWSER_FILE, runs)
            native_file = median_ms(lambda: hash_image_file(jpeg_path), runs)

            pick(page, rgba_path)
            in_worker = page.evaluate(BROWSER_WORKER, ["pdq", width, height, runs])
            rows.append((label, in_worker["ms"], browser_hash["ms"], native_hash, exact, browser_file["ms"],
                         native_file, browser_file["pdq"] == hash_image_file(jpeg_path)["pdq"],
                         in_worker["memoryBytes"], width * height * 4))
            rgba_path.unlink()

        md5_path = Path(tmp) / "md5.bin"
        block = os.urandom(16 * 1024 * 1024)
        with md5_path.open("wb") as out:
            for _ in range(MD5_BYTES // len(block)):
                out.write(block)
        pick(page, md5_path)
        browser_md5 = page.evaluate(BROWSER_WORKER, ["md5", 0, 0, 1])

        def python_md5() -> str:
            digest = hashlib.md5()
            with md5_path.open("rb") as source:
                while chunk := source.read(4 * 1024 * 1024):
                    digest.update(chunk)
            return digest.hexdigest()

        python_md5()  # page cache warm, as it is for the browser
        start = time.perf_counter()
        expected_md5 = python_md5()
        native_md5_s = time.perf_counter() - start
        version = browser.version
        browser.close()
    server.shutdown()

    mb = MD5_BYTES / 1e6
    browser_mbs, native_mbs = mb / (browser_md5["ms"] / 1000), mb / native_md5_s
    module = (REPO / "static" / "hashing" / "pdq.wasm").stat().st_size
    scripts = sum(p.stat().st_size for p in (REPO / "static" / "hashing").glob("*.js"))

    print(f"Chromium {version} (headless), pdqhash {getattr(pdqhash, '__version__', '0.2.8')}, "
          f"Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    print()
    print("| size | hash step: wasm call in the worker | pdqFromRGBA() round trip | pdqhash.compute "
          "| ratio (wasm call / pdqhash) | bit-exact | decode+hash: hashFile() on a JPEG "
          "| server: hash_image_file() | ratio | same PDQ | wasm memory / RGBA |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, b_wasm, b_api, n_hash, exact, b_file, n_file, same, memory, rgba_bytes in rows:
        print(f"| {label} | {b_wasm:.1f} ms | {b_api:.1f} ms | {n_hash:.1f} ms | {b_wasm / n_hash:.2f} "
              f"| {'yes' if exact else 'NO'} | {b_file:.1f} ms | {n_file:.1f} ms | {b_file / n_file:.2f} "
              f"| {'yes' if same else 'NO'} | {memory / rgba_bytes:.2f} |")
    print()
    memory, rgba_bytes = rows[-1][8], rows[-1][9]
    twelve = rows[1]
    print("| measure | browser | native | ratio | goal |")
    print("|---|---|---|---|---|")
    print(f"| 12 MP hash step (wasm call) vs pdqhash | {twelve[1]:.1f} ms | {twelve[3]:.1f} ms "
          f"| {twelve[1] / twelve[3]:.2f} | <= 0.25 |")
    print(f"| 12 MP pdqFromRGBA() round trip vs pdqhash | {twelve[2]:.1f} ms | {twelve[3]:.1f} ms "
          f"| {twelve[2] / twelve[3]:.2f} | |")
    print(f"| MD5, 512 MB file (worker vs hashlib.md5) | {browser_mbs:.0f} MB/s | {native_mbs:.0f} MB/s "
          f"| {browser_mbs / native_mbs:.2f} | >= 0.50 (same digest: {'yes' if browser_md5['md5'] == expected_md5 else 'NO'}) |")
    print(f"| WebAssembly memory after 48 MP vs its RGBA | {memory / 2**20:.0f} MiB | {rgba_bytes / 2**20:.0f} MiB "
          f"| {memory / rgba_bytes:.2f} | <= 2.00 |")
    print(f"| pdq.wasm size | {module:,} bytes | | | < 65,536 bytes |")
    print(f"| static/hashing/*.js size (unminified) | {scripts:,} bytes | | | |")


if __name__ == "__main__":
    main()
