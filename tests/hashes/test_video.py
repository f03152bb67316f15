"""Video hashes in the browser against Meta's vpdq on the same clips, made here with ffmpeg."""

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from hashes.decoding import hash_file
from tests.hashes.hashing_helpers import hamming, hash_files, open_page, photo, resized

try:
    import vpdq
except ImportError as exc:  # pragma: no cover - a setup error, reported clearly
    raise ImportError(
        "tests/hashes/test_video.py needs vpdq (pip install -r requirements-video.txt, after "
        "apt-get install pkg-config libavcodec-dev libavformat-dev libavdevice-dev libavfilter-dev "
        "libswresample-dev libswscale-dev libavutil-dev; scripts/run-tests.sh does both)"
    ) from exc

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Where vPDQ (and python-threatexchange's VPDQ matcher) call two frames the same.
MATCH_DISTANCE = 31


def ffmpeg(*args: str) -> None:
    if not shutil.which("ffmpeg"):
        pytest.fail("ffmpeg is needed to make the test clips: apt-get install ffmpeg (scripts/run-tests.sh does)")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *args], check=True)


def slideshow(folder: Path, name: str, rate: str, codec: list[str]) -> Path:
    """About 8 seconds of real photos, each slowly panned across, as a phone video would move."""
    inputs, filters = [], []
    for index, picture in enumerate(("astronaut", "coffee", "chelsea", "rocket")):
        still = folder / f"{picture}.png"
        Image.fromarray(resized(photo(picture), 640, 480)).save(still)
        inputs += ["-loop", "1", "-t", "2", "-framerate", rate, "-i", str(still)]
        filters.append(f"[{index}]crop=560:420:x='t*30':y='t*15',scale=640:480,setsar=1,format=yuv420p[v{index}]")
    graph = ";".join(filters) + ";" + "".join(f"[v{i}]" for i in range(4)) + "concat=n=4:v=1:a=0[out]"
    clip = folder / name
    ffmpeg(*inputs, "-filter_complex", graph, "-map", "[out]", "-r", rate, *codec, str(clip))
    return clip


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    return {
        "h264-30fps.mp4": slideshow(folder, "h264-30fps.mp4", "30", ["-c:v", "libx264", "-g", "60"]),
        "vp9-29.97fps.webm": slideshow(folder, "vp9-29.97fps.webm", "30000/1001",
                                       ["-c:v", "libvpx-vp9", "-b:v", "1M", "-deadline", "realtime", "-cpu-used", "8"]),
    }


def test_frame_hashes_match_vpdq_on_the_same_clips(page, live_server, clips):
    problems = open_page(page, live_server)
    results = hash_files(page, list(clips.values()))
    report = []
    for name, path in clips.items():
        assert "result" in results[name], results[name]
        browser = results[name]["result"]
        assert browser["kind"] == "video"
        assert browser["md5"] == hashlib.md5(path.read_bytes()).hexdigest()
        reference = vpdq.computeHash(str(path), seconds_per_hash=1)
        # The same frames, at the same times, as vpdq chooses them.
        assert [f["frameNumber"] for f in browser["frames"]] == [f.frame_number for f in reference]
        assert [f["timestamp"] for f in browser["frames"]] == [round(f.timestamp, 3) for f in reference]
        distances = [hamming(ours["pdq"], theirs.hex) for ours, theirs in zip(browser["frames"], reference)]
        matched = sum(d <= MATCH_DISTANCE for d in distances)
        report.append(f"{name}: {matched}/{len(reference)} frames within {MATCH_DISTANCE} "
                      f"(distances {min(distances)}..{max(distances)}, mean {sum(distances) / len(distances):.1f})")
        # Decoders convert YUV to RGB a little differently (and vpdq's PDQ computes luminance in
        # float32): every frame must still be the same picture to a platform.
        assert matched == len(reference), distances
        assert all(abs(ours["quality"] - theirs.quality) <= 10
                   for ours, theirs in zip(browser["frames"], reference))
        # The text vpdq writes, line for line in its layout.
        lines = browser["vpdq"].splitlines()
        assert len(lines) == len(reference)
        for line, frame in zip(lines, browser["frames"]):
            assert line == f"{frame['frameNumber']},{frame['quality']},{frame['pdq']},{frame['timestamp']:.3f}"
    print("\n" + "\n".join(report))
    assert problems == []


def test_the_server_gives_vpdq_frames_for_a_video(clips):
    path = clips["h264-30fps.mp4"]
    result = hash_file(path)
    assert result["kind"] == "video" and result["md5"] == hashlib.md5(path.read_bytes()).hexdigest()
    reference = vpdq.computeHash(str(path), seconds_per_hash=1)
    assert [(f["frameNumber"], f["pdq"], f["quality"]) for f in result["frames"]] == [
        (f.frame_number, f.hex, f.quality) for f in reference
    ]


def test_a_video_the_browser_cannot_play_still_gets_its_md5(page, live_server, tmp_path):
    # MPEG-4 Part 2 in AVI: ffmpeg makes it, Chromium does not play it.
    clip = tmp_path / "old-camera.avi"
    still = tmp_path / "still.png"
    Image.fromarray(photo("coffee")).save(still)
    ffmpeg("-loop", "1", "-t", "2", "-i", str(still), "-c:v", "mpeg4", str(clip))
    (tmp_path / "cut.webm").write_bytes(b"\x1a\x45\xdf\xa3" + bytes(4000))
    open_page(page, live_server)
    results = hash_files(page, [clip, tmp_path / "cut.webm"])
    for name, path in (("old-camera.avi", clip), ("cut.webm", tmp_path / "cut.webm")):
        result = results[name]["result"]
        assert result["kind"] == "video" and result["frames"] == []
        assert result["md5"] == hashlib.md5(path.read_bytes()).hexdigest()
        assert result["warning"]["code"] in ("unsupported", "unreadable")
        assert result["warning"]["message"]
