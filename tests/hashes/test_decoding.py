"""hashes/decoding.py and `manage.py hash_file`: the server hashes files as the browser does."""

import hashlib
import io
import json
import time

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from hashes.decoding import MAX_PIXELS, HashingError, flatten, hash_file, hash_image_file, sniff
from tests.hashes.hashing_helpers import (
    corrupted_jpeg,
    hamming,
    heic_bytes,
    huge_png,
    photo,
    reference_pdq,
    resized,
    transparent,
    with_orientation,
    write_corpus,
)


def code_of(source) -> str | None:
    try:
        hash_file(source)
    except HashingError as error:
        return error.code
    return None


def test_every_photo_in_the_corpus_hashes_to_pdqhash_of_its_decoded_pixels(tmp_path):
    for name, path in write_corpus(tmp_path).items():
        result = hash_image_file(path)
        assert result["md5"] == hashlib.md5(path.read_bytes()).hexdigest()
        assert result["quality"] >= 50, name
        with Image.open(path) as image:
            if name.endswith((".png", ".bmp", ".gif")) and image.mode == "RGB":
                assert (result["pdq"], result["quality"]) == reference_pdq(np.asarray(image)), name


def test_bytes_and_paths_give_the_same_answer(tmp_path):
    path = write_corpus(tmp_path)["astronaut.jpg"]
    assert hash_image_file(path.read_bytes()) == hash_image_file(path) == hash_image_file(str(path))


def test_exif_orientation_is_applied(tmp_path):
    upright = resized(photo("astronaut"), 400, 300)
    for orientation in (3, 6, 8):
        path = tmp_path / f"turned-{orientation}.jpg"
        with_orientation(upright, path, orientation)
        result = hash_image_file(path)
        assert (result["width"], result["height"]) == (400, 300)
        # Near the upright picture (JPEG is lossy); far from the pixels as stored.
        assert hamming(result["pdq"], reference_pdq(upright)[0]) <= 8
        with Image.open(path) as stored:
            assert hamming(result["pdq"], reference_pdq(np.asarray(stored))[0]) > 64


def test_transparent_pixels_are_composited_over_white():
    rgba = transparent(photo("coffee"))
    flat = flatten(Image.fromarray(rgba, "RGBA")).astype(int)
    # Within rounding of Pillow's own float composite over white...
    white = Image.new("RGBA", (rgba.shape[1], rgba.shape[0]), (255, 255, 255, 255))
    pillow = np.asarray(Image.alpha_composite(white, Image.fromarray(rgba, "RGBA")).convert("RGB")).astype(int)
    assert np.abs(flat - pillow).max() <= 1
    # ...opaque pixels untouched, invisible ones white whatever colour hides under them.
    opaque, clear = rgba[..., 3] == 255, rgba[..., 3] == 0
    assert (flat[opaque] == rgba[..., :3][opaque]).all()
    assert (flat[clear] == 255).all()


def test_greyscale_palette_and_16_bit_images_become_rgb():
    camera = np.asarray(photo("camera"))[..., 0]
    assert (flatten(Image.fromarray(camera, "L")) == np.dstack([camera] * 3)).all()
    sixteen = Image.fromarray(camera.astype(np.uint16) * 257)
    assert sixteen.mode == "I;16"
    assert (flatten(sixteen) == np.dstack([camera] * 3)).all()
    palette = Image.fromarray(photo("chelsea")).quantize(64)
    assert (flatten(palette) == np.asarray(palette.convert("RGB"))).all()


@pytest.mark.parametrize(
    "head, expected",
    [
        (b"\xff\xd8\xff\xe0", ("image", "jpeg")),
        (b"\x89PNG\r\n\x1a\n", ("image", "png")),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", ("image", "webp")),
        (b"GIF89a", ("image", "gif")),
        (heic_bytes(), ("unsupported", "heic")),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", ("image", "avif")),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", ("video", "mp4")),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ", ("video", "mp4")),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81", ("video", "webm")),
        (b"II*\x00\x08\x00", ("unsupported", "tiff")),
        (b"hello world", (None, None)),
    ],
)
def test_the_kind_of_file_comes_from_its_first_bytes(head, expected):
    assert sniff(head) == expected


def test_bad_files_each_get_their_reason(tmp_path):
    corrupted_jpeg(tmp_path / "corrupted.jpg")
    Image.new("RGB", (640, 480), (30, 90, 200)).save(tmp_path / "plain.png")
    png = io.BytesIO()
    Image.fromarray(photo("coffee")).save(png, "PNG")
    (tmp_path / "half.png").write_bytes(png.getvalue()[: len(png.getvalue()) // 2])
    assert code_of(b"") == "empty"
    assert code_of(heic_bytes()) == "unsupported"
    assert code_of(b"not an image at all") == "unsupported"
    assert code_of(tmp_path / "corrupted.jpg") == "unreadable"
    assert code_of(tmp_path / "half.png") == "unreadable"
    assert code_of(tmp_path / "plain.png") == "too_plain"
    assert code_of(tmp_path / "does-not-exist.jpg") == "unreadable"
    with pytest.raises(HashingError) as raised:
        hash_file(tmp_path / "plain.png")
    assert raised.value.extra["quality"] < 50
    assert raised.value.extra["md5"] == hashlib.md5((tmp_path / "plain.png").read_bytes()).hexdigest()
    assert "too plain" in raised.value.message


def test_a_huge_image_is_refused_before_its_pixels_are_decoded(tmp_path):
    for width, height in ((20000, 20000), (9000, 8000), (40000, 100)):
        huge_png(tmp_path / "huge.png", width, height)
        assert width * height > MAX_PIXELS or max(width, height) > 32767
        started = time.monotonic()
        with pytest.raises(HashingError) as raised:
            hash_file(tmp_path / "huge.png")
        assert raised.value.code == "too_large"
        # Decoding 400 million pixels would take seconds and gigabytes; the header takes nothing.
        assert time.monotonic() - started < 1.0
        assert "67 megapixels" in raised.value.message


def test_the_command_prints_a_json_line_per_file_and_carries_on_after_bad_ones(tmp_path, capsys):
    corpus = write_corpus(tmp_path)
    (tmp_path / "empty.jpg").write_bytes(b"")
    paths = [corpus["astronaut.jpg"], tmp_path / "empty.jpg", corpus["coffee.png"]]
    with pytest.raises(CommandError) as raised:
        call_command("hash_file", *map(str, paths))
    assert raised.value.returncode == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["path"] for line in lines] == list(map(str, paths))
    assert lines[0] == {"path": str(paths[0]), **hash_image_file(paths[0])}
    assert lines[1]["error"]["code"] == "empty" and lines[1]["error"]["message"]
    assert lines[2]["pdq"] == hash_image_file(paths[2])["pdq"]


def test_the_command_succeeds_when_every_file_hashes(tmp_path, capsys):
    path = write_corpus(tmp_path)["chelsea.webp"]
    call_command("hash_file", str(path))
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["md5"] == hashlib.md5(path.read_bytes()).hexdigest()
