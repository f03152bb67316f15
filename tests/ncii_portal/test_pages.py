import re

import pytest

pytestmark = pytest.mark.django_db


def test_a_first_visit_goes_to_the_language_the_browser_asks_for(client):
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="zh-HK,zh;q=0.9,en;q=0.5")["Location"] == "/zh-hant/"
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="zh-TW")["Location"] == "/zh-hant/"
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="de-DE,de")["Location"] == "/en/"


@pytest.mark.parametrize("code, lang, words", [
    ("en", "en", "Your images stay on your device"),
    ("zh-hant", "zh-hant", "你的影像"),
])
def test_the_home_page_speaks_the_language_of_its_url(client, code, lang, words):
    html = client.get(f"/{code}/").content.decode()
    assert re.search(rf'<html lang="{lang}" dir="ltr">', html)
    assert words in html


def test_the_home_page_lists_local_help_in_the_visitors_language(client):
    from django.core.management import call_command

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert "Demo Support Centre" in client.get("/en/").content.decode()
    html = client.get("/zh-hant/").content.decode()
    assert "示範支援中心" in html and "Demo Support Centre" not in html


def test_choosing_a_language_keeps_the_person_on_the_same_page_and_is_remembered(client):
    response = client.post("/i18n/setlang/", {"language": "zh-hant", "next": "/en/"})
    assert response["Location"] == "/zh-hant/"
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="en")["Location"] == "/zh-hant/"


def test_pages_have_no_inline_script_or_style(client):
    html = client.get("/en/").content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
