# Two commands for a newcomer: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install system-deps bench docs clean

# espeak-ng gives the synthetic Speech class real synthesised voices; without it
# tbfl falls back to a procedural voice and says so. Best effort: never fatal.
system-deps:
	@command -v espeak-ng >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing espeak-ng (Debian) for synthetic speech"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng >/dev/null) \
	      || echo "warning: could not install espeak-ng; Speech falls back to a procedural voice"; \
	  else echo "note: espeak-ng not found; Speech falls back to a procedural voice"; fi; }

# sebbs (the SEBB reference of tests/evaluation/test_sebb.py, test only) is installed without its dependencies:
# it requires sed_scores_eval_np2, a fork that installs a second, different `sed_scores_eval` package over the
# pinned sed_scores_eval==0.0.4 of the test extra. sebbs runs on 0.0.4 (numpy, pandas, scipy, tqdm are ours).
$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/python -m pip install -q --no-deps sebbs==1.0.2
	$(BIN)/python -c "from tbfl.cpu_kernels import build; build()"
	touch $(STAMP)

install: $(STAMP) system-deps

demo: install
	$(BIN)/tbfl demo

test: install
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2 --dist loadfile

# The documentation site, strictly (make test builds it too: tests/docs/test_site.py).
docs: install
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html

bench: install
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .hypothesis docs/_build docs/api/generated
