# Two commands on a fresh machine: `make run` and `make test` (see README.md).
VENV ?= .venv
PYTHON ?= python3
FLASK = $(VENV)/bin/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

WORKERS ?= 4

.PHONY: run serve bench test install clean translations

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Links in e-mails (demo data's too) point at the port the app runs on.
RUN_BASE_URL = $(or $(BASE_URL),http://$(HOST):$(PORT))
SEND_INTERVAL ?= 2

run: install
	$(FLASK) db upgrade
	BASE_URL=$(RUN_BASE_URL) $(FLASK) demo load --if-empty
	@echo "Partnership Grants: $(RUN_BASE_URL)/  (demo logins above; e-mails are written below)"
	@# The outbox sender runs beside the dev server and stops with it (Ctrl-C), so e-mails go out.
	export BASE_URL=$(RUN_BASE_URL); \
	$(FLASK) notifications send --loop --interval $(SEND_INTERVAL) & sender=$$!; \
	trap 'kill $$sender 2>/dev/null; wait $$sender' EXIT; trap 'exit 130' INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

# Production: gunicorn's pre-forked workers (stateless; see README "Operating it").
serve: install
	$(FLASK) db upgrade
	$(VENV)/bin/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - wsgi:app

# The benchmark suite on PostgreSQL (BENCH_DATABASE_URL); writes benchmarks/results/.
bench: install
	$(VENV)/bin/python -m benchmarks.run $(BENCH_ARGS)

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# After changing a translatable text: extract every text, merge into the Spanish catalogue
# (new ones come out empty or fuzzy: translate them in grants/translations/es/...), compile.
# tests/core/test_i18n.py fails while a text has no Spanish or the compiled file is stale.
translations: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o grants/translations/messages.pot .
	$(VENV)/bin/pybabel update -i grants/translations/messages.pot -d grants/translations -w 100 --ignore-obsolete
	@# Spanish has two plural forms here (the catalogue's header); Babel's CLDR data adds a third
	@# ("many", for millions) as an empty entry that would leave those texts untranslated.
	sed -i '/^msgstr\[2\] ""$$/d' grants/translations/es/LC_MESSAGES/messages.po
	$(VENV)/bin/pybabel compile -d grants/translations

clean:
	rm -rf $(VENV) instance .pytest_cache
