"""The C hashing core in hashes/wasm/ against the references platforms use.

The C is compiled natively into a temporary shared library and called through
ctypes; PDQ must equal `pdqhash.compute` (what python-threatexchange's
pdq_hasher wraps) bit for bit, MD5 must equal hashlib. The committed
static/hashing/pdq.wasm itself is then run under Node.js on the same images.
"""

import ctypes
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import numpy as np
    import pdqhash
    import skimage.data
    from PIL import Image
except ImportError as exc:  # pragma: no cover - a setup error, reported clearly
    raise ImportError(
        f"tests/hashes/test_wasm_native.py needs numpy, pdqhash, Pillow and scikit-image ({exc})"
    ) from exc

REPO = Path(__file__).resolve().parents[2]
WASM_DIR = REPO / "hashes" / "wasm"
WASM_FILE = REPO / "static" / "hashing" / "pdq.wasm"
C_SOURCES = ["pdq.c", "md5.c"]


# ---------------------------------------------------------------- the library


def _compiler() -> str:
    for candidate in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if candidate and shutil.which(candidate):
            return candidate
    pytest.fail("No C compiler found (tried $CC, cc, gcc, clang): install gcc to test hashes/wasm/")


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    target = tmp_path_factory.mktemp("pdq") / "libpdq.so"
    # The flags that matter for exactness match the wasm build; see build.sh.
    cmd = [_compiler(), "-std=c11", "-O2", "-fPIC", "-shared", "-ffp-contract=off", "-Wall", "-Werror"]
    cmd += [str(WASM_DIR / name) for name in C_SOURCES] + ["-o", str(target)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"Compiling hashes/wasm failed:\n{' '.join(cmd)}\n{result.stderr}")
    library = ctypes.CDLL(str(target))
    library.pdq_scratch_bytes.restype = ctypes.c_size_t
    library.pdq_scratch_bytes.argtypes = [ctypes.c_int32, ctypes.c_int32]
    pointer = ctypes.c_void_p
    library.pdq_hash_rgba.argtypes = [pointer, ctypes.c_int32, ctypes.c_int32, pointer, pointer, pointer]
    library.pdq_dct_rgba.argtypes = [pointer, ctypes.c_int32, ctypes.c_int32, pointer, pointer, pointer]
    library.md5_update.argtypes = [pointer, pointer, ctypes.c_size_t]
    library.md5_init.argtypes = [pointer]
    library.md5_final.argtypes = [pointer, pointer]
    return library


def to_rgba(rgb: "np.ndarray", seed: int = 0) -> "np.ndarray":
    """RGBA with random alpha: alpha must not influence the hash."""
    rgba = np.empty(rgb.shape[:2] + (4,), np.uint8)
    rgba[..., :3] = rgb
    rgba[..., 3] = np.random.default_rng(seed).integers(0, 256, rgb.shape[:2], dtype=np.uint8)
    return rgba


def _scratch(lib, width: int, height: int) -> "tuple[np.ndarray, int]":
    size = lib.pdq_scratch_bytes(width, height)
    assert size > 0
    buffer = np.empty(size + 16, np.uint8)
    return buffer, buffer.ctypes.data + (-buffer.ctypes.data % 16)


def our_pdq(lib, rgb: "np.ndarray") -> "tuple[str, int]":
    height, width = rgb.shape[:2]
    rgba = to_rgba(rgb)
    before = rgba.copy()
    _keep, scratch = _scratch(lib, width, height)
    digest = (ctypes.c_uint8 * 32)()
    quality = ctypes.c_int32(-1)
    status = lib.pdq_hash_rgba(rgba.ctypes.data, width, height, scratch, digest, ctypes.byref(quality))
    assert status == 0
    assert np.array_equal(rgba, before), "the input pixels must not be modified"
    return bytes(digest).hex(), quality.value


