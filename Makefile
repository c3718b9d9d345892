# Portero — two commands: `make run` and `make test` (see README.md).
SWIFT        ?= swift
CONFIG       ?= debug
BIN          := .build/$(CONFIG)/portero
# What the build needs (Debian 12 package names).
BUILD_DEBS   := libsystemd-dev libargon2-dev libssl-dev pkg-config
# What the test suite drives for real: msmtp (sendmail), strace (fault injection), nspawn, socket activation, a .deb.
TEST_DEBS    := msmtp strace curl systemd systemd-container dpkg-dev python3-pip
TEST_PIP     := aiosmtpd

.PHONY: all build run test deps test-deps release clean bench durability

all: build

# Installs missing Debian packages (needs root; apt-get update runs once, only when something is missing).
deps:
	@./scripts/ensure-debs.sh $(BUILD_DEBS)

test-deps: deps
	@./scripts/ensure-debs.sh $(TEST_DEBS)
	@python3 -c 'import aiosmtpd' 2>/dev/null || python3 -m pip install --quiet $(TEST_PIP) \
		|| python3 -m pip install --quiet --break-system-packages $(TEST_PIP)

build: deps
	$(SWIFT) build -c $(CONFIG)

release:
	$(MAKE) build CONFIG=release

# Starts the daemon in the foreground on its embedded defaults (SPEC §2): TCP 127.0.0.1:5500 and the Unix socket.
run: build
	$(BIN) serve

# The whole suite. The integration tests spawn the built binary, so it is built first.
test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --parallel --num-workers 2
	$(MAKE) --no-print-directory durability

# The bounded durability campaign (DURABILITY.md): kill -9, power loss, strace faults, full disk, snapshot crashes,
# bit rot against the built binary. The full runs take options: python3 tests/crash/campaign.py --help.
durability: test-deps
	python3 tests/crash/campaign.py --binary $(BIN) --ci

bench: deps
	$(SWIFT) build -c release --product portero-store-bench
	.build/release/portero-store-bench

clean:
	rm -rf .build
