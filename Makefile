# Two commands: `make run` (set up + serve with demo data) and `make test` (set up + the whole suite).
.PHONY: run test setup setup-test loadtest bench clean

HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=

setup:
	@scripts/bootstrap.sh

setup-test:
	@scripts/bootstrap.sh --test

run: setup
	@.venv/bin/contest dev --host $(HOST) --port $(PORT)

test: setup-test
	@.venv/bin/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf var .venv static/vendor .pytest_cache
