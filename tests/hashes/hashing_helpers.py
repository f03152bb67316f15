"""Shared by the hashing tests: a corpus of real photos in many encodings, and the browser driver."""

import io
import zlib
from pathlib import Path

import numpy as np
import pdqhash
import skimage.data
from PIL import Image

HASHER = "/static/hashing/hasher.js"


def hamming(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def reference_pdq(rgb: np.ndarray) -> tuple[str, int]:
    """pdqhash on HxWx3 pixels, as hex in python-threatexchange's bit order."""
    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb))
    return f"{int(''.join(str(int(b)) for b in bits), 2):064x}", int(quality)


def photo(name: str) -> np.ndarray:
    """A scikit-image photograph as HxWx3 uint8 (greyscale ones repeated over three channels)."""
    pixels = getattr(skimage.data, name)()
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, axis=2)
    return np.ascontiguousarray(pixels[..., :3].astype(np.uint8))


def resized(pixels: np.ndarray, width: int, height: int) -> np.ndarray:
    return np.asarray(Image.fromarray(pixels).resize((width, height), Image.LANCZOS))


def transparent(pixels: np.ndarray) -> np.ndarray:
    """RGBA with every kind of alpha: a gradient, an opaque block and a fully transparent block
    whose hidden colour is noise (it must not matter)."""
    height, width = pixels.shape[:2]
    alpha = np.tile(np.linspace(0, 255, width).astype(np.uint8), (height, 1))
    alpha[: height // 3, : width // 3] = 255
    alpha[-height // 4 :, -width // 4 :] = 0
    rgba = np.dstack([pixels, alpha])
    hidden = rgba[-height // 4 :, -width // 4 :, :3]
    hidden[:] = np.random.default_rng(7).integers(0, 256, hidden.shape, dtype=np.uint8)
    return rgba


def with_orientation(pixels: np.ndarray, path: Path, orientation: int) -> None:
    """Save a JPEG whose stored pixels are `pixels` turned so that EXIF `orientation` turns them
    back: a person sees `pixels` upright."""
    stored = {6: np.rot90(pixels, 1), 8: np.rot90(pixels, -1), 3: np.rot90(pixels, 2)}[orientation]
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(np.ascontiguousarray(stored)).save(path, quality=92, exif=exif.tobytes())


def write_corpus(folder: Path) -> dict[str, Path]:
    """Real photos as the files people pick: several formats, sizes and quirks."""
    astronaut, coffee, chelsea = photo("astronaut"), photo("coffee"), photo("chelsea")
    rocket, camera = photo("rocket"), getattr(skimage.data, "camera")()
    files: dict[str, tuple[Image.Image, dict]] = {
        "astronaut.jpg": (Image.fromarray(astronaut), {"quality": 90}),
        "coffee.png": (Image.fromarray(coffee), {}),
        "chelsea.webp": (Image.fromarray(chelsea), {"quality": 80}),
        "rocket-lossless.webp": (Image.fromarray(rocket), {"lossless": True}),
        "camera-grey.jpg": (Image.fromarray(camera), {"quality": 85}),
        "camera-grey.png": (Image.fromarray(camera), {}),
        "coffee-odd-333x217.jpg": (Image.fromarray(resized(coffee, 333, 217)), {"quality": 88}),
        "chelsea-strip-3000x120.png": (Image.fromarray(resized(chelsea, 3000, 120)), {}),
        "rocket-thumb-32x32.jpg": (Image.fromarray(resized(rocket, 32, 32)), {"quality": 95}),
        "astronaut-1mp.webp": (Image.fromarray(resized(astronaut, 1000, 1000)), {"quality": 75}),
        "coffee-transparent.png": (Image.fromarray(transparent(coffee), "RGBA"), {}),
        "chelsea-palette.gif": (Image.fromarray(chelsea).quantize(256), {}),
        "rocket.bmp": (Image.fromarray(rocket), {}),
    }
    paths = {}
    for name, (image, options) in files.items():
        paths[name] = folder / name
        image.save(paths[name], **options)
    paths["astronaut-exif-rotated.jpg"] = folder / "astronaut-exif-rotated.jpg"
    with_orientation(resized(astronaut, 400, 300), paths["astronaut-exif-rotated.jpg"], 6)
    return paths


def huge_png(path: Path, width: int = 20000, height: int = 20000) -> None:
    """A valid 1-bit PNG of width x height, written in a few hundred KB without holding its pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\x55" * ((width + 7) // 8)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([1, 0, 0, 0, 0])
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def heic_bytes() -> bytes:
    """The start of an iPhone photo: an ISO box 'ftyp' with HEIC brands (the rest is irrelevant:
    neither side gets further)."""
    return b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200)


def corrupted_jpeg(path: Path) -> None:
    """A real JPEG whose compressed data is cut short and overwritten: the header still parses."""
    buffer = io.BytesIO()
    Image.fromarray(photo("astronaut")).save(buffer, "JPEG", quality=90)
    data = bytearray(buffer.getvalue()[:6000])
    data[3000:] = bytes(len(data) - 3000)
    path.write_bytes(bytes(data))


# ---------------------------------------------------------------- driving the page

INJECT_INPUT = """() => {
  if (!document.getElementById("hash-files")) {
    const input = document.createElement("input");
    input.type = "file";
    input.multiple = true;
    input.id = "hash-files";
    document.body.append(input);
  }
}"""

HASH_FILES = """async () => {
  const { hashFile } = await import("%s");
  const results = [];
  for (const file of document.getElementById("hash-files").files) {
    const progress = [];
    try {
      const result = await hashFile(file, { onProgress: (p) => progress.push(p) });
      results.push({ name: file.name, result, progress });
    } catch (error) {
      results.push({ name: file.name, progress, error: {
        name: error.name, code: error.code, message: error.message, detail: error.detail,
        md5: error.md5, quality: error.quality } });
    }
  }
  return results;
}""" % HASHER


def open_page(page, live_server, language: str = "en") -> list[str]:
    """Open a real page (its real Content-Security-Policy applies) and collect its console errors."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{live_server.url}/{language}/")
    return problems


def hash_files(page, paths: list[Path]) -> dict[str, dict]:
    """hashFile() on each file in turn, picked through a file input as a person would: by name."""
    page.evaluate(INJECT_INPUT)
    page.set_input_files("#hash-files", [str(p) for p in paths])
    return {item["name"]: item for item in page.evaluate(HASH_FILES)}
