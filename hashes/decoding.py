"""Hash a file on the server the way the victim's browser does (static/hashing/).

NGO staff use it through `manage.py hash_file`, and tests compare it with the browser. The policy,
written down in docs/hashing.md, is the browser's:

- the file's kind comes from its first bytes, not its name, and the same formats are accepted;
- images are seen as a person sees them: EXIF orientation applied, no colour-space conversion
  (embedded ICC profiles are ignored), the first frame of an animation, transparent parts
  composited over white;
- an image over MAX_PIXELS is refused before its pixels are decoded;
- PDQ comes from `pdqhash` (the reference python-threatexchange wraps), MD5 from the file's bytes.
"""

import hashlib
import io
import os
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pdqhash
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from hashes.signal_types import PDQ_MIN_QUALITY

# The browser's limits (static/hashing/formats.js): 2^26 pixels, and a canvas's largest side.
MAX_PIXELS = 2**26
MAX_SIDE = 32767
MD5_CHUNK = 4 * 1024 * 1024

HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
AVIF_BRANDS = {b"avif", b"avis"}

MESSAGES = {
    "empty": _("This file is empty."),
    "unreadable": _("This file could not be read. It may be damaged or only partly downloaded."),
    "unsupported": _("This type of file cannot be fingerprinted. Photos in JPEG, PNG, WebP, GIF or AVIF "
                     "and videos in MP4 or WebM can."),
    "too_large": _("This image is too large to fingerprint (more than %(megapixels)s megapixels)."),
    "too_plain": _("This image is too plain to fingerprint: it has too little detail for platforms to "
                   "recognise copies of it. Its exact copies can still be found by its MD5."),
}


class HashingError(Exception):
    """A file that cannot be hashed, with a stable `code` (a key of MESSAGES) and a message."""

    def __init__(self, code: str, detail: str = "", **extra: object):
        self.code = code
        self.detail = detail
        self.extra = extra
        super().__init__(f"{code}: {detail}" if detail else code)

    @property
    def message(self) -> str:
        return str(MESSAGES[self.code]) % {"megapixels": MAX_PIXELS // 10**6}


def sniff(head: bytes) -> tuple[str | None, str | None]:
    """(kind, format) from a file's first bytes, as static/hashing/formats.js decides it."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "png"
    if head.startswith(b"GIF8"):
        return "image", "gif"
    if head.startswith(b"BM"):
        return "image", "bmp"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image", "webp"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "video", "avi"
    if head[4:8] == b"ftyp":
        size = int.from_bytes(head[:4], "big")
        brands = {head[at:at + 4] for at in range(8, min(size, len(head)) - 3, 4) if at != 12}
        if brands & AVIF_BRANDS:
            return "image", "avif"
        if brands & HEIF_BRANDS:
            return "unsupported", "heic"
        return "video", "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video", "webm"
    if head.startswith(b"OggS"):
        return "video", "ogg"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "unsupported", "tiff"
    if head.startswith(b"8BPS"):
        return "unsupported", "psd"
    return None, None


def pdq_hex(rgb: np.ndarray) -> tuple[str, int]:
    """PDQ of HxWx3 uint8 pixels as 64 hex characters, in python-threatexchange's bit order."""
    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb))
    value = int("".join(str(int(b)) for b in bits), 2)
    return f"{value:064x}", int(quality)


def flatten(image: Image.Image) -> np.ndarray:
    """The pixels a person sees on a white page, as HxWx3 uint8, without colour conversion."""
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if image.mode.startswith("I;16"):
        # 16-bit greyscale: browsers keep the high byte of each sample.
        image = Image.fromarray((np.asarray(image, dtype=np.uint16) >> 8).astype(np.uint8), "L")
    if not has_alpha:
        return np.asarray(image.convert("RGB"))
    rgba = np.asarray(image.convert("RGBA")).astype(np.uint32)
    colour, alpha = rgba[..., :3], rgba[..., 3:]
    # Source-over white in the browser's integer arithmetic: the colour premultiplied by alpha and
    # rounded, plus white times (1 - alpha), which is exactly 255 - alpha.
    premultiplied = (2 * colour * alpha + 255) // 510
    return (premultiplied + 255 - alpha).astype(np.uint8)


def _open(source: "str | os.PathLike | bytes") -> BinaryIO:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(source)
    try:
        return open(source, "rb")
    except OSError as error:
        raise HashingError("unreadable", str(error)) from error


def _md5(stream: BinaryIO) -> str:
    stream.seek(0)
    digest = hashlib.md5(usedforsecurity=False)
    while chunk := stream.read(MD5_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _hash_image(stream: BinaryIO, image_format: str, md5: str) -> dict:
    stream.seek(0)
    try:
        with Image.open(stream) as image:
            width, height = image.size
            if width * height > MAX_PIXELS or width > MAX_SIDE or height > MAX_SIDE:
                raise HashingError("too_large", f"{width}x{height}")
            image.seek(0)
            upright = ImageOps.exif_transpose(image)
            rgb = flatten(upright)
    except HashingError:
        raise
    except Image.DecompressionBombError as error:
        # Pillow's own guard, for sizes it reads before we can.
        raise HashingError("too_large", str(error)) from error
    except UnidentifiedImageError as error:
        raise HashingError("unreadable", str(error)) from error
    except (OSError, ValueError, SyntaxError) as error:
        # Pillow reports damaged data as OSError ("image file is truncated"), SyntaxError or ValueError.
        raise HashingError("unreadable", f"{type(error).__name__}: {error}") from error
    pdq, quality = pdq_hex(rgb)
    height, width = rgb.shape[:2]
    if quality < PDQ_MIN_QUALITY:
        raise HashingError("too_plain", f"quality {quality}", md5=md5, quality=quality)
    return {"kind": "image", "format": image_format, "md5": md5, "pdq": pdq, "quality": quality,
            "width": width, "height": height}


def _hash_video(path: "str | os.PathLike | None", video_format: str, md5: str) -> dict:
    result: dict = {"kind": "video", "format": video_format, "md5": md5}
    try:
        import vpdq  # compiled against FFmpeg; a test and staff tool, not a runtime dependency
    except ImportError:
        result["warning"] = {"code": "unsupported", "detail": "frame hashes need the vpdq package"}
        return result
    if path is None:
        result["warning"] = {"code": "unsupported", "detail": "frame hashes need a file on disk"}
        return result
    features = vpdq.computeHash(str(path), seconds_per_hash=1)
    result["frames"] = [
        {"frameNumber": f.frame_number, "timestamp": round(f.timestamp, 3), "pdq": f.hex, "quality": f.quality}
        for f in features
    ]
    if not features:
        result["warning"] = {"code": "unreadable", "detail": "no frame could be decoded"}
    return result


def hash_file(source: "str | os.PathLike | bytes") -> dict:
    """Hash an image or a video as the browser does; raise HashingError with the reason if not."""
    with _open(source) as stream:
        head = stream.read(64)
        if not head:
            raise HashingError("empty")
        kind, file_format = sniff(head)
        if kind not in ("image", "video"):
            raise HashingError("unsupported", file_format or "unknown signature")
        md5 = _md5(stream)
        if kind == "video":
            path = None if isinstance(source, (bytes, bytearray, memoryview)) else Path(source)
            return _hash_video(path, file_format, md5)
        return _hash_image(stream, file_format, md5)


def hash_image_file(source: "str | os.PathLike | bytes") -> dict:
    """Hash an image as the browser does; a video is refused as unsupported."""
    result = hash_file(source)
    if result["kind"] != "image":
        raise HashingError("unsupported", "a video, not an image")
    return result
