# Movie-streaming backend: C FastCGI programs behind lighttpd.
# `make` builds; `make run` / `make stop` run the stack under PM2; `make test` (or
# `make check`) runs the suite; `make install` copies the programs and their files.

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -std=c11 -Wall -Wextra -Werror -Wpedantic -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wpointer-arith -Wformat=2 -Wvla
PKGS     = libpq json-c librabbitmq fcgi
ifeq ($(SANITIZE),1)
BUILD   ?= build/sanitize
CFLAGS  += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
else
BUILD   ?= build/release
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
ALL_CFLAGS = $(WARN) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP
# $(call pkg_libs,PACKAGES): the link flags of those pkg-config packages.
pkg_libs   = $(shell pkg-config --libs $(1) 2>/dev/null)

# Each fcgi/<dir>/ is one archive of its modules (the files holding a main() excepted).
# A program links its main, the archives it draws from and the libraries it calls; the
# linker takes from an archive only the modules the program uses, so no program carries
# another's code.
MAINS      = inventory/main billing/publisher billing/consumer
modules    = $(patsubst fcgi/%.c,$(BUILD)/%.o,$(filter-out $(MAINS:%=fcgi/%.c),$(wildcard fcgi/$(1)/*.c)))
COMMON_A   = $(BUILD)/libcommon.a
INVENTORY_A = $(BUILD)/libinventory.a
BILLING_A  = $(BUILD)/libbilling.a
UNIT_TESTS = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))

PROGRAMS = $(BUILD)/inventory_app $(BUILD)/billing_publisher $(BUILD)/billing_app

ifneq ($(V),1)
Q = @
endif

.PHONY: all install uninstall run reload stop test check test-hosts test-cluster deps clean bench soak fuzz status test-tls metrics test-db
all: $(PROGRAMS) $(UNIT_TESTS)

$(BUILD)/%.o: fcgi/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(COMMON_A): $(call modules,common)
$(INVENTORY_A): $(call modules,inventory)
$(BILLING_A): $(call modules,billing)
$(COMMON_A) $(INVENTORY_A) $(BILLING_A):
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/inventory_app: $(BUILD)/inventory/main.o $(INVENTORY_A) $(COMMON_A)
$(BUILD)/inventory_app: LDLIBS = $(call pkg_libs,libpq json-c fcgi) -lpthread
$(BUILD)/billing_publisher: $(BUILD)/billing/publisher.o $(BILLING_A) $(COMMON_A)
$(BUILD)/billing_publisher: LDLIBS = $(call pkg_libs,librabbitmq json-c fcgi) -lpthread
$(BUILD)/billing_app: $(BUILD)/billing/consumer.o $(BILLING_A) $(COMMON_A)
$(BUILD)/billing_app: LDLIBS = $(call pkg_libs,librabbitmq libpq json-c fcgi) -lpthread
$(PROGRAMS):
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# A unit test links the archive of what it tests (and the common one under it).
$(BUILD)/tests/test_common_helpers: $(COMMON_A)
$(BUILD)/tests/test_cgi_stdin: $(COMMON_A)
$(BUILD)/tests/test_trace_context: $(COMMON_A)
$(BUILD)/tests/test_metrics: $(COMMON_A)
$(BUILD)/tests/test_http_helpers: $(COMMON_A)
$(BUILD)/tests/test_http_helpers: LDLIBS = $(call pkg_libs,json-c fcgi)
$(BUILD)/tests/test_movie_input: $(INVENTORY_A) $(COMMON_A)
$(BUILD)/tests/test_movie_input: LDLIBS = $(call pkg_libs,json-c)
$(BUILD)/tests/test_order $(BUILD)/tests/test_billing_ids: $(BILLING_A) $(COMMON_A)
$(BUILD)/tests/test_order $(BUILD)/tests/test_billing_ids: LDLIBS = $(call pkg_libs,json-c librabbitmq)
$(BUILD)/tests/test_daemon_limits $(BUILD)/tests/test_broker_endpoints: $(BILLING_A) $(COMMON_A)
$(BUILD)/tests/test_daemon_limits $(BUILD)/tests/test_broker_endpoints: LDLIBS = $(call pkg_libs,json-c librabbitmq)
$(BUILD)/tests/test_database_tier: $(BILLING_A) $(COMMON_A)
$(BUILD)/tests/test_database_tier: LDLIBS = $(call pkg_libs,json-c fcgi) -lpthread
$(BUILD)/tests/%: tests/unit/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -Ifcgi $(LDFLAGS) -o $@ $< $(filter %.a,$^) $(LDLIBS)

# make install [PREFIX=/usr/local] [sysconfdir=$(PREFIX)/etc] [localstatedir=$(PREFIX)/var]
#              [DESTDIR=]   (a Debian package: PREFIX=/usr sysconfdir=/etc localstatedir=/var)
# installs a tree that runs without the repository or its build directory:
#   $(SBINDIR)     inventory_app, billing_publisher, billing_app (PM2 and lighttpd start
#                  them, not users)
#   $(PKGDATADIR)  the installed tree's PROJECT_ROOT, laid out as in the repository, so
#                  that every path under PROJECT_ROOT in the configs and scripts holds:
#                  lighttpd.conf, .env.example (the defaults under .env), sql/, cgi-bin/,
#                  docs/openapi.yaml, scripts/deploy/ (app.sh, gateway.sh, reload.sh,
#                  status.sh, stop.sh, ecosystem.config.js, lib/), scripts/gateway/
#                  (conn_limit.lua, errors/, api-docs/), Swagger UI's files that
#                  lighttpd.conf serves (scripts/node_modules/swagger-ui-dist/), and two
#                  written here: scripts/deploy/lib/installed.sh, which lib/env.sh reads
#                  (BUILD_DIR=$(SBINDIR), ENV_FILE, RUN_DIR, PM2=pm2 from PATH; the
#                  environment still wins), and install-manifest, every file installed.
#   $(PKGCONFDIR)  env.example, a copy of .env.example. The installed tree's settings are
#                  $(PKGCONFDIR)/.env (ENV_FILE): copy env.example there and edit it
#                  (mode 600, it holds the passwords), or let the first start write one
#                  with random passwords. make uninstall leaves .env where it is.
#   $(PKGRUNDIR)   RUN_DIR, made by the gateway when it starts (pid, access log, sockets).
# Not installed: provision.sh, run.sh and install-deps.sh, which build and provision from
# a checkout; and PM2 (the one on PATH; npm install -g pm2, or set PM2 in .env).
# make uninstall [same variables] removes the files that install-manifest lists, then the
# folders of $(PKGDATADIR) and $(PKGCONFDIR) left empty.
PREFIX        ?= /usr/local
sysconfdir    ?= $(PREFIX)/etc
localstatedir ?= $(PREFIX)/var
runstatedir   ?= $(localstatedir)/run
SBINDIR       ?= $(PREFIX)/sbin
DATADIR       ?= $(PREFIX)/share
PKGDATADIR    ?= $(DATADIR)/movie-platform
PKGCONFDIR    ?= $(sysconfdir)/movie-platform
PKGRUNDIR     ?= $(runstatedir)/movie-platform
INSTALL       ?= install
SWAGGER_UI     = scripts/node_modules/swagger-ui-dist
# Installed under $(PKGDATADIR) at their repository paths: programs and data.
INSTALL_EXEC   = $(filter-out %.conf,$(wildcard cgi-bin/*)) \
                 $(addprefix scripts/deploy/,app.sh gateway.sh reload.sh status.sh stop.sh \
                   postgres_exporter.sh)
INSTALL_DATA   = lighttpd.conf .env.example docs/openapi.yaml $(wildcard sql/*.sql) \
                 $(wildcard cgi-bin/*.conf) scripts/deploy/ecosystem.config.js \
                 scripts/deploy/postgres_exporter.config.js \
                 $(wildcard scripts/deploy/lib/*.sh) scripts/gateway/conn_limit.lua \
                 scripts/gateway/metrics.lua \
                 $(wildcard scripts/gateway/errors/* scripts/gateway/api-docs/*) \
                 $(addprefix $(SWAGGER_UI)/,swagger-ui.css index.css swagger-ui-bundle.js \
                   favicon-16x16.png favicon-32x32.png LICENSE NOTICE)
MANIFEST       = $(PKGDATADIR)/install-manifest

install: $(PROGRAMS) $(INSTALL_EXEC) $(INSTALL_DATA)
	$(Q)set -e; \
	case '$(SBINDIR):$(PKGDATADIR):$(PKGCONFDIR):$(PKGRUNDIR)' in *[!-A-Za-z0-9/._+:]*) \
		echo "make install: install paths may hold letters, digits and / . _ + - only" >&2; exit 1;; esac; \
	list=$$(mktemp); gen=$$(mktemp); trap 'rm -f "$$list" "$$gen"' EXIT; \
	put() { $(INSTALL) -D -m "$$1" "$$2" "$(DESTDIR)$$3"; echo "$$3" >>"$$list"; }; \
	for f in $(PROGRAMS); do put 755 "$$f" "$(SBINDIR)/$${f##*/}"; done; \
	for f in $(INSTALL_EXEC); do put 755 "$$f" "$(PKGDATADIR)/$$f"; done; \
	for f in $(INSTALL_DATA); do put 644 "$$f" "$(PKGDATADIR)/$$f"; done; \
	put 644 .env.example "$(PKGCONFDIR)/env.example"; \
	{ echo '# shellcheck shell=bash'; \
	  echo '# Written by make install: where this installed tree keeps what a checkout keeps'; \
	  echo '# under PROJECT_ROOT. Read by lib/env.sh; a variable set in the environment wins.'; \
	  echo ': "$${BUILD_DIR:=$(SBINDIR)}"'; \
	  echo ': "$${ENV_FILE:=$(PKGCONFDIR)/.env}"'; \
	  echo ': "$${RUN_DIR:=$(PKGRUNDIR)}"'; \
	  echo ': "$${PM2:=pm2}"'; } >"$$gen"; \
	put 644 "$$gen" "$(PKGDATADIR)/scripts/deploy/lib/installed.sh"; \
	echo "$(MANIFEST)" >>"$$list"; \
	$(INSTALL) -m 644 "$$list" "$(DESTDIR)$(MANIFEST)"

# Swagger UI comes from npm (scripts/package-lock.json), not from git.
$(SWAGGER_UI)/%:
	@echo "make install: $@ is missing: run make deps (npm ci in scripts/)" >&2; exit 1

uninstall:
	$(Q)set -e; m='$(DESTDIR)$(MANIFEST)'; \
	[ -f "$$m" ] || { echo "make uninstall: no $$m: nothing installed with these paths" >&2; exit 1; }; \
	while IFS= read -r f; do rm -f "$(DESTDIR)$$f"; done <"$$m"; \
	for d in '$(DESTDIR)$(PKGDATADIR)' '$(DESTDIR)$(PKGCONFDIR)'; do \
		[ ! -d "$$d" ] || find "$$d" -depth -type d -empty -delete; \
		[ ! -d "$$d" ] || echo "make uninstall: kept $$d: it holds files make install did not put there"; \
	done

deps:
	$(Q)scripts/deploy/install-deps.sh

run:
	$(Q)scripts/deploy/run.sh

# Applies an edited lighttpd.conf or .env to the running platform without failing a
# request (README, Operations).
reload:
	$(Q)scripts/deploy/reload.sh

stop:
	$(Q)scripts/deploy/stop.sh

# This host's PM2 processes and GET /api/health, one part a line; 1 when a part is down.
status:
	$(Q)scripts/deploy/status.sh

# The key figures of the running platform from its metrics pages (README, Observability).
metrics:
	$(Q)scripts/monitoring/figures.sh

test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tests/lib/test.sh

check: test

# The shared-hosting site through a private Apache httpd, as plain CGI (mod_cgid) and with
# mod_fcgid (tests/lib/test-apache.sh installs Debian's apache2 and libapache2-mod-fcgid).
.PHONY: test-apache
test-apache: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tests/lib/test-apache.sh

# The benchmark's own programs (scripts/bench/tools): the FastCGI and broker ceilings,
# and the counters' cost per request (metrics_cost, linked with the programs' archives).
BENCH_TOOLS = $(BUILD)/bench/fcgi_fixed $(BUILD)/bench/amqp_confirm_bench $(BUILD)/bench/metrics_cost
$(BUILD)/bench/metrics_cost: scripts/bench/tools/metrics_cost.c $(INVENTORY_A) $(BILLING_A) $(COMMON_A)
$(BUILD)/bench/metrics_cost: LDLIBS = $(call pkg_libs,libpq json-c librabbitmq fcgi) -lpthread
$(BUILD)/bench/fcgi_fixed: scripts/bench/tools/fcgi_fixed.c $(COMMON_A)
$(BUILD)/bench/fcgi_fixed: LDLIBS = $(call pkg_libs,json-c fcgi) -lpthread
$(BUILD)/bench/amqp_confirm_bench: scripts/bench/tools/amqp_confirm_bench.c
$(BUILD)/bench/amqp_confirm_bench: LDLIBS = $(call pkg_libs,librabbitmq) -lpthread
$(BENCH_TOOLS):
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CCLD    $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# make bench [QUICK=1] [PROFILE=1]: scripts/bench/bench.sh, results in docs/bench/
# (QUICK: a smoke run; PROFILE: perf profiles of the wrk scenarios too).
bench:
	$(Q)scripts/deploy/install-deps.sh $(if $(filter-out 0,$(PROFILE)),linux-perf)
	$(Q)$(MAKE) --no-print-directory all $(BENCH_TOOLS)
	$(Q)QUICK=$(QUICK) PROFILE=$(PROFILE) BUILD=$(BUILD) scripts/bench/bench.sh

# make soak [SOAK_SECONDS=600]: tests/soak/soak.sh, mixed traffic through a printed fault
# schedule on a private stack, then its table (README, Chaos soak).
soak:
	$(Q)scripts/deploy/install-deps.sh
	$(Q)$(MAKE) --no-print-directory all
	$(Q)SOAK_SECONDS=$(SOAK_SECONDS) BUILD=$(BUILD) tests/soak/soak.sh

# make fuzz [FUZZ_SECONDS=30]: tests/fuzz/run.sh builds every libFuzzer target (clang, ASan,
# UBSan) and runs each for FUZZ_SECONDS seconds; a crash or an oracle failure fails it.
fuzz:
	$(Q)scripts/deploy/install-deps.sh clang libclang-rt-14-dev
	$(Q)WARN='$(WARN)' FUZZ_BUILD=$(BUILD)/fuzz tests/fuzz/run.sh $(or $(FUZZ_SECONDS),30)

# make test-tls: testssl.sh against the gateway's HTTPS port and billing.bats over HTTPS,
# on a private stack (tests/lib/test-tls.sh; minutes, so not in make test).
test-tls: deps
	$(Q)scripts/deploy/install-deps.sh testssl.sh
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tests/lib/test-tls.sh

test-hosts: deps
	$(Q)tests/lib/test-hosts.sh

test-cluster: deps
	$(Q)tests/lib/test-cluster.sh

# make test-db: the database tier (Patroni on etcd, three DB hosts in network namespaces):
# the primary killed, cut off and switched over under load (tests/lib/test-db.sh).
test-db: deps
	$(Q)tests/lib/test-db.sh

# make bench-db [QUICK=1]: make bench's (c), (d) and (e) on the database tier of make test-db,
# with Patroni's synchronous_mode on and off, interleaved (scripts/bench/db_tier.sh);
# results in docs/bench/db-tier.md (QUICK: a smoke run, results under /tmp).
.PHONY: bench-db
bench-db: deps
	$(Q)scripts/deploy/install-deps.sh patroni etcd-server etcd-client
	$(Q)$(MAKE) --no-print-directory all
	$(Q)QUICK=$(QUICK) scripts/bench/db_tier.sh

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