def our_dct(lib, rgb: "np.ndarray") -> "np.ndarray":
    height, width = rgb.shape[:2]
    rgba = to_rgba(rgb)
    _keep, scratch = _scratch(lib, width, height)
    dct = (ctypes.c_float * 256)()
    quality = ctypes.c_int32()
    assert lib.pdq_dct_rgba(rgba.ctypes.data, width, height, scratch, dct, ctypes.byref(quality)) == 0
    return np.array(dct, np.float32)


def reference_pdq(rgb: "np.ndarray") -> "tuple[str, int]":
    """pdqhash, turned into hex exactly as threatexchange's pdq_hasher does."""
    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb))
    bin_str = "".join(str(x) for x in bits)
    return ("%0*X" % ((len(bin_str) + 3) // 4, int(bin_str, 2))).lower(), quality


# ---------------------------------------------------------------- the corpus


def _rng(seed: int) -> "np.random.Generator":
    return np.random.default_rng(seed)


def noise(height: int, width: int, seed: int = 1) -> "np.ndarray":
    return _rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def smooth(height: int, width: int, seed: int = 2) -> "np.ndarray":
    """Gradients plus waves plus a little noise: structure at many scales."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    y /= max(height, 1)
    x /= max(width, 1)
    r = 255 * x
    g = 127 + 120 * np.sin(9 * x + 5 * y)
    b = 127 + 120 * np.cos(23 * x * y + 3 * y)
    img = np.stack([r, g, b], axis=-1) + _rng(seed).normal(0, 6, (height, width, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def grey_as_rgb(grey: "np.ndarray") -> "np.ndarray":
    return np.repeat(grey[..., None], 3, axis=2)


def resized(rgb: "np.ndarray", width: int, height: int) -> "np.ndarray":
    return np.asarray(Image.fromarray(rgb).resize((width, height), Image.Resampling.LANCZOS))


def photos() -> "dict[str, np.ndarray]":
    """Real photographs that scikit-image ships inside its wheel (no download)."""
    return {
        "astronaut": skimage.data.astronaut(),
        "coffee": skimage.data.coffee(),
        "chelsea": skimage.data.chelsea(),
        "rocket": skimage.data.rocket(),
        "hubble": skimage.data.hubble_deep_field(),
        "retina": skimage.data.retina(),
        "camera-grey": grey_as_rgb(skimage.data.camera()),
        "moon-grey": grey_as_rgb(skimage.data.moon()),
        "page-grey": grey_as_rgb(skimage.data.page()),
    }


def photo_variants() -> "list[tuple[str, np.ndarray]]":
    """Each photo as is, plus resized and cropped to sizes that exercise edge cases."""
    cases = []
    sizes = [(32, 32), (33, 17), (64, 64), (65, 63), (127, 129), (3000, 120), (120, 3000), (1155, 866)]
    for index, (name, img) in enumerate(photos().items()):
        cases.append((name, img))
        width, height = sizes[index % len(sizes)]
        cases.append((f"{name}-{width}x{height}", resized(img, width, height)))
        h, w = img.shape[:2]
        cases.append((f"{name}-crop", img[h // 7 : h - h // 5, w // 9 : w - 3]))
    return cases


SYNTHETIC = [
    ("noise-32x32", lambda: noise(32, 32)),
    ("noise-33x17", lambda: noise(17, 33)),
    ("noise-17x33", lambda: noise(33, 17)),
    ("smooth-64x64", lambda: smooth(64, 64)),
    ("smooth-64x65", lambda: smooth(65, 64)),
    ("smooth-65x64", lambda: smooth(64, 65)),
    ("smooth-5x5", lambda: smooth(5, 5)),
    ("smooth-5x700", lambda: smooth(700, 5)),
    ("strip-3000x120", lambda: smooth(120, 3000)),
    ("strip-120x3000", lambda: smooth(3000, 120)),
    ("smooth-1MP", lambda: smooth(1000, 1000)),
    ("noise-1MP", lambda: noise(1000, 1000)),
    ("smooth-129x257", lambda: smooth(257, 129)),
    ("smooth-odd-1001x777", lambda: smooth(777, 1001)),
    ("grey-smooth", lambda: grey_as_rgb(smooth(300, 400)[..., 1])),
]


# ------------------------------------------------------------------- PDQ


@pytest.mark.parametrize("name,make", SYNTHETIC, ids=[name for name, _ in SYNTHETIC])
def test_pdq_synthetic_equals_pdqhash(lib, name, make):
    rgb = make()
    assert our_pdq(lib, rgb) == reference_pdq(rgb)


def test_pdq_dct_coefficients_equal_pdqhash(lib):
    """The 256 floats before thresholding agree to the last bit, not just the hash."""
    for rgb in (smooth(480, 640), noise(64, 64), smooth(17, 33), skimage.data.chelsea()):
        reference, _quality = pdqhash.compute_float(rgb)
        # compute_float lists the 16x16 coefficients in reverse row-major order.
        assert np.array_equal(our_dct(lib, rgb), np.asarray(reference, np.float32)[::-1])


def test_pdq_photos_equal_pdqhash(lib):
    mismatches = []
    for name, rgb in photo_variants():
        ours, theirs = our_pdq(lib, rgb), reference_pdq(rgb)
        if ours != theirs:
            mismatches.append(f"{name} {rgb.shape}: ours {ours} reference {theirs}")
    assert not mismatches, "\n".join(mismatches)


def test_pdq_12_megapixel_photo_and_noise(lib):
    for rgb in (resized(skimage.data.astronaut(), 4000, 3000), noise(3000, 4000, seed=7)):
        assert our_pdq(lib, rgb) == reference_pdq(rgb)


def test_pdq_random_sizes(lib):
    rng = _rng(42)
    for case in range(40):
        height, width = (int(v) for v in rng.integers(1, 420, 2))
        rgb = smooth(height, width, seed=case) if case % 2 else noise(height, width, seed=case)
        assert our_pdq(lib, rgb) == reference_pdq(rgb), f"{width}x{height}"


def test_pdq_flat_image_has_quality_zero(lib):
    rgb = np.full((480, 640, 3), 137, np.uint8)
    ours = our_pdq(lib, rgb)
    assert ours == reference_pdq(rgb)
    assert ours[1] == 0


def test_pdq_too_small_image_gives_zero_hash(lib):
    for height, width in ((4, 100), (100, 4), (1, 1)):
        rgb = noise(height, width)
        assert our_pdq(lib, rgb) == ("0" * 64, 0) == reference_pdq(rgb)


def test_pdq_hex_matches_threatexchange_when_installed(lib):
    """Our bit order is python-threatexchange's hex string (checked directly if it is installed)."""
    pdq_hasher = pytest.importorskip("threatexchange.signal_type.pdq.pdq_hasher")
    rgb = skimage.data.coffee()
    assert our_pdq(lib, rgb) == pdq_hasher._pdq_from_numpy_array(rgb)


def test_pdq_rejects_invalid_sizes(lib):
    assert lib.pdq_scratch_bytes(0, 10) == 0
    assert lib.pdq_scratch_bytes(10, -1) == 0
    # At most 2**30 pixels (4 GiB of RGBA, all wasm32 can address), on every build.
    assert lib.pdq_scratch_bytes(2**15 + 1, 2**15) == 0
    assert lib.pdq_scratch_bytes(2**15, 2**15) > 0


def test_dct_table_is_generated_from_the_script():
    generated = subprocess.run(
        [sys.executable, str(WASM_DIR / "gen_dct_table.py")], capture_output=True, text=True, check=True
    ).stdout
    assert generated == (WASM_DIR / "pdq_dct_table.h").read_text()


# ------------------------------------------------------------------- MD5


class Md5:
    """Our streaming MD5 through ctypes, with the context in Python-owned memory."""

    CONTEXT_BYTES = 256  # larger than sizeof(md5_ctx)

    def __init__(self, lib):
        self.lib = lib
        self.ctx = ctypes.create_string_buffer(self.CONTEXT_BYTES)
        lib.md5_init(self.ctx)

    def update(self, data: bytes) -> None:
        self.lib.md5_update(self.ctx, data, len(data))

    def hexdigest(self) -> str:
        out = ctypes.create_string_buffer(16)
        self.lib.md5_final(self.ctx, out)
        return out.raw.hex()


def test_md5_known_vectors(lib):
    # RFC 1321, appendix A.5.
    vectors = {
        b"": "d41d8cd98f00b204e9800998ecf8427e",
        b"a": "0cc175b9c0f1b6a831c399e269772661",
        b"abc": "900150983cd24fb0d6963f7d28e17f72",
        b"message digest": "f96b697d7cb7938d525a2f31aaf161d0",
        b"1234567890" * 8: "57edf4a22be3c955ac49da2e2107b67a",
    }
    for data, expected in vectors.items():
        md5 = Md5(lib)
        md5.update(data)
        assert md5.hexdigest() == expected


def test_md5_random_chunking_equals_hashlib(lib):
    rng = _rng(5)
    for length in [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 65536, 1_000_003]:
        data = rng.bytes(length)
        md5 = Md5(lib)
        position = 0
        while position < length:
            step = int(rng.integers(1, 200)) if rng.random() < 0.7 else int(rng.integers(1, 70000))
            md5.update(data[position : position + step])
            position += step
        assert md5.hexdigest() == hashlib.md5(data).hexdigest(), length


def test_md5_large_stream_equals_hashlib(lib):
    """200 MB, generated chunk by chunk as a browser would stream a video."""
    rng = _rng(9)
    ours, reference = Md5(lib), hashlib.md5()
    remaining = 200 * 1024 * 1024
    while remaining:
        chunk = rng.bytes(min(remaining, int(rng.integers(1, 8 * 1024 * 1024))))
        ours.update(chunk)
        reference.update(chunk)
        remaining -= len(chunk)
    assert ours.hexdigest() == reference.hexdigest()


# -------------------------------------------------- the built WebAssembly


def _node() -> str:
    node = shutil.which("node")
    if not node:
        pytest.fail("Node.js is needed to run static/hashing/pdq.wasm outside a browser: apt-get install nodejs")
    return node


def test_wasm_module_is_small():
    assert WASM_FILE.stat().st_size < 64 * 1024


def test_wasm_pdq_equals_pdqhash(tmp_path):
    cases = [(name, make()) for name, make in SYNTHETIC[:12]]
    cases += photo_variants()[:12]
    cases.append(("astronaut-12MP", resized(skimage.data.astronaut(), 4000, 3000)))
    cases.append(("flat", np.full((300, 200, 3), 90, np.uint8)))
    cases.append(("tiny", noise(4, 4)))
    manifest = []
    for index, (name, rgb) in enumerate(cases):
        path = tmp_path / f"{index}.rgba"
        to_rgba(rgb, seed=index).tofile(path)
        manifest.append({"path": str(path), "width": rgb.shape[1], "height": rgb.shape[0]})
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))

    result = subprocess.run(
        [_node(), str(WASM_DIR / "run_wasm.mjs"), "batch", str(WASM_FILE), str(tmp_path / "manifest.json")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    outputs = json.loads(result.stdout)

    mismatches = []
    for (name, rgb), out in zip(cases, outputs, strict=True):
        if (out["hash"], out["quality"]) != reference_pdq(rgb):
            mismatches.append(f"{name}: wasm {out} reference {reference_pdq(rgb)}")
    assert not mismatches, "\n".join(mismatches)

    # Memory stays close to the RGBA input itself (the design allows 2x).
    largest = max(m["width"] * m["height"] * 4 for m in manifest)
    assert outputs[-1]["memory_bytes"] <= 1.1 * largest + 4 * 1024 * 1024


def test_wasm_md5_equals_hashlib(tmp_path):
    data = _rng(11).bytes(9_000_001)
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    for chunk in ("65536", "1000003"):
        result = subprocess.run(
            [_node(), str(WASM_DIR / "run_wasm.mjs"), "md5", str(WASM_FILE), str(path), chunk],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["md5"] == hashlib.md5(data).hexdigest()
