# Two commands for a fresh machine: `make figures` and `make test`. Each creates .venv if missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PRESET ?= quick
SEED ?= 0
OUT ?= results
RUN := $(BIN)/barriers run --preset $(PRESET) --seed $(SEED) --out $(OUT)

.PHONY: venv test figures budget thm6 thm8 jl proofs bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

test: venv
	$(BIN)/python -m pytest -q

figures: venv
	$(RUN) all

budget: venv
	$(RUN) budget

thm6: venv
	$(RUN) phase

thm8: venv
	$(RUN) threshold

jl: venv
	$(RUN) jl

proofs: venv
	$(BIN)/barriers proofs

bench: venv
	for script in benchmarks/decode.py benchmarks/knn.py benchmarks/tensor.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache

.PHONY: tensor
tensor: venv
	$(RUN) tensor
	$(BIN)/python benchmarks/tensor.py

.PHONY: thm17
thm17: venv
	$(RUN) window
	$(RUN) window_memory

.PHONY: alg1
alg1: venv
	$(RUN) alg1

.PHONY: cor16
cor16: venv
	$(RUN) cor16

.PHONY: appE
appE: venv
	$(RUN) gumbel
	$(RUN) scalar

.PHONY: thm19
thm19: venv
	$(RUN) nonadaptive

.PHONY: cor9
cor9: venv
	$(RUN) cor9

.PHONY: thm15
thm15: venv
	$(RUN) thm15
	$(RUN) covering

.PHONY: knn
knn: venv
	$(RUN) knn

.PHONY: test-hf
# Real Hugging Face caches (extra `hf`: CPU torch 2.13.0, transformers, safetensors, hqq, optimum-quanto).
test-hf: venv
	$(BIN)/python -m pip install --quiet -e '.[dev,hf]'
	$(BIN)/python -m pytest -q tests/test_hf.py
