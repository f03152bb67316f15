"""static/hashing/hasher.js in real headless Chromium, on a real page under its real CSP.

PDQ must equal pdqhash bit for bit on the same pixels; files must hash as hashes/decoding.py
hashes them on the server; bad files must each give their reason while the others carry on.
"""

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from hashes.decoding import MAX_PIXELS, flatten, hash_image_file
from tests.hashes.hashing_helpers import (
    HASHER,
    corrupted_jpeg,
    hamming,
    hash_files,
    heic_bytes,
    huge_png,
    open_page,
    photo,
    reference_pdq,
    resized,
    write_corpus,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOSSLESS = (".png", ".gif", ".bmp", "-lossless.webp")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    return write_corpus(tmp_path_factory.mktemp("corpus"))


# ---------------------------------------------------------------- pdqFromRGBA


def rgba_cases() -> dict[str, np.ndarray]:
    astronaut, coffee, chelsea, rocket = (photo(n) for n in ("astronaut", "coffee", "chelsea", "rocket"))
    return {
        "astronaut 512x512": astronaut,
        "coffee 600x400": coffee,
        "chelsea 451x300": chelsea,
        "rocket 427x640": rocket,
        "camera, greyscale": photo("camera"),
        "moon, greyscale": photo("moon"),
        "hubble": photo("hubble_deep_field"),
        "thumbnail 32x32": resized(coffee, 32, 32),
        "strip 3000x120": resized(chelsea, 3000, 120),
        "odd 333x217": resized(astronaut, 333, 217),
        "odd 17x601": resized(rocket, 17, 601),
        "astronaut 12 MP (4000x3000)": resized(astronaut, 4000, 3000),
        "flat grey": np.full((300, 200, 3), 128, np.uint8),
    }


def test_pdq_from_rgba_equals_pdqhash_bit_for_bit_on_real_photos(page, live_server, tmp_path):
    cases = rgba_cases()
    manifest = []
    for index, (name, rgb) in enumerate(cases.items()):
        height, width = rgb.shape[:2]
        # Alpha is noise: pdqFromRGBA hashes the colour channels only.
        alpha = np.random.default_rng(index).integers(0, 256, (height, width, 1), dtype=np.uint8)
        path = tmp_path / f"{index}.rgba"
        path.write_bytes(np.dstack([rgb, alpha]).tobytes())
        manifest.append({"name": name, "path": path, "width": width, "height": height})

    problems = open_page(page, live_server)
    page.evaluate("""() => { const i = document.createElement("input"); i.type = "file"; i.multiple = true;
                             i.id = "rgba"; document.body.append(i); }""")
    page.set_input_files("#rgba", [str(m["path"]) for m in manifest])
    sizes = [[m["width"], m["height"]] for m in manifest]
    results = page.evaluate(
        """async (sizes) => {
          const { pdqFromRGBA } = await import("%s");
          const files = document.getElementById("rgba").files;
          const out = [];
          for (let i = 0; i < files.length; i++) {
            const rgba = new Uint8ClampedArray(await files[i].arrayBuffer());
            out.push(await pdqFromRGBA(rgba, sizes[i][0], sizes[i][1]));
          }
          // Plain Uint8Array works as well.
          out.push(await pdqFromRGBA(new Uint8Array(await files[0].arrayBuffer()), sizes[0][0], sizes[0][1]));
          return out;
        }""" % HASHER,
        sizes,
    )
    for case, result in zip(manifest, results):
        expected_hash, expected_quality = reference_pdq(cases[case["name"]])
        assert result == {"hash": expected_hash, "quality": expected_quality}, case["name"]
    assert results[-1] == results[0]
    assert results[len(cases) - 1]["quality"] == 0  # the flat image
    assert problems == []


def test_pdq_from_rgba_rejects_pixels_that_do_not_match_the_size(page, live_server):
    open_page(page, live_server)
    message = page.evaluate(
        """async () => {
          const { pdqFromRGBA } = await import("%s");
          try { await pdqFromRGBA(new Uint8Array(10 * 10 * 4), 10, 11); return "resolved"; }
          catch (error) { return error.code; }
        }""" % HASHER
    )
    assert message == "bad_input"


# ---------------------------------------------------------------- hashFile on images


def test_hash_file_matches_the_server_and_pdqhash_on_every_format(page, live_server, corpus):
    problems = open_page(page, live_server)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    results = hash_files(page, list(corpus.values()))

    distances = {}
    for name, path in corpus.items():
        item = results[name]
        assert "error" not in item, (name, item.get("error"))
        browser = item["result"]
        server = hash_image_file(path)
        assert browser["kind"] == "image"
        assert browser["md5"] == hashlib.md5(path.read_bytes()).hexdigest() == server["md5"], name
        assert (browser["width"], browser["height"]) == (server["width"], server["height"]), name
        distances[name] = hamming(browser["pdq"], server["pdq"])
        assert abs(browser["quality"] - server["quality"]) <= 2, name
        if name.endswith(LOSSLESS):
            # Lossless formats decode to the same pixels everywhere: PDQ must be bit-exact.
            from PIL import Image, ImageOps

            with Image.open(path) as image:
                assert (browser["pdq"], browser["quality"]) == reference_pdq(flatten(ImageOps.exif_transpose(image)))
    print("\nbrowser vs server PDQ distance:", json.dumps(distances, indent=1))
    # Both sides decode with libjpeg-turbo and libwebp and composite transparency in the same
    # integers: they agree on every file. A decoder change that breaks this must be noticed (and
    # measured in docs/hashing.md) long before it nears 31 bits, where a match would be lost.
    assert sum(distances.values()) == 0, distances
    # Orientation was applied: the rotated file hashes as the upright picture, not as its stored pixels.
    upright = resized(photo("astronaut"), 400, 300)
    assert hamming(results["astronaut-exif-rotated.jpg"]["result"]["pdq"], reference_pdq(upright)[0]) <= 8
    assert results["astronaut-exif-rotated.jpg"]["result"]["width"] == 400
    # Only our own origin was asked for anything (the module, the worker, the wasm).
    origin = live_server.url
    assert requests and all(url.startswith(origin) for url in requests), requests
    assert any(url.endswith("/static/hashing/pdq.wasm") for url in requests)
    assert problems == []


def test_hashing_runs_in_a_worker_and_reports_progress(page, live_server, corpus):
    open_page(page, live_server)
    results = hash_files(page, [corpus["astronaut.jpg"], corpus["coffee.png"]])
    assert [w.url for w in page.workers] == [live_server.url + "/static/hashing/worker.js"]
    for item in results.values():
        fractions = [p["fraction"] for p in item["progress"]]
        assert fractions == sorted(fractions) and all(0 <= f <= 1 for f in fractions)
        assert item["progress"][-1] == {"phase": "done", "fraction": 1}
        phases = [p["phase"] for p in item["progress"]]
        assert {"reading", "decoding", "hashing"} <= set(phases)


# ---------------------------------------------------------------- bad files


def test_bad_files_each_give_their_reason_and_the_others_carry_on(page, live_server, corpus, tmp_path):
    files = {
        "first-good.jpg": corpus["astronaut.jpg"].read_bytes(),
        "empty.jpg": b"",
        "unknown.bin": os.urandom(5000),
        "photo.heic": heic_bytes(),
        "plain.png": None,
        "middle-good.png": corpus["coffee.png"].read_bytes(),
        "huge.png": None,
        "corrupted.jpg": None,
    }
    paths = []
    for name, data in files.items():
        path = tmp_path / name
        if data is not None:
            path.write_bytes(data)
        paths.append(path)
    from PIL import Image

    Image.new("RGB", (640, 480), (30, 90, 200)).save(tmp_path / "plain.png")
    huge_png(tmp_path / "huge.png")
    corrupted_jpeg(tmp_path / "corrupted.jpg")
    paths.append(corpus["chelsea.webp"])

    problems = open_page(page, live_server)
    results = hash_files(page, paths)
    codes = {name: item.get("error", {}).get("code") for name, item in results.items()}
    assert codes == {
        "first-good.jpg": None,
        "empty.jpg": "empty",
        "unknown.bin": "unsupported",
        "photo.heic": "unsupported",
        "plain.png": "too_plain",
        "middle-good.png": None,
        "huge.png": "too_large",
        "corrupted.jpg": "unreadable",
        "chelsea.webp": None,
    }
    for name, item in results.items():
        if "error" in item:
            assert item["error"]["name"] == "HashingError"
            assert len(item["error"]["message"]) > 20, name  # a sentence for a person, not a code
    assert "megapixels" in results["huge.png"]["error"]["message"]
    # A plain image still carries its MD5 (exact copies can be matched) and its quality.
    plain = results["plain.png"]["error"]
    assert plain["md5"] == hashlib.md5((tmp_path / "plain.png").read_bytes()).hexdigest()
    assert plain["quality"] < 50
    # The server gives every file the same verdict.
    from hashes.decoding import HashingError

    for path in paths:
        try:
            hash_image_file(path)
            server_code = None
        except HashingError as error:
            server_code = error.code
        assert server_code == codes[path.name], path.name
    assert problems == []


def test_a_huge_image_is_refused_from_its_header_without_decoding(page, live_server, tmp_path):
    huge_png(tmp_path / "huge.png", 20000, 20000)
    open_page(page, live_server)
    results = hash_files(page, [tmp_path / "huge.png"])
    item = results["huge.png"]
    assert item["error"]["code"] == "too_large"
    # Refused before reading the file: no MD5 pass, no decoding.
    assert [p["phase"] for p in item["progress"]] == []
    assert 20000 * 20000 > MAX_PIXELS


# ---------------------------------------------------------------- large files and responsiveness


def test_md5_of_a_300_mb_file_equals_hashlib_streamed_in_chunks(page, live_server, tmp_path):
    # A damaged 300 MB "video": it cannot be played, but its MD5 is still computed, chunk by chunk.
    path = tmp_path / "big.mp4"
    digest = hashlib.md5()
    block = np.random.default_rng(3).integers(0, 256, 8 * 1024 * 1024, dtype=np.uint8).tobytes()
    with path.open("wb") as out:
        header = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
        out.write(header)
        digest.update(header)
        for i in range(300 * 1024 * 1024 // len(block)):
            chunk = block[i:] + block[:i]
            out.write(chunk)
            digest.update(chunk)
        tail = b"x" * 12345  # not a multiple of the chunk size
        out.write(tail)
        digest.update(tail)
    open_page(page, live_server)
    result = hash_files(page, [path])["big.mp4"]["result"]
    assert result["kind"] == "video"
    assert result["md5"] == digest.hexdigest()
    assert result["frames"] == []
    assert result["warning"]["code"] in ("unreadable", "unsupported")
    assert len(result["warning"]["message"]) > 20


def test_the_page_keeps_responding_while_a_12_mp_photo_is_hashed(page, live_server, tmp_path):
    from PIL import Image

    path = tmp_path / "12mp.jpg"
    Image.fromarray(resized(photo("astronaut"), 4000, 3000)).save(path, quality=90)
    open_page(page, live_server)
    page.evaluate(
        """() => {
          window.ticks = [];
          window.ticker = setInterval(() => window.ticks.push(performance.now()), 10);
        }"""
    )
    results = hash_files(page, [path])
    ticks = page.evaluate("() => { clearInterval(window.ticker); return window.ticks; }")
    assert "result" in results["12mp.jpg"], results["12mp.jpg"]
    gaps = np.diff(ticks)
    # The page's thread only awaits messages: a timer every 10 ms never waits long. (Hashing on
    # the page's own thread would stall it for the whole decode and hash, hundreds of ms.)
    assert len(ticks) > 20 and gaps.max() < 150, (len(ticks), gaps.max())


# ---------------------------------------------------------------- translations


def test_reasons_are_in_the_page_language_when_the_catalog_is_loaded(page, live_server, tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    open_page(page, live_server, "zh-hant")
    english = hash_files(page, [tmp_path / "empty.jpg"])["empty.jpg"]["error"]["message"]
    assert english.startswith("This file is empty")
    page.evaluate(
        """() => new Promise((resolve, reject) => {
          const script = document.createElement("script");
          script.src = "/zh-hant/jsi18n/";
          script.onload = resolve;
          script.onerror = reject;
          document.head.append(script);
        })"""
    )
    chinese = hash_files(page, [tmp_path / "empty.jpg"])["empty.jpg"]["error"]["message"]
    assert chinese != english and "檔案" in chinese
