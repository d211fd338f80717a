# obsgen targets; `include obsgen.mk` from your Makefile.
OBSGEN ?= obsgen

.PHONY: observability observability-check observability-test
observability: ## Regenerate the observability configuration
	$(OBSGEN) build

observability-check: ## Fail when the generated configuration is stale
	$(OBSGEN) check

observability-test: ## Run the generated promtool tests and routing cases (promtool, amtool on PATH)
	$(OBSGEN) test
