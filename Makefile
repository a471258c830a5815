# One-command set-up and jobs. `make demo` and `make test` create .venv on
# first use (Python 3.10+ as python3), install kerasllm into it, then run.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= test,hf-test,serving,bench

.PHONY: install demo test test-fast soak bench clean

$(VENV)/.installed: setup.py setup.cfg
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/kerasllm demo --output runs/demo --overwrite

test: install
	$(PY) -m pytest -q --durations=20

test-fast: install
	$(PY) -m pytest -q -m "not slow"

soak: install
	$(PY) -m pytest -q -s -m soak

bench: install
	$(PY) benchmarks/run.py --quick

clean:
	rm -rf $(VENV) runs build *.egg-info
