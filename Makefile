# Portero — two commands: `make run` and `make test` (see README.md).
SWIFT        ?= swift
CONFIG       ?= debug
BIN          := .build/$(CONFIG)/portero
# What the build needs (Debian 12 package names).
BUILD_DEBS   := libsystemd-dev libargon2-dev libssl-dev pkg-config
# What the test suite drives for real: msmtp (sendmail), strace (fault injection), nspawn, socket activation, a .deb
# (dpkg-dev, lintian), its manual pages (man-db), nginx and caddy (forward-auth), chromium driven by selenium (the
# sign-in page), postfix (a private instance on loopback receives mail.transport: smtp; and in the nspawn test,
# mail on the default transport under the shipped unit. The tests' own daemons name their transport, so a
# /usr/sbin/sendmail on the machine changes none of them).
TEST_DEBS    := msmtp strace curl systemd systemd-container dpkg-dev lintian man-db python3-pip nginx-light caddy \
                chromium chromium-driver postfix
# The stacks whose password hashes `portero import` keeps (ImportCLITests makes real ones at test time).
# prometheus_client parses /metrics.
TEST_PIP     := aiosmtpd schemathesis selenium werkzeug django bcrypt argon2-cffi prometheus_client
# Cases per API operation and phase of the fuzzer run in `make test` (harness/fuzz/run.py); larger for a longer run,
# or FUZZ_MAX_TIME=<seconds> to fuzz until that time is spent.
FUZZ_EXAMPLES ?= 20
FUZZ_SEED     ?= 20261123
FUZZ_MAX_TIME ?= 0

.PHONY: all build run test deps test-deps release deb man clean bench bench-http bench-micro durability fuzz fuzz-run

all: build

# Installs missing Debian packages (needs root; apt-get update runs once, only when something is missing).
deps:
	@./scripts/ensure-debs.sh $(BUILD_DEBS)

test-deps: deps
	@./scripts/ensure-debs.sh $(TEST_DEBS)
	@python3 -c 'import aiosmtpd, schemathesis, selenium, werkzeug, django, bcrypt, argon2, prometheus_client' 2>/dev/null || python3 -m pip install --quiet $(TEST_PIP) \
		|| python3 -m pip install --quiet --break-system-packages $(TEST_PIP)

build: deps
	$(SWIFT) build -c $(CONFIG)

release:
	$(MAKE) build CONFIG=release

# dist/portero_<version>_<arch>.deb from a release build (packaging/build-deb.sh; README, Packaging).
deb: deps
	packaging/build-deb.sh

# portero(8) and portero.yaml(5) of the built binary into .build/man (packaging/man/generate.sh).
man: build
	mkdir -p .build/man
	packaging/man/generate.sh --binary $(BIN) --output .build/man

# Starts the daemon in the foreground on its embedded defaults (docs/configuration.md): TCP 127.0.0.1:5500 and the Unix socket.
run: build
	$(BIN) serve

# The whole suite. The integration tests spawn the built binary, so it is built first; then a bounded fuzzer run.
test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --parallel --num-workers 2
	$(MAKE) --no-print-directory fuzz-run
	$(MAKE) --no-print-directory durability

# The bounded durability campaign (DURABILITY.md): kill -9, power loss, strace faults, full disk, snapshot crashes,
# bit rot against the built binary. The full runs take options: python3 harness/crash/campaign.py --help.
durability: test-deps
	python3 harness/crash/campaign.py --binary $(BIN) --ci

# schemathesis against a real `portero serve` from docs/openapi.yaml: no 5xx, statuses and bodies as documented,
# the daemon alive and answering afterwards (harness/fuzz/run.py). `make fuzz FUZZ_MAX_TIME=1800` is the long run.
fuzz: test-deps
	$(SWIFT) build -c $(CONFIG) --product portero
	$(MAKE) --no-print-directory fuzz-run

fuzz-run:
	python3 harness/fuzz/run.py --binary $(BIN) --examples $(FUZZ_EXAMPLES) --seed $(FUZZ_SEED) \
		--max-time $(FUZZ_MAX_TIME)

bench: deps
	$(SWIFT) build -c release --product portero-store-bench
	.build/release/portero-store-bench

# HTTP benchmarks (bench/README.md): a release build in .build-release, the bare-Hummingbird ceiling (its own package
# in bench/http, so neither `make test` nor CI builds it), wrk from Debian, the Flask and FastAPI peers in a venv in
# .build-bench; prints the table and appends it to BENCHMARKS.md. BENCH_ARGS="--seconds 5 --users 100000" etc.
BENCH_ARGS ?=
bench-http: deps
	@./scripts/ensure-debs.sh wrk gcc
	$(SWIFT) build -c release --scratch-path .build-release --product portero
	$(SWIFT) build -c release --package-path bench/http
	python3 bench/http/run.py --binary .build-release/release/portero \
		--ceiling bench/http/.build/release/portero-bench-ceiling --append BENCHMARKS.md $(BENCH_ARGS)

# Micro-benchmarks (bench/README.md): ordo-one/benchmark in its own package in bench/micro (so neither `make test` nor
# CI builds it), release build; time, throughput and mallocs per token check, token signing, record apply, CRC-32C,
# log line encode and read-back. BENCH_MICRO_ARGS="--filter 'Token.*'" runs some (a regexp on the whole name);
# "baseline update NAME" stores a run, "baseline compare NAME" runs again and compares with it.
BENCH_MICRO_ARGS ?=
bench-micro: deps
	cd bench/micro && $(SWIFT) package --allow-writing-to-package-directory benchmark $(BENCH_MICRO_ARGS)

clean:
	rm -rf .build
