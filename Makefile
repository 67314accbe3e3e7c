# The README's two commands: `make run` and `make test`. Everything else supports them.
SHELL := /bin/sh
PY := .venv/bin/python
PG_BIN := $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb))

.PHONY: run test test-fast test-integration test-e2e setup setup-test system-run system-test lint bench clean

## make run: set everything up and start web, worker, beat and Redis on SQLite with demo data.
run: export DJANGO_DEBUG ?= 1
run: setup system-run
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_reference_data
	$(PY) manage.py seed_demo
	.venv/bin/honcho start -f Procfile

## make test: the same set-up plus PostgreSQL and Chromium; then every test.
test: setup system-test
	$(MAKE) lint test-fast test-integration test-e2e

test-fast:
	.venv/bin/pytest -m "not integration and not e2e" -q -p no:cacheprovider

test-integration:
	bin/with-services --postgres --redis -- .venv/bin/pytest -m integration -q -p no:cacheprovider

test-e2e:
	bin/with-services --postgres --redis -- .venv/bin/pytest -m e2e -q -p no:cacheprovider

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	DJANGO_DEBUG=1 $(PY) manage.py makemigrations --check --dry-run >/dev/null

setup: .venv/.installed node_modules/.installed locale/en/LC_MESSAGES/django.mo

.venv/.installed: pyproject.toml requirements.lock
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c requirements.lock -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

locale/en/LC_MESSAGES/django.mo locale/nb/LC_MESSAGES/django.mo: locale/nb/LC_MESSAGES/django.po locale/en/LC_MESSAGES/django.po .venv/.installed
	DJANGO_DEBUG=1 $(PY) manage.py compilemessages -v0

system-run:
	bin/ensure-packages redis-server:redis-server redis-cli:redis-tools msgfmt:gettext

system-test: system-run
	bin/ensure-packages /usr/bin/chromium:chromium psql:postgresql-client
	@test -n "$(PG_BIN)" || bin/ensure-packages /usr/lib/postgresql/15/bin/initdb:postgresql

## make bench: the performance targets, printed as figures and ratios.
bench: setup system-test
	$(PY) bench/beon.py
	bin/with-services --postgres --redis -- $(PY) bench/routing.py
	bin/with-services --postgres -- $(PY) bench/queue_page.py
	bin/with-services --postgres -- $(PY) bench/compliance.py

clean:
	rm -rf var .venv node_modules
