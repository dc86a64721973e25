# Two entry points: `make book` (reproduce on the generated world, build the book) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PRESET ?= smoke
OUT ?= _out

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: pip takes it from PyPI, where the Linux wheel is the CUDA build (several GB; it
	# uses a GPU when there is one and runs on the CPU otherwise). To stay CPU-only, install the CPU build
	# into .venv before `make`: .venv/bin/pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
	# (a torch already in .venv is kept).
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

.PHONY: book test test-quick lint lab check-pages check-lab audit clean
book: $(VENV)/.installed
	$(BIN)/drpose3d reproduce --preset $(PRESET) --out $(OUT)

# everything CI runs: the linter, the formatter's check, every test, and nbval re-running the committed
# tiny-preset notebooks of tests/nbval/ against their outputs (refresh them: python tools/nbval_refresh.py)
# (from an empty output folder, so that every path runs; progress bars off, they are timing, not results)
NBVAL := rm -rf tests/nbval/_out && TQDM_DISABLE=1 $(BIN)/python -m pytest -q -p no:cacheprovider --nbval --nbval-current-env tests/nbval \
	--nbval-sanitize-with tests/nbval/sanitize.cfg
# the geometric tests once more with MKL's bit-reproducible paths (MKL_CBWR=COMPATIBLE) and torch's scalar
# kernels (ATEN_CPU_CAPABILITY=default, what a CPU without AVX2 runs), and nbval once more on the scalar kernels,
# so that a comparison that holds only for one CPU's rounding cannot hide (issue 28: AVX-512 rounds otherwise)
GEOMETRY := tests/test_render.py tests/test_camera.py tests/test_metrics.py tests/test_augment.py
# the suite in two workers of one thread each (CI has 2 cores; most of a slow test is kernels starting and books
# building, which one thread per worker overlaps); the tests that read the tiny book share one worker (conftest.py)
test: lint
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2 --dist loadgroup
	MKL_CBWR=COMPATIBLE ATEN_CPU_CAPABILITY=default $(BIN)/python -m pytest -q -p no:cacheprovider $(GEOMETRY)
	$(NBVAL)
	export ATEN_CPU_CAPABILITY=default && $(NBVAL)

# the tests without the slow ones (end-to-end runs, DDP, the benchmark): seconds, while editing
test-quick: lint
	$(BIN)/python -m pytest -q -m "not slow"
	$(NBVAL)

# the book of a committed run (default runs/smoke: every page, real numbers) rendered without recomputing and
# opened page by page in headless Chromium (Debian: apt-get install chromium); screenshots beside it
FROM ?= runs/smoke
check-pages: $(VENV)/.installed
	rm -rf $(OUT)/pages
	$(BIN)/drpose3d book --from $(FROM) --out $(OUT)/pages
	$(BIN)/python tools/check_pages.py $(OUT)/pages/book/_build/html

# committed runs audited before their numbers stand: each claim with its control, the verdicts, Table 2's rows,
# and each run's book (front page, folded code, the generated world's prose only on its data, check_pages)
RUNS ?= runs/smoke runs/smoke-cmu
audit: $(VENV)/.installed
	$(BIN)/python tools/audit_run.py $(RUNS)

# every notebook opened in a real JupyterLab (headless Chromium): on the "drpose3d" kernel, not marked modified
check-lab: $(VENV)/.installed
	$(BIN)/python tools/check_lab.py notebooks

lint: $(VENV)/.installed
	$(BIN)/ruff check --no-cache .  # no cache: a cached pass hid an import that a module move had broken
	$(BIN)/ruff format --no-cache --check .

# JupyterLab on the notebooks with this project's environment, as the kernel "drpose3d"
lab: $(VENV)/.installed
	$(BIN)/python -m ipykernel install --sys-prefix --name drpose3d --display-name "drpose3d (.venv)"
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf $(OUT) _build
