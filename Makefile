# The two setup commands of the README: `make run` and `make test`.
.PHONY: deps run build test lint bench install

# Extra arguments for the app, e.g. `make run ARGS="people list"`.
ARGS ?=

deps:
	@scripts/install-deps.sh

build: deps
	cargo build --release

run: build
	cargo run --release -- $(ARGS)

lint: deps
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings

test: lint
	cargo test --all-targets

bench: deps
	cargo bench
	cargo run --release -- bench

# The binary, icon and desktop-menu entry for this user (~/.local).
install:
	@scripts/install-desktop.sh
