# Jobmon: `make run` starts Jobmon on this machine and runs the example workflow;
# `make test` installs what the tests need and runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8070
STAMP := $(VENV)/.installed

.PHONY: run test lint bench services clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[server,test]'
	touch $@

run: $(STAMP)
	@JOBMON_SERVER_URL=http://127.0.0.1:$(PORT) bash scripts/run-local.sh $(PORT)

test: $(STAMP)
	bash scripts/test-services.sh
	bash scripts/slurm.sh start
	bash scripts/browser.sh
	bash scripts/r.sh
	$(BIN)/ruff check server client tests bench examples
	$(BIN)/mypy server/jobmon_server client/jobmon_client
	$(BIN)/python -m pytest -q; status=$$?; bash scripts/slurm.sh stop; exit $$status

lint: $(STAMP)
	$(BIN)/ruff check server client tests bench examples
	$(BIN)/mypy server/jobmon_server client/jobmon_client

bench: $(STAMP)
	$(BIN)/python bench/bind.py --tasks 100000
	$(BIN)/python bench/bind_r.py --tasks 100000
	$(BIN)/python bench/run_local.py --tasks 10000
	$(BIN)/python bench/run_local.py --tasks 200 --shape chain
	$(BIN)/python bench/cli.py --tasks 100000
	$(BIN)/python bench/task_generator.py --tasks 100000
	$(BIN)/python bench/slurm.py --tasks 1000
	$(BIN)/python bench/shared.py --clients 20 --tasks 500
	$(BIN)/python bench/dashboard.py --tasks 100000
	$(BIN)/python bench/dashboard_cost.py --tasks 20000

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
