"""The victim's journey in headless Chromium, in English and Traditional Chinese: open a case, the
receipt, status, adding files, withdrawing, the lockout and the quick exit; and proof that nothing
but hashes leaves the browser. Screenshots of each step go to docs/screenshots/."""

import io
import json
import random
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from cases.models import Case
from hashes.models import HashRecord
from partners.models import Feedback
from tests.conftest import REPO
from tests.factories import PlatformFactory
from tests.screenshots import save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = REPO / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"
# Bytes that must never be seen leaving the browser: every test file carries them.
MARKER = b"NCII-PRIVATE-BYTES-" * 8
NEUTRAL = "https://neutral.example/"


def photo(seed: int) -> bytes:
    """A detailed photo-like PNG (PDQ quality well above 50) with the marker in a text chunk."""
    rng = random.Random(seed)
    image = Image.new("RGB", (96, 96))
    image.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(96 * 96)])
    image = image.resize((320, 240))
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("secret", MARKER.decode())
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


def files(n: int, start: int = 0) -> list[dict]:
    return [{"name": f"private-{i}.png", "mimeType": "image/png", "buffer": photo(i)} for i in range(start, start + n)]


@pytest.fixture
def neutral(page, settings):
    settings.QUICK_EXIT_URL = NEUTRAL
    page.route(NEUTRAL + "**", lambda route: route.fulfill(body="<title>Weather</title><p>Sunny</p>",
                                                          content_type="text/html"))
    return page


