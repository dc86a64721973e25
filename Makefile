# Two entry points: `make book` (reproduce on the generated world, build the book) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PRESET ?= smoke
OUT ?= _out

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# CPU wheel first, so no CUDA packages are pulled; a GPU machine may pre-install its own torch.
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

.PHONY: book test test-quick lint clean
book: $(VENV)/.installed
	$(BIN)/drpose3d reproduce --preset $(PRESET) --out $(OUT)

# everything CI runs: the linter, the formatter's check and every test
test: lint
	$(BIN)/python -m pytest -q

# the tests without the slow ones (end-to-end runs, DDP, the benchmark): seconds, while editing
test-quick: lint
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(OUT) _build
