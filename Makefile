# retentiond — build, test and demo entry points. `.ci/run` installs system packages, then runs `make test`.
SWIFT ?= swift
PYTHON ?= python3

.PHONY: all build demo test schema-check clean

all: build

build:
	$(SWIFT) build

# The main job on the embedded default: lint the seeds' rules and print their retention schedule.
demo: build
	.build/debug/retentionctl lint rules
	.build/debug/retentionctl schedule rules

# The JSON Schema accepts every rules file and rejects the known-bad ones; then the Swift tests.
schema-check:
	$(PYTHON) .ci/check-schema.py schema/rules.schema.json rules Tests/Fixtures/schema-valid
	$(PYTHON) .ci/check-schema.py schema/rules.schema.json --expect-invalid Tests/Fixtures/schema-invalid/*.yaml

test: schema-check
	$(SWIFT) build --build-tests
	$(SWIFT) test

clean:
	rm -rf .build
