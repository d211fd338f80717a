# obsgen's developer entry points. `make test` is what CI runs.
CARGO ?= cargo

.PHONY: example demo test fmt lint bless bench tools

example: ## Compile the bundled example repository into examples/acme/generated/
	$(CARGO) run --release --quiet -- --root examples/acme build

demo: tools ## Run the helloworld platform on 127.0.0.1 (Prometheus, Alertmanager, a fake PagerDuty, k6); Ctrl-C stops it
	scripts/demo.sh

test: tools ## Install the tools the tests need, then run every test and gate
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --quiet -- -D warnings
	$(CARGO) test

tools: ## Install promtool, amtool, prometheus, alertmanager and k6 when missing
	scripts/tools.sh

fmt:
	$(CARGO) fmt

lint:
	$(CARGO) clippy --all-targets -- -D warnings

bless: ## Re-bless golden files after an intended output change
	OBSGEN_BLESS=1 $(CARGO) test --test integration -- golden bad hostile schema review

bench: ## The compile benchmark (1k and 10k synthetic services)
	scripts/bench.sh
