# retentiond — build, test and demo entry points. `.ci/run` installs system packages, then runs `make test`.
SWIFT ?= swift
PYTHON ?= python3

.PHONY: all build demo schedule test schema-check clean

all: build

build:
	$(SWIFT) build

DEMO = examples/demo
CTL = .build/debug/retentionctl
DEMO_ARGS = --rules rules --rules $(DEMO)/rules --stores $(DEMO)/stores.yaml --state $(DEMO)/data/state.sqlite --hmac-key $(DEMO)/data/hmac-key

# The main job on the embedded default: 12 years of synthetic records for the seeds' categories
# (SQLite + a directory of log files), then real passes under the seeds' rules: the first pass acts
# and holds big deletions for approval, the demo approves them, the second pass finishes; then what
# falls due next, and the audit chain checked.
demo: build
	rm -rf $(DEMO)/data
	$(PYTHON) $(DEMO)/generate.py
	head -c 32 /dev/urandom | base64 > $(DEMO)/data/hmac-key
	$(CTL) lint rules $(DEMO)/rules --stores $(DEMO)/stores.yaml --live
	@echo; echo "== pass 1 (the mass-deletion guard holds back jobs that would delete more than 25% of a dataset)"
	$(CTL) run $(DEMO_ARGS)
	@echo; echo "== approving the held jobs (retentionctl approve)"
	$(CTL) jobs --state $(DEMO)/data/state.sqlite --in awaiting-approval --format json | $(PYTHON) -c 'import json,sys; print(" ".join(str(j["id"]) for j in json.load(sys.stdin)))' \
	  | xargs -r $(CTL) approve --state $(DEMO)/data/state.sqlite --by demo
	@echo; echo "== pass 2"
	$(CTL) run $(DEMO_ARGS)
	@echo; echo "== what falls due in the next 30 days"
	$(CTL) plan $(DEMO_ARGS) --horizon 30d --all
	@echo; echo "== audit trail"
	$(CTL) audit verify --state $(DEMO)/data/state.sqlite

# The retention schedule of the seeds' rules.
schedule: build
	$(CTL) schedule rules

# The JSON Schema accepts every rules file and rejects the known-bad ones; then the Swift tests.
schema-check:
	$(PYTHON) .ci/check-schema.py schema/rules.schema.json rules Tests/Fixtures/schema-valid
	$(PYTHON) .ci/check-schema.py schema/rules.schema.json --expect-invalid Tests/Fixtures/schema-invalid/*.yaml

# The Swift tests run beside a throwaway PostgreSQL cluster (scripts/with-postgres); without
# PostgreSQL installed its tests are skipped, unless RETENTIOND_REQUIRE_POSTGRES=1 (as in CI).
test: schema-check
	$(SWIFT) build --build-tests
	scripts/with-postgres $(SWIFT) test

clean:
	rm -rf .build
