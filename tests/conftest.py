import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

REPO = Path(__file__).resolve().parent.parent

# Playwright's sync API runs an event loop in the test thread; Django would then refuse ORM calls
# from that thread, though they are as synchronous as ever.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def test_database_url(django_db_setup, django_db_blocker) -> str:
    """A DATABASE_URL for other processes (servers, workers) that points at the test database."""
    with django_db_blocker.unblock():
        s = connection.settings_dict
        return f"postgresql://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def production_env(**overrides: str) -> dict[str, str]:
    """The environment of a production deployment, as docs/deployment.md describes it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE="ncii_portal.settings",
        DJANGO_SECRET_KEY="production-like-secret-" + "s" * 50,
        DJANGO_ALLOWED_HOSTS="portal.example.org",
    )
    env.update(overrides)
    return env


class Server:
    def __init__(self, process: subprocess.Popen, port: int):
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"


@pytest.fixture
def start_server(tmp_path) -> Iterator:
    """Start gunicorn on a free port with the given environment; stopped after the test."""
    started: list[Server] = []

    def start(env: dict[str, str]) -> Server:
        port = free_port()
        log = open(tmp_path / f"server-{port}.log", "w")
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "ncii_portal.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--threads", "4", "--timeout", "30"],  # threads, as docs/deployment.md runs it
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        server = Server(process, port)
        started.append(server)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError((tmp_path / f"server-{port}.log").read_text())
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return server
            except OSError:
                time.sleep(0.1)
        raise AssertionError("server did not start in 30 s")

    yield start
    for server in started:
        server.process.terminate()
        server.process.wait(timeout=10)


@pytest.fixture
def worker(test_database_url, tmp_path):
    """A real Celery worker process on the test Redis and database; tasks sent in the test go to it."""
    from ncii_portal.celery import app

    env = production_env(
        DATABASE_URL=test_database_url, REDIS_URL=os.environ["REDIS_URL"], WEBHOOK_RETRY_BASE_SECONDS="0.2"
    )
    log = open(tmp_path / "worker.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "ncii_portal", "worker", "--pool", "solo",
         "--concurrency", "1", "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    app.conf.task_always_eager = False
    app.conf.broker_url = app.conf.result_backend = os.environ["REDIS_URL"]
    try:
        yield process
    finally:
        app.conf.task_always_eager = True
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
    if not Path(executable).exists():
        pytest.fail(f"Chromium is not at {executable}: run `make test`, which installs it, or set CHROMIUM_PATH.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            # The flags keep Chromium from calling home: this machine, like a victim's, owes
            # nobody a request.
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser) -> Iterator:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the cache (Redis in tests); each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _fresh_match_index(monkeypatch):
    """Each test gets a new process-wide PDQ index: rolled-back tests reuse feed positions."""
    from hashes import match_index

    monkeypatch.setattr(match_index, "_cache", None)
    monkeypatch.setattr(match_index, "_cache_pid", None)
