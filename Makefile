# Two commands: `make run` (set up + serve with demo data) and `make test` (set up + the whole suite).
.PHONY: run test test-fast lint setup setup-test loadtest bench clean i18n

HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=

setup:
	@scripts/bootstrap.sh

setup-test:
	@scripts/bootstrap.sh --test --load

# make loadtest USERS=1000 SPAWN_RATE=100 DURATION=2m PROCS=2 DB=postgres SCENARIO=http LOCUST_PROCS=1
# Capacity (live): make loadtest SCENARIO=steady GENERATOR=node DB=postgres USERS=20000 SPAWN_RATE=50 DURATION=15m \
#                  QUESTIONS=30 MINUTES=45 THINK=20,40 LIGHT_HASH=1 BARE=1
# Peak throughput beside the bare framework: make loadtest SCENARIO=peak GENERATOR=node USERS=600 DURATION=90s \
#                  QUESTIONS=30 LIGHT_HASH=1 BARE=1   (docs/runbook.md)
# Live final (one host, USERS players, 10 questions): make loadtest SCENARIO=live USERS=500 SPAWN_RATE=20 LIGHT_HASH=1
USERS ?= 100
SPAWN_RATE ?= 20
DURATION ?= 60s
PROCS ?= 0
GENERATOR ?= locust
DB ?= sqlite
SCENARIO ?= http
LOCUST_PROCS ?= 1
ROUND_ID ?=
QUESTIONS ?= 0
MINUTES ?= 45
THINK ?= 2,6
LIGHT_HASH ?=

loadtest:
	@scripts/bootstrap.sh --test --load
	@ulimit -n "$$(ulimit -Hn)" 2>/dev/null; .venv/bin/python -m loadtests.run --users $(USERS) --spawn-rate $(SPAWN_RATE) \
		--duration $(DURATION) --procs $(PROCS) --db $(DB) --scenario $(SCENARIO) --locust-procs $(LOCUST_PROCS) \
		--questions $(QUESTIONS) --minutes $(MINUTES) --think $(THINK) --generator $(GENERATOR) \
		$(if $(LIGHT_HASH),--light-hash) $(if $(ROUND_ID),--round-id $(ROUND_ID)) $(if $(BARE),--bare) $(if $(PROFILE),--profile $(PROFILE)) $(if $(BARE_ASYNC),--bare-async $(BARE_ASYNC))

run: setup
	@.venv/bin/contest dev --host $(HOST) --port $(PORT)

test: setup-test lint
	@.venv/bin/python -m pytest $(PYTEST_ARGS)

# The quick lane while working: everything but the tests that drive Chromium or start server processes.
test-fast: setup-test lint
	@.venv/bin/python -m pytest -m "not browser and not slow" $(PYTEST_ARGS)

# The import contract (layers, no cycles), ruff (lint and format) and mypy, all configured in pyproject.toml.
lint: setup-test
	@.venv/bin/lint-imports
	@.venv/bin/python scripts/import_cycles.py
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .
	@.venv/bin/mypy

# Refresh the translation catalogs after marking, changing or removing strings in the code or templates:
# extract every marked string with its file:line (keywords _ gettext ngettext N_ _l lazy_gettext, and
# pgettext npgettext lazy_pgettext with a context as first argument), merge into the .po files without
# fuzzy guesses, drop strings no longer used, and compile the .mo files. This target never writes a
# translation: contest/translations/en/LC_MESSAGES/messages.po is the source of truth and is edited by
# hand (or with a PO editor such as Poedit). To add one: mark the string, run `make i18n`, fill the new
# empty `msgstr ""` entries in the .po, run `make i18n` again; tests/contest/test_i18n.py fails while a
# msgstr is empty or fuzzy, or while the .po or the .mo lags behind the sources.
i18n:
	.venv/bin/pybabel extract -F babel.cfg --sort-output --no-wrap \
		-k _l -k lazy_gettext -k N_ -k pgettext:1c,2 -k npgettext:1c,2,3 -k lazy_pgettext:1c,2 \
		-o contest/translations/messages.pot .
	.venv/bin/pybabel update --no-fuzzy-matching --ignore-obsolete --no-wrap \
		-i contest/translations/messages.pot -d contest/translations
	.venv/bin/pybabel compile -d contest/translations

clean:
	rm -rf var .venv static/vendor .pytest_cache
