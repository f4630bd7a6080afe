# Centrale — the two commands are `make run` and `make test`.
#
# Without DATABASE_URL both use a private PostgreSQL cluster under target/pg (port 54329),
# started on demand and left running for the next command; `make db-down` stops it.

CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: run test build db-up db-down openapi fmt lint bench clean-db fuzz screenshots

run:
	$(CARGO) run --bin centrale -- serve

build:
	$(CARGO) build --workspace --all-targets

# Tests bring up PostgreSQL themselves (the harness starts the private cluster when no
# DATABASE_URL is set); each test gets its own database cloned from a migrated template.
test:
	@bash scripts/test-tools.sh
	@if command -v cargo-nextest >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --no-fail-fast; \
	else \
		$(CARGO) test --workspace --no-fail-fast; \
	fi

# Regenerate docs/screenshots/*.png: the real-browser tests (crates/portal/tests/browser.rs)
# with SCREENSHOTS=1, which photograph every page they check, full page, 1280 pixels wide.
screenshots:
	@bash scripts/test-tools.sh
	@if command -v cargo-nextest >/dev/null 2>&1; then \
		SCREENSHOTS=1 $(CARGO) nextest run -p portal --test browser --no-fail-fast; \
	else \
		SCREENSHOTS=1 $(CARGO) test -p portal --test browser --no-fail-fast; \
	fi

# Fuzz the API with schemathesis (PyPI, pinned, installed under target/fuzz-venv) against its
# OpenAPI document as an admin, a RUP and a supplier: fails on any 5xx or undocumented answer.
# `make test` runs a short seeded version (crates/centrale/tests/fuzz.rs).
fuzz:
	$(CARGO) build --bin centrale
	bash scripts/fuzz.sh

db-up:
	$(CARGO) run --bin centrale -- db up

db-down:
	$(CARGO) run --bin centrale -- db down

# Refresh the committed OpenAPI snapshot (a test fails when it is stale).
openapi:
	$(CARGO) run --bin centrale -- openapi > docs/openapi.json

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

bench:
	@bash scripts/bench-tools.sh
	$(CARGO) build --release --bin centrale
	$(CARGO) bench --workspace
	@bash scripts/test-tools.sh >/dev/null
	cd web && { [ -d node_modules/age-encryption ] || npm ci --no-audit --no-fund; } && node bench/seal-memory.mjs

clean-db: db-down
	rm -rf target/pg target/pg.lock
