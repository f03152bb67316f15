# Two commands set everything up (see README.md):
#   make run   the portal on SQLite with eager Celery and demo data, at http://127.0.0.1:8000
#   make test  the whole suite on PostgreSQL, Redis and headless Chromium

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test venv messages makemessages migrate clean

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; found " + sys.version.split()[0])'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) 2>/dev/null || { rm -rf $(VENV); bash scripts/ensure-packages.sh python3-venv: && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

venv: $(STAMP)

messages: $(STAMP)
	@bash scripts/ensure-packages.sh gettext:msgfmt
	DJANGO_DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv --verbosity 0

# Refresh the catalogs after changing user-facing text; then translate what is new in each .po file.
makemessages: $(STAMP)
	DJANGO_DEBUG=1 $(PY) manage.py makemessages --all --no-obsolete --ignore=.venv --ignore=var --ignore=tests --add-location file
	DJANGO_DEBUG=1 $(PY) manage.py makemessages --all --no-obsolete -d djangojs --ignore=.venv --ignore=var --ignore=tests --add-location file

migrate: $(STAMP)
	DJANGO_DEBUG=1 $(PY) manage.py migrate --verbosity 0

run: $(STAMP) messages migrate
	@DJANGO_DEBUG=1 $(PY) manage.py seed_demo
	@printf 'Demo API key for demo-platform: '
	@DJANGO_DEBUG=1 $(PY) manage.py create_api_key --organisation demo-platform --scopes fetch,feedback,submit,match --name "make run" 2>/dev/null | tail -n 1
	DJANGO_DEBUG=1 $(PY) manage.py runserver 127.0.0.1:8000

test: $(STAMP) messages wasm-check
	bash scripts/run-tests.sh $(PYTEST_ARGS)

clean:
	rm -rf var/test-services var/static

-include wasm.mk
