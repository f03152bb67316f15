"""A real gunicorn server started with production settings, asked over real HTTP."""

import json
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from cases.services import case_create
from partners.services import api_key_issue

from tests.conftest import REPO, free_port, production_env
from tests.factories import PlatformFactory, pdq

pytestmark = pytest.mark.django_db(transaction=True)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, headers: dict[str, str] | None = None):
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers={"Host": "portal.example.org", **(headers or {})})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture
def production_server(start_server, test_database_url, tmp_path):
    static_root = tmp_path / "static"
    env = production_env(DATABASE_URL=test_database_url, DJANGO_STATIC_ROOT=str(static_root))
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=REPO, env=env, check=True, timeout=120,
    )
    return start_server(env)


def test_plain_http_is_sent_to_https(production_server):
    status, headers, _ = fetch(production_server.url + "/en/")
    assert status == 301
    assert headers["Location"] == "https://portal.example.org/en/"


def test_pages_behind_the_tls_proxy_carry_the_security_headers(production_server):
    status, headers, body = fetch(production_server.url + "/en/", {"X-Forwarded-Proto": "https"})
    assert status == 200
    csp = headers["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives["script-src"] == ["'self'", "'wasm-unsafe-eval'"]
    assert directives["default-src"] == ["'self'"] and directives["object-src"] == ["'none'"]
    assert "unsafe-inline" not in csp and "unsafe-eval'" not in csp.replace("wasm-unsafe-eval'", "")
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    cookies = headers.get_all("Set-Cookie")
    assert cookies and all("Secure" in c for c in cookies)
    # Static files are served by the app itself (whitenoise), from hashed names.
    assert b'/static/css/site.' in body


def test_static_files_are_served_compressed_and_cacheable(production_server):
    _, _, body = fetch(production_server.url + "/en/", {"X-Forwarded-Proto": "https"})
    path = body.split(b'href="/static/css/')[1].split(b'"')[0].decode()
    status, headers, _ = fetch(
        f"{production_server.url}/static/css/{path}", {"X-Forwarded-Proto": "https", "Accept-Encoding": "gzip"}
    )
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert "immutable" in headers["Cache-Control"]


def test_unknown_hosts_are_refused(production_server):
    status, _, _ = fetch(production_server.url + "/en/", {"Host": "evil.example", "X-Forwarded-Proto": "https"})
    assert status == 400


def test_health_answers_over_plain_http_whatever_the_host(production_server):
    for host in ["portal.example.org", "10.0.0.7:8000"]:
        status, headers, body = fetch(production_server.url + "/healthz", {"Host": host})
        assert status == 200 and json.loads(body) == {"status": "ok"}
        assert headers["Cache-Control"] == "no-store"


def test_ready_when_database_and_broker_answer(start_server, test_database_url):
    import os

    server = start_server(production_env(DATABASE_URL=test_database_url, REDIS_URL=os.environ["REDIS_URL"]))
    status, _, body = fetch(server.url + "/readyz")
    assert status == 200
    assert json.loads(body) == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_not_ready_while_the_database_is_down(start_server):
    closed = free_port()
    server = start_server(production_env(DATABASE_URL=f"postgresql://postgres@127.0.0.1:{closed}/none"))
    status, _, body = fetch(server.url + "/readyz")
    assert status == 503
    assert json.loads(body)["checks"]["database"] == "unreachable"
    # Alive all the same: a process manager must not restart it for the database's fault.
    assert fetch(server.url + "/healthz")[0] == 200


def test_not_ready_while_the_broker_is_down(start_server, test_database_url):
    closed = free_port()
    server = start_server(production_env(DATABASE_URL=test_database_url, REDIS_URL=f"redis://127.0.0.1:{closed}/0"))
    status, _, body = fetch(server.url + "/readyz")
    assert status == 503
    assert json.loads(body)["checks"] == {"database": "ok", "broker": "unreachable"}


def test_without_a_broker_tasks_run_eagerly_and_that_counts_as_ready(start_server, test_database_url):
    server = start_server(production_env(DATABASE_URL=test_database_url))
    status, _, body = fetch(server.url + "/readyz")
    assert status == 200 and json.loads(body)["checks"]["broker"] == "eager"


def test_the_api_answers_json_503_while_the_database_is_down(start_server):
    closed = free_port()
    server = start_server(production_env(DATABASE_URL=f"postgresql://postgres@127.0.0.1:{closed}/none"))
    status, headers, body = fetch(
        server.url + "/api/stopncii/v1/FetchHashes?startTimestamp=0",
        {"X-Forwarded-Proto": "https", "x-functions-key": "ncii_abcdefghij_" + "x" * 43},
    )
    assert status == 503 and headers["Retry-After"] == "5"
    assert json.loads(body)["error"]["code"] == "service_unavailable"


def test_concurrent_lookups_share_one_worker_and_each_gets_its_own_answer(start_server, test_database_url):
    # One worker with threads, as deployed: requests in flight at once search one index.
    values = [pdq()["value"] for _ in range(8)]
    case_create(hashes=[{"signal_type": "pdq", "value": v, "quality": 90} for v in values], language="en")
    key = api_key_issue(organisation=PlatformFactory(), scopes=["match"], source="command").secret
    server = start_server(production_env(DATABASE_URL=test_database_url))

    def lookup(value: str) -> tuple[int, list]:
        request = urllib.request.Request(
            server.url + "/api/v1/lookup/",
            data=json.dumps({"signal_type": "pdq", "value": value}).encode(),
            headers={"Host": "portal.example.org", "X-Forwarded-Proto": "https", "Content-Type": "application/json",
                     "Authorization": f"Bearer {key}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            matches = json.loads(response.read())["results"][0]["matches"]
        return response.status, [(m["value"], m["distance"]) for m in matches]

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lookup, values * 3))
    assert answers == [(200, [(v, 0)]) for v in values * 3]
