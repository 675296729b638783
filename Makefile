# Two commands on a fresh machine: `make run` and `make test` (see README.md).
VENV ?= .venv
PYTHON ?= python3
FLASK = $(VENV)/bin/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(FLASK) db upgrade
	$(FLASK) demo load --if-empty
	@echo "Partnership Grants: http://$(HOST):$(PORT)/  (demo logins above)"
	BASE_URL=http://$(HOST):$(PORT) $(FLASK) run --host $(HOST) --port $(PORT)

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