def shot(page, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")  # so the sticky "Leave quickly" bar is drawn at the top
    save_screenshot(page, name, full_page=True)


def axe_violations(page) -> list:
    # Injected through evaluate: the CSP (rightly) forbids inline scripts and other origins.
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [(v["id"], [n["target"] for n in v["nodes"]]) for v in result["violations"]]


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def wait_ready(page, count: int) -> None:
    page.wait_for_function(
        f"() => document.querySelectorAll('.file-item[data-state=\"ready\"], .file-item[data-state=\"problem\"]').length >= {count}"
        " && !document.querySelector('.file-item[data-state=\"hashing\"]')",
        timeout=30000,
    )


def open_case(page, base, lang, n=3, name_prefix=None):
    page.goto(f"{base}/{lang}/start/")
    for box in page.locator("[data-declaration]").all():
        box.check()
    page.locator("#files").set_input_files(files(n))
    wait_ready(page, n)
    if name_prefix:
        shot(page, f"{name_prefix}-2-files")
    page.locator("[data-send]").click()
    page.locator("[data-receipt]").wait_for(state="visible")
    return page.locator("[data-case-number]").inner_text(), page.locator("[data-pin]").inner_text()


@pytest.mark.parametrize("lang", ["en", "zh-hant"])
def test_the_whole_journey_with_only_hashes_leaving_the_browser(neutral, live_server, lang):
    page = neutral
    base = live_server.url
    requests = []
    page.on("request", lambda r: requests.append(r))
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    platform = PlatformFactory(name="PhotoSite")

    page.goto(f"{base}/{lang}/")
    shot(page, f"{lang}-0-home")
    page.locator("main a[href$='/start/']").first.click()
    page.wait_for_url(f"{base}/{lang}/start/")
    shot(page, f"{lang}-1-start")

    # Sending without the declarations is refused on the page, and nothing is sent.
    page.locator("#files").set_input_files(files(3) + [{"name": "notes.txt", "mimeType": "text/plain",
                                                         "buffer": MARKER + b"plain text"}])
    wait_ready(page, 4)
    assert page.locator(".file-item img").count() == 3  # local thumbnails
    assert page.locator(".file-item img").first.get_attribute("src").startswith("blob:")
    assert page.locator(".file-item[data-state='problem']").count() == 1  # the text file, in plain words
    page.locator("[data-send]").click()
    assert page.locator("[data-error]").is_visible()
    for box in page.locator("[data-declaration]").all():
        box.check()
    # Remove one photo before sending; it is not sent.
    page.locator(".file-item").nth(2).locator(".file-remove").click()
    assert page.locator(".file-item").count() == 3
    shot(page, f"{lang}-2-files")
    page.locator("[data-send]").click()
    page.locator("[data-receipt]").wait_for(state="visible")
    number, pin = page.locator("[data-case-number]").inner_text(), page.locator("[data-pin]").inner_text()
    case = Case.objects.get()
    assert number == case.display_number and len(pin) == 8 and case.hash_records.count() == 2
    assert case.language == lang
    shot(page, f"{lang}-3-receipt")

    # The receipt can be downloaded as a text file holding both.
    with page.expect_download() as download:
        page.locator("[data-download]").click()
    text = Path(download.value.path()).read_text()
    assert number in text and pin in text

    # Leaving is held until the person says they have saved them.
    page.locator("[data-done]").click()
    assert page.locator("[data-done-problem]").is_visible()
    page.locator("[data-saved]").check()
    page.locator("[data-done]").click()
    page.wait_for_url(f"{base}/{lang}/check/")

    Feedback.objects.create(organisation=platform, hash_record=case.hash_records.first(), verdict="Blocked")
    page.fill("#case-number", number.lower().replace("-", " "))
    page.fill("#pin", pin)
    page.locator("[data-sign-in-form] button[type=submit]").click()
    page.locator("[data-case]").wait_for(state="visible")
    assert page.locator("[data-hash-list] > li").count() == 2
    assert page.locator("[data-verdict='Blocked']").count() == 1
    shot(page, f"{lang}-4-status")

    page.locator("#more-files").set_input_files(files(1, start=10))
    wait_ready(page, 1)
    page.locator("[data-add-send]").click()
    page.wait_for_function("() => document.querySelectorAll('[data-hash-list] > li').length === 3")
    shot(page, f"{lang}-5-added")

    page.locator("[data-withdraw-ask]").click()
    assert page.locator("[data-withdraw-confirm]").is_visible()
    shot(page, f"{lang}-6-withdraw-confirm")
    page.locator("[data-withdraw-yes]").click()
    page.locator("[data-active-only]").wait_for(state="hidden")
    assert Case.objects.get().status == "withdrawn"
    assert set(HashRecord.objects.values_list("status", flat=True)) == {"withdrawn"}
    shot(page, f"{lang}-7-withdrawn")

    # Nothing but hashes left the browser: no request went elsewhere, no body holds any part of a
    # file, and the bytes sent per file are a few hundred.
    origin = urlsplit(base).netloc
    http = [r for r in requests if r.url.startswith("http")]
    assert all(urlsplit(r.url).netloc == origin for r in http), [r.url for r in http]
    bodies = [r.post_data_buffer or b"" for r in http]
    sent_files = [photo(i) for i in (0, 1, 2, 10)]
    for body in bodies:
        assert MARKER[:16] not in body
        for data in sent_files:
            for offset in range(0, len(data) - 32, 997):
                assert data[offset:offset + 32] not in body
    api = [r for r in http if "/api/v1/cases/" in r.url]
    assert all("pin" not in r.url.lower() and number.replace("-", "") not in r.url for r in http)
    hash_bytes = sum(len(r.post_data_buffer or b"") for r in api if r.url.endswith(("/cases/", "/hashes/")))
    assert hash_bytes / 3 < 600, hash_bytes
    assert problems == []


def test_a_failed_send_keeps_the_hashes_and_a_retry_opens_one_case(page, live_server):
    base = live_server.url
    page.goto(f"{base}/en/start/")
    for box in page.locator("[data-declaration]").all():
        box.check()
    page.locator("#files").set_input_files(files(2))
    wait_ready(page, 2)
    # The first answer is lost on the way back (the case is created), as with a dropped connection.
    state = {"n": 0}

    def drop_first(route):
        state["n"] += 1
        response = route.fetch()
        if state["n"] == 1:
            route.abort("connectionreset")
        else:
            route.fulfill(response=response)

    page.route("**/api/v1/cases/", drop_first)
    page.locator("[data-send]").click()
    page.locator("[data-error]").wait_for(state="visible")
    assert page.locator(".file-item[data-state='ready']").count() == 2
    assert Case.objects.count() == 1
    page.locator("[data-send]").click()
    page.locator("[data-receipt]").wait_for(state="visible")
    assert Case.objects.count() == 1
    assert page.locator("[data-case-number]").inner_text() == Case.objects.get().display_number


@pytest.mark.parametrize("lang, words", [("en", "locked"), ("zh-hant", "鎖定")])
def test_wrong_pins_lock_the_case_on_the_page(page, live_server, lang, words, settings):
    settings.CASE_PIN_MAX_FAILURES = 3
    number, pin = open_case(page, live_server.url, lang)
    page.goto(f"{live_server.url}/{lang}/check/")
    wrong = str((int(pin) + 1) % 10**8).zfill(8)
    error = page.locator("[data-sign-in-error]")
    for _ in range(3):
        page.fill("#case-number", number)
        page.fill("#pin", wrong)
        page.locator("[data-sign-in-form] button[type=submit]").click()
        page.wait_for_timeout(300)
    assert words in error.inner_text()
    page.fill("#pin", pin)
    page.locator("[data-sign-in-form] button[type=submit]").click()
    page.wait_for_timeout(300)
    assert words in error.inner_text() and page.locator("[data-case]").is_hidden()
    shot(page, f"{lang}-8-locked")


@pytest.mark.parametrize("how", ["button", "escape"])
def test_quick_exit_replaces_the_page_and_leaves_no_way_back(neutral, live_server, how):
    page = neutral
    page.goto("about:blank")
    page.goto(f"{live_server.url}/en/")
    page.locator("main a[href$='/start/']").first.click()
    page.wait_for_url("**/en/start/")
    if how == "button":
        page.locator("#quick-exit").click()
    else:
        page.keyboard.press("Escape")
    page.wait_for_url(NEUTRAL + "**")
    page.go_back()
    assert live_server.url not in page.url  # Back leads to where the person was before the portal


def test_quick_exit_is_not_held_up_by_the_receipt(neutral, live_server):
    open_case(neutral, live_server.url, "en")
    neutral.keyboard.press("Escape")
    neutral.wait_for_url(NEUTRAL + "**")


def test_the_whole_flow_works_with_the_keyboard_alone(page, live_server):
    page.goto(f"{live_server.url}/en/start/")
    for _ in range(4):  # through skip link, quick exit, site name, language buttons to the first box
        page.keyboard.press("Tab")
    for _ in range(30):
        if page.evaluate("document.activeElement.matches('[data-declaration]')"):
            break
        page.keyboard.press("Tab")
    for _ in range(4):
        assert page.evaluate("document.activeElement.matches('[data-declaration]')")
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "files"  # the picker is reachable
    # Space opens it. Headless Chromium on a loaded machine has once let a key press go by without
    # a chooser; pressing again is still the keyboard alone.
    for attempt in range(3):
        try:
            with page.expect_file_chooser(timeout=10_000) as chooser:
                page.keyboard.press("Space")
            break
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
    chooser.value.set_files(files(1))
    wait_ready(page, 1)
    page.locator(".file-remove").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.matches('[data-send]')")
    page.keyboard.press("Enter")
    page.locator("[data-receipt]").wait_for(state="visible")
    assert Case.objects.count() == 1


PAGES = ["", "start/", "check/"]


@pytest.mark.parametrize("lang", ["en", "zh-hant"])
def test_axe_finds_no_violations_on_any_victim_page(page, live_server, lang, settings):
    settings.CASE_PIN_MAX_FAILURES = 5
    for path in PAGES:
        page.goto(f"{live_server.url}/{lang}/{path}")
        assert axe_violations(page) == [], path
    # With files chosen, the receipt, and a signed-in case with its withdraw confirmation.
    page.goto(f"{live_server.url}/{lang}/start/")
    page.locator("#files").set_input_files(files(2) + [{"name": "x.txt", "mimeType": "text/plain", "buffer": b"x"}])
    wait_ready(page, 3)
    assert axe_violations(page) == [], "files"
    number, pin = open_case(page, live_server.url, lang)
    assert axe_violations(page) == [], "receipt"
    page.goto(f"{live_server.url}/{lang}/check/")
    page.fill("#case-number", number)
    page.fill("#pin", "00000000" if pin != "00000000" else "11111111")
    page.locator("[data-sign-in-form] button[type=submit]").click()
    page.locator("[data-sign-in-error]").wait_for(state="visible")
    assert axe_violations(page) == [], "sign-in error"
    page.fill("#pin", pin)
    page.locator("[data-sign-in-form] button[type=submit]").click()
    page.locator("[data-case]").wait_for(state="visible")
    page.locator("[data-withdraw-ask]").click()
    assert axe_violations(page) == [], "case"


@pytest.mark.parametrize("lang", ["en", "zh-hant"])
def test_the_layout_holds_at_320px_and_at_200_percent_zoom(browser, live_server, lang):
    # 200% zoom on a 1280 px wide window leaves 640 CSS pixels; 320 px is the narrowest phone.
    for width, scale in [(320, 1), (640, 2)]:
        context = browser.new_context(viewport={"width": width, "height": 800}, device_scale_factor=scale)
        page = context.new_page()
        for path in PAGES:
            page.goto(f"{live_server.url}/{lang}/{path}")
            assert fits(page), (width, path)
            smallest = page.evaluate(
                "Math.min(...[...document.querySelectorAll('main p, main li, main label')]"
                ".map(e => parseFloat(getComputedStyle(e).fontSize)))"
            )
            assert smallest >= 14, (path, smallest)
        number, pin = open_case(page, live_server.url, lang, n=1)
        assert fits(page), (width, "receipt")
        if width == 320:
            shot(page, f"{lang}-receipt-320px")
        context.close()


def _weigh(page, url: str, after=None) -> tuple[int, list[str]]:
    """Bytes on the wire (headers and bodies) for everything the page, and its worker, fetched."""
    seen = []

    def record(request):
        seen.append(request)

    page.on("requestfinished", record)
    page.goto(url)
    page.wait_for_load_state("networkidle")
    if after:
        after()
        page.wait_for_load_state("networkidle")
    page.remove_listener("requestfinished", record)
    total = 0
    seen = [r for r in seen if r.url.startswith("http")]  # thumbnails' blob: URLs are not network
    for request in seen:
        sizes = request.sizes()
        total += sizes["requestHeadersSize"] + sizes["responseHeadersSize"] + sizes["responseBodySize"]
    return total, [r.url.rsplit("/", 1)[-1] for r in seen]


def test_page_weights(page, live_server):
    def hash_one():  # loads the worker and the WebAssembly module
        page.locator("#files").set_input_files(files(1))
        wait_ready(page, 1)

    weights, names = {}, {}
    weights["home"], names["home"] = _weigh(page, f"{live_server.url}/en/")
    weights["start"], names["start"] = _weigh(page, f"{live_server.url}/en/start/", hash_one)
    weights["check"], names["check"] = _weigh(page, f"{live_server.url}/en/check/")
    assert "pdq.wasm" in names["start"] and "worker.js" in names["start"], names["start"]
    (REPO / "var" / "victim-page-weights.json").write_text(json.dumps({"bytes": weights, "files": names}))
    assert weights["home"] < 100_000 and weights["start"] < 250_000 and weights["check"] < 250_000, weights
