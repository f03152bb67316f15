"""Every page in the visitor's own language: 16 languages, right-to-left included."""

import html
import re

import polib
import pytest
from django.conf import settings
from django.utils.translation import get_language_info

from tests.conftest import REPO
from tests.screenshots import save_screenshot

CODES = [code for code, _name in settings.LANGUAGES]
RTL = {"ar", "ur"}
PAGES = ["", "start/", "check/"]


def visible_text(page_html: str) -> str:
    body = page_html.split("<body", 1)[1]
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def english_sentences() -> set[str]:
    """Our English page texts long enough that no translation would keep them word for word."""
    catalog = polib.pofile(str(REPO / "locale" / "en" / "LC_MESSAGES" / "django.po"))
    return {
        " ".join(e.msgid.split())
        for e in catalog
        if any(path.endswith(".html") for path, _line in e.occurrences)
        and len(e.msgid.split()) >= 4
        and "%(" not in e.msgid
    }


@pytest.mark.django_db
@pytest.mark.parametrize("code", CODES)
def test_each_page_renders_in_its_language_with_the_right_direction(client, code):
    english = english_sentences()
    for page in PAGES:
        response = client.get(f"/{code}/{page}")
        assert response.status_code == 200, (code, page)
        page_html = response.content.decode()
        direction = "rtl" if code in RTL else "ltr"
        assert f'<html lang="{code}" dir="{direction}">' in page_html, (code, page)
        if code != "en":
            text = visible_text(page_html)
            left = sorted(sentence for sentence in english if sentence in text)
            assert not left, f"/{code}/{page} still shows English: {left[:3]}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "accept, expected",
    [
        ("zh-HK,zh;q=0.9,en;q=0.5", "zh-hant"),
        ("zh-TW", "zh-hant"),
        ("zh-CN,zh;q=0.9", "zh-hans"),
        ("fil-PH,en;q=0.5", "fil"),
        ("tl", "fil"),
        ("id-ID", "id"),
        ("hi-IN", "hi"),
        ("ur-PK", "ur"),
        ("ne-NP", "ne"),
        ("th-TH", "th"),
        ("vi-VN", "vi"),
        ("es-MX", "es"),
        ("fr-CA", "fr"),
        ("pt-BR", "pt-br"),
        ("ar-SA", "ar"),
        ("ko-KR", "ko"),
        ("ja-JP", "ja"),
        ("de-DE", "en"),
    ],
)
def test_a_first_visit_gets_the_language_the_browser_asks_for(client, accept, expected):
    assert client.get("/", HTTP_ACCEPT_LANGUAGE=accept)["Location"] == f"/{expected}/"


@pytest.mark.django_db
def test_the_switcher_names_every_language_in_that_language(client):
    page_html = client.get("/en/").content.decode()
    for code in CODES:
        name = get_language_info(code)["name_local"]
        assert f'value="{code}" lang="{code}"' in page_html and html.escape(name) in page_html, code


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("code", CODES)
def test_home_and_receipt_at_phone_width_in_every_language(page, live_server, code):
    from tests.cases.test_pages_browser import open_case

    page.set_viewport_size({"width": 320, "height": 700})
    page.goto(f"{live_server.url}/{code}/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "wider than a phone"
    # Mirrored in right-to-left languages: the warning's bar stands at the start of the line,
    # which is the right edge there (CSS logical properties, not left/right).
    bar = "right" if code in RTL else "left"
    assert page.evaluate(
        f"getComputedStyle(document.querySelector('.warning')).border{bar.title()}Width"
    ) == "4px", bar
    first_line_end = page.evaluate(
        "(() => { const r = document.createRange(); const h = document.querySelector('main h1');"
        " r.selectNodeContents(h); const b = r.getClientRects()[0]; return [b.left, b.right]; })()"
    )
    if code in RTL:
        assert first_line_end[1] > 320 - 24  # the heading starts at the right margin
    else:
        assert first_line_end[0] < 24
    page.set_viewport_size({"width": 390, "height": 844})
    save_screenshot(page, f"lang-{code}-home", full_page=True)
    number, pin = open_case(page, live_server.url, code, n=1)
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", number) and re.fullmatch(r"\d{4} ?\d{4}", pin)
    page.evaluate("window.scrollTo(0, 0)")
    save_screenshot(page, f"lang-{code}-receipt", full_page=True)


@pytest.mark.django_db
@pytest.mark.parametrize("code", CODES)
def test_partner_directory_and_help_show_demo_content_in_every_language(client, code):
    from django.core.management import call_command
    from django.utils import translation

    from partners.models import HelpEntry, Organisation

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    with translation.override(code):
        ngo_name = Organisation.objects.get(slug="demo-ngo").name
        question = HelpEntry.objects.order_by("position").first().question
        notes = [
            translation.gettext("Some of this is not yet available in your language, so it is shown in English."),
            translation.gettext("This answer is not yet available in your language, so it is shown in English."),
        ]
    directory = client.get(f"/{code}/partners/").content.decode()
    help_page = client.get(f"/{code}/help/").content.decode()
    assert html.escape(ngo_name) in directory and html.escape(question) in help_page
    # Every language has its own text, so no page needs the "shown in English" note.
    assert not any(html.escape(note) in directory + help_page for note in notes)
