# retentiond — build, test and demo entry points. `.ci/run` installs system packages, then runs `make test`.
SWIFT ?= swift
PYTHON ?= python3

.PHONY: all build demo demo-passes demo-data schedule test rule-tests schema-check install verify-units bench bench-smoke fuzz fuzz-build fuzz-smoke torture torture-smoke failover failover-smoke clean release-smoke

all: build

build:
	$(SWIFT) build

DEMO = examples/demo
CTL = .build/debug/retentionctl
DEMO_ARGS = --rules rules --rules $(DEMO)/rules --stores $(DEMO)/stores.yaml --state $(DEMO)/data/state.sqlite --hmac-key $(DEMO)/data/hmac-key --init

# Fresh demo data: 12 years of synthetic records for the seeds' categories (SQLite + a directory
# of device log files) and an HMAC key, checked against the real stores.
demo-data: build
	rm -rf $(DEMO)/data
	$(PYTHON) $(DEMO)/generate.py
	(umask 077; head -c 32 /dev/urandom | base64 > $(DEMO)/data/hmac-key)
	$(CTL) lint rules $(DEMO)/rules --stores $(DEMO)/stores.yaml --live

# The main job on the embedded default: the daemon, in the foreground, on fresh demo data, logging
# as journalctl prints (with the journal fields of each event). It runs passes whenever records
# fall due (at the latest hourly); jobs the mass-deletion guard holds wait for
# `retentionctl approve`, then `kill -HUP` (a reload) runs the next pass at once. Ctrl-C stops it
# after the current batch.
demo: demo-data
	@echo; echo "== retentiond in the foreground (Ctrl-C stops it). In another terminal:"
	@echo "   $(CTL) jobs --state $(DEMO)/data/state.sqlite --in awaiting-approval"
	@echo "   $(CTL) approve --state $(DEMO)/data/state.sqlite --by you JOB...   then: pkill -HUP retentiond"; echo
	.build/debug/retentiond $(DEMO_ARGS) --interval 1h --log-target console

# The same data through retentionctl, step by step: pass 1 acts and holds big deletions for
# approval, the held jobs are approved, pass 2 finishes; then what falls due next, and the audit
# chain checked.
demo-passes: demo-data
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
	$(CTL) audit verify --state $(DEMO)/data/state.sqlite --hmac-key $(DEMO)/data/hmac-key

# The retention schedule of the seeds' rules.
schedule: build
	$(CTL) schedule rules

