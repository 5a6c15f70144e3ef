# byråds-GPT. `make run` and `make test` do all the set-up on a fresh machine.
SHELL := /bin/bash
CARGO ?= cargo
PROFILE := --release
BIN := target/release/byraad
DATA ?= ./data
CORPUS ?= ./corpus
ADDR ?= 127.0.0.1:8080

.PHONY: setup build run ingest serve test bench score clean

## Install what the build and the ingesters need (idempotent).
setup:
	@command -v $(CARGO) >/dev/null || { echo "setup: cargo is missing: install Rust (https://rustup.rs)"; exit 1; }
	@command -v pdftotext >/dev/null || { \
	  echo "setup: installing poppler-utils (pdftotext)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq poppler-utils >/dev/null; }
	@command -v python3 >/dev/null || echo "setup: python3 is missing: the scorer (make score) needs it"

## Build the binary (optimised; tests use the same profile).
build: setup
	$(CARGO) build $(PROFILE) --locked -p byraad

## Ingest the bundled corpus into $(DATA).
ingest: build
	$(BIN) ingest --corpus $(CORPUS) --data $(DATA)

## Build, ingest the bundled corpus, serve on $(ADDR).
run: ingest
	$(BIN) serve --data $(DATA) --addr $(ADDR)

## Every test (unit, property, CLI, end-to-end), and benchmarks compiled.
test: setup
	$(CARGO) test $(PROFILE) --locked --workspace
	$(CARGO) bench --locked --workspace --no-run

## Benchmarks: ingest throughput and search latency on the bundled corpus.
bench: setup
	$(CARGO) bench --locked -p byraad-index

## Score a running service on the dev questions (../shared/eval).
score:
	python3 ../shared/eval/score --base http://$(ADDR) --mode search

clean:
	rm -rf target $(DATA)
