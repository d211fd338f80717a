# obsgen targets; `include obsgen.mk` from your Makefile.
OBSGEN ?= obsgen

.PHONY: observability observability-check
observability: ## Regenerate the observability configuration
	$(OBSGEN) build

observability-check: ## Fail when the generated configuration is stale
	$(OBSGEN) check