# The JSON Schemas accept every rules file and rule test file and reject the known-bad ones.
schema-check:
	$(PYTHON) .ci/check-schema.py schema/rules.schema.json rules Tests/Fixtures/schema-valid
	$(PYTHON) .ci/check-schema.py schema/rules.schema.json --expect-invalid Tests/Fixtures/schema-invalid/*.yaml
	$(PYTHON) .ci/check-schema.py schema/rule-tests.schema.json rules/tests
	$(PYTHON) .ci/check-schema.py schema/rule-tests.schema.json --expect-invalid Tests/Fixtures/rule-tests-invalid/*.yaml

# Every seed's rules proven together: the scenario tests of rules/tests (docs/rule-tests.md).
rule-tests: build
	$(CTL) test rules/tests

# The units are checked with systemd-analyze; then the Swift tests run beside a journald
# (scripts/with-journald), a systemd user manager (scripts/with-user-manager) and a throwaway
# PostgreSQL cluster (scripts/with-postgres). Where one cannot be had its tests are skipped, unless
# RETENTIOND_REQUIRE_JOURNAL/_USER_MANAGER/_POSTGRES=1 (as in CI).
# Tests that wait on a real process block one of Swift's cooperative threads while they wait (2 on
# 2 cores). Run beside them, a test waiting in real time in-process is starved for over a minute:
# the daemon's services (ServiceLifecycleTestKit timers), and the engine's connections to PostgreSQL,
# which the server drops after its 60 s authentication_timeout. So the tests run in three groups:
# the libraries in-process, then the executables (which spawn processes), then the daemon's services.
LIBRARY_TESTS = RetentionRulesTests|RetentionEngineTests
PROCESS_TESTS = RetentionCtlTests|RetentiondTests
IN_PROCESS_TESTS = RetentiondTests\.(DaemonServicesTests|WakeTests)/

test: schema-check
	$(SWIFT) build --build-tests
	$(CTL) test rules/tests
	$(MAKE) --no-print-directory verify-units
	scripts/with-postgres $(SWIFT) test --skip-build --filter '$(LIBRARY_TESTS)'
	scripts/with-journald scripts/with-user-manager scripts/with-postgres \
		$(SWIFT) test --skip-build --filter '$(PROCESS_TESTS)' --skip '$(IN_PROCESS_TESTS)'
	$(SWIFT) test --skip-build --filter '$(IN_PROCESS_TESTS)'
	$(MAKE) --no-print-directory bench-smoke
	$(MAKE) --no-print-directory fuzz-smoke
	$(MAKE) --no-print-directory torture-smoke
	$(MAKE) --no-print-directory failover-smoke
	$(MAKE) --no-print-directory release-smoke

# The optimized build runs a pass (scripts/release-smoke): the tests run the debug build, and an
# -O miscompile passes them all (issue 13: every release pass crashed while the suite was green).
release-smoke:
	$(SWIFT) build -c release
	scripts/release-smoke .build/release

# The benchmarks (Benchmarks/bench.py): retentiond against sqlite3, find, systemd-tmpfiles and psql
# on data it generates, medians of 5 runs, on a release build (about 15 minutes). The smoke size
# runs in seconds on the debug build, to keep the harness working; it measures nothing worth citing.
# PREVIOUS=DIR puts an earlier release build (its .build/release) side by side, as one more
# contender in every scenario: a change's "no regression" is that table (README, Benchmarks).
PREVIOUS ?=
bench:
	$(SWIFT) build -c release
	scripts/with-postgres $(PYTHON) Benchmarks/bench.py --bin .build/release$(if $(PREVIOUS), --previous-bin $(PREVIOUS))

bench-smoke:
	$(SWIFT) build
	scripts/with-postgres $(PYTHON) Benchmarks/bench.py --size smoke --bin .build/debug

# The libFuzzer targets of Fuzz/ (docs/fuzzing.md), built with the address sanitizer in packages
# of their own so that the main build stays as it is. `fuzz` runs each for FUZZ_SECONDS; the
# smoke runs every committed seed and then fuzzes a few seconds, to keep the targets working.
FUZZ_SECONDS ?= 300
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_BUILD = $(SWIFT) build -c release -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address

fuzz-build:
	cd Fuzz && $(FUZZ_BUILD)
	cd Fuzz/CommandReply && $(FUZZ_BUILD)

fuzz: fuzz-build
	scripts/fuzz $(FUZZ_SECONDS)

fuzz-smoke: fuzz-build
	scripts/fuzz $(FUZZ_SMOKE_SECONDS)

# The SIGKILL torture (scripts/torture.py, docs/torture.md): retentiond killed at random instants
# during delete, anonymize and restrict jobs on SQLite, PostgreSQL and a tree of files, until
# TORTURE_KILLS kills per kind of store landed in a job; then every record, count and audit digest
# is checked against the generated data. Full size on a release build: 5 to 10 minutes per kind of
# store on 2 cores; the smoke size, on the debug build, under a minute.
TORTURE_KILLS ?= 100
TORTURE_ROWS ?= 1000000
TORTURE_PG_ROWS ?= 300000
TORTURE_FILES ?= 100000
torture:
	$(SWIFT) build -c release
	scripts/with-postgres $(PYTHON) scripts/torture.py --bin .build/release --kills $(TORTURE_KILLS) \
	  --rows $(TORTURE_ROWS) --pg-rows $(TORTURE_PG_ROWS) --files $(TORTURE_FILES)
	$(MAKE) --no-print-directory failover

torture-smoke:
	$(SWIFT) build
	scripts/with-postgres $(PYTHON) scripts/torture.py --size smoke --bin .build/debug

# The failover harness (scripts/failover.py, docs/torture.md): three daemons on one PostgreSQL state,
# the one running a job killed -9 (FAILOVER_KILLS landed), frozen past its lease, and cut off from the
# server in a network namespace (as root; skipped otherwise unless RETENTIOND_REQUIRE_NETNS=1); every
# round checked record by record. The script starts scripts/with-postgres itself (after the namespace,
# whose address the server must listen on). Full size on the release build: about 8 minutes; the
# smoke size, on the debug build, 2 to 3.
FAILOVER_KILLS ?= 50
failover:
	$(SWIFT) build -c release
	$(PYTHON) scripts/failover.py --bin .build/release --kills $(FAILOVER_KILLS)

failover-smoke:
	$(SWIFT) build
	$(PYTHON) scripts/failover.py --size smoke --bin .build/debug

# Installation. PREFIX and DESTDIR as usual; without DESTDIR (installing on this machine) the
# user, directories, HMAC key and journal catalog are set up too, and systemd is told.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
SYSCONFDIR ?= /etc
DATADIR ?= $(PREFIX)/share
CONFIGURATION ?= release
SYSTEMD_VERSION := $(shell systemctl --version 2>/dev/null | awk 'NR == 1 { print $$2 }')

install:
	$(SWIFT) build -c $(CONFIGURATION) --product retentiond
	$(SWIFT) build -c $(CONFIGURATION) --product retentionctl
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/systemd/system $(DESTDIR)$(LIBDIR)/systemd/catalog \
	  $(DESTDIR)$(LIBDIR)/sysusers.d $(DESTDIR)$(LIBDIR)/tmpfiles.d $(DESTDIR)$(DATADIR)/retentiond/examples \
	  $(DESTDIR)$(SYSCONFDIR)/retentiond/rules.d $(DESTDIR)$(SYSCONFDIR)/retentiond/stores.d
	install -m 0755 .build/$(CONFIGURATION)/retentiond .build/$(CONFIGURATION)/retentionctl $(DESTDIR)$(BINDIR)/
	# systemd 253 and later: Type=notify-reload, so that `systemctl reload` waits for the daemon.
	for unit in retentiond.service retentiond-once.service; do \
	  sed -e 's|@BINDIR@|$(BINDIR)|g' units/$$unit > $(DESTDIR)$(LIBDIR)/systemd/system/$$unit.tmp; \
	  if [ "$$unit" = retentiond.service ] && [ "$${SYSTEMD_VERSION:-$(SYSTEMD_VERSION)}" -ge 253 ] 2>/dev/null; then \
	    sed -i -e 's/^Type=notify$$/Type=notify-reload/' -e '/^ExecReload=/d' $(DESTDIR)$(LIBDIR)/systemd/system/$$unit.tmp; fi; \
	  chmod 0644 $(DESTDIR)$(LIBDIR)/systemd/system/$$unit.tmp; \
	  mv $(DESTDIR)$(LIBDIR)/systemd/system/$$unit.tmp $(DESTDIR)$(LIBDIR)/systemd/system/$$unit; \
	done
	install -m 0644 units/retentiond-once.timer $(DESTDIR)$(LIBDIR)/systemd/system/
	install -m 0644 units/retentiond.sysusers $(DESTDIR)$(LIBDIR)/sysusers.d/retentiond.conf
	install -m 0644 units/retentiond.tmpfiles $(DESTDIR)$(LIBDIR)/tmpfiles.d/retentiond.conf
	install -m 0644 catalog/retentiond.catalog $(DESTDIR)$(LIBDIR)/systemd/catalog/
	cp -r rules examples/stores.yaml $(DESTDIR)$(DATADIR)/retentiond/examples/
	# The example configuration: never over an operator's files; *.example files are not read.
	for file in rules/*.yaml; do \
	  [ -e $(DESTDIR)$(SYSCONFDIR)/retentiond/rules.d/$$(basename $$file) ] || install -m 0644 $$file $(DESTDIR)$(SYSCONFDIR)/retentiond/rules.d/$$(basename $$file).example; done
	[ -e $(DESTDIR)$(SYSCONFDIR)/retentiond/stores.d/stores.yaml ] || install -m 0640 examples/stores.yaml $(DESTDIR)$(SYSCONFDIR)/retentiond/stores.d/stores.yaml.example
	if [ -z "$(DESTDIR)" ]; then \
	  systemd-sysusers $(LIBDIR)/sysusers.d/retentiond.conf; \
	  systemd-tmpfiles --create $(LIBDIR)/tmpfiles.d/retentiond.conf; \
	  [ -s $(SYSCONFDIR)/retentiond/credentials/hmac-key ] || (umask 077; head -c 32 /dev/urandom | base64 > $(SYSCONFDIR)/retentiond/credentials/hmac-key); \
	  journalctl --update-catalog; \
	  if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; \
	fi

# The units as systemd reads them: `verify` must print nothing (it exits 0 on unknown keys), and the
# service must rate 1.5 or better on `systemd-analyze security`.
verify-units:
	rm -rf .build/units-check && mkdir -p .build/units-check/verify
	$(MAKE) --no-print-directory install CONFIGURATION=debug DESTDIR=$(CURDIR)/.build/units-check PREFIX=/usr >/dev/null
	# As installed, but with ExecStart= on the binary just built, which verify checks is there.
	for unit in retentiond.service retentiond-once.service retentiond-once.timer; do \
	  sed 's|/usr/bin/retentiond|$(CURDIR)/.build/debug/retentiond|' .build/units-check/usr/lib/systemd/system/$$unit > .build/units-check/verify/$$unit; done
	cd .build/units-check/verify && out=$$(systemd-analyze verify --man=no retentiond.service retentiond-once.service retentiond-once.timer 2>&1); \
	  if [ -n "$$out" ]; then echo "$$out"; echo "verify-units: systemd-analyze verify printed the above"; exit 1; fi
	out=$$(systemd-analyze security --offline=yes --threshold=15 .build/units-check/verify/retentiond.service 2>&1) || { echo "$$out"; exit 1; }; echo "$$out" | tail -n 1
	out=$$(systemd-analyze security --offline=yes --threshold=15 .build/units-check/verify/retentiond-once.service 2>&1) || { echo "$$out"; exit 1; }; echo "$$out" | tail -n 1
	@echo "verify-units: systemd-analyze verify printed nothing; both services rate 1.5 or better"

clean:
	rm -rf .build Fuzz/.build Fuzz/CommandReply/.build
