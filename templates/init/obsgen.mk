# obsgen targets; `include obsgen.mk` from your Makefile. `make help` lists them.
OBSGEN ?= obsgen

.PHONY: help observability observability-check observability-diff observability-test loadtest

help: ## List these targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-22s %s\n", $$1, $$2}'

observability: ## Regenerate the observability configuration (generated/)
	$(OBSGEN) build

observability-check: ## Fail, showing the diff, when generated/ is stale or a manifest is invalid
	$(OBSGEN) check

observability-diff: ## What a build would change: per service, then line by line
	$(OBSGEN) diff --summary
	$(OBSGEN) diff

observability-test: ## Run the generated promtool tests and routing cases (promtool, amtool on PATH)
	$(OBSGEN) test

loadtest: ## Run a service's k6 load test: make loadtest SERVICE=hello ENV=staging (k6 on PATH)
	@if [ -z "$(SERVICE)" ] || [ -z "$(ENV)" ]; then echo "usage: make loadtest SERVICE=<service> ENV=<environment>" >&2; exit 2; fi
	$(OBSGEN) loadtest '$(SERVICE)' --env '$(ENV)'
