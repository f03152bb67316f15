from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_home_page_loads_only_from_our_own_origin_without_policy_violations(page, live_server):
    requests, problems = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(live_server.url + "/en/")
    page.wait_for_load_state("networkidle")

    origin = urlsplit(live_server.url).netloc
    assert requests and all(urlsplit(u).netloc == origin for u in requests), requests
    assert any("/static/css/site.css" in u for u in requests)
    assert problems == []  # a Content-Security-Policy violation would be reported here


def test_the_skip_link_is_the_first_stop_for_keyboard_users(page, live_server):
    page.goto(live_server.url + "/en/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_switching_language_stays_on_the_page_and_is_remembered(page, live_server):
    page.goto(live_server.url + "/en/")
    page.locator(".language-switcher summary").click()
    page.get_by_role("button", name="繁體中文").click()
    page.wait_for_url(live_server.url + "/zh-hant/")
    assert page.locator("html").get_attribute("lang") == "zh-hant"
    assert "你的影像" in page.locator("main").inner_text()
    page.goto(live_server.url + "/")
    assert page.url == live_server.url + "/zh-hant/"


def test_the_page_fits_a_small_phone(page, live_server):
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(live_server.url + "/zh-hant/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
