# Movie-streaming backend: C FastCGI programs behind lighttpd.
# `make` builds; `make run` / `make stop` run the stack under PM2; `make test` runs the suite.

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -std=c11 -Wall -Wextra -Werror -Wpedantic -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wpointer-arith -Wformat=2 -Wvla
PKGS     = libpq json-c librabbitmq
ifeq ($(SANITIZE),1)
BUILD   ?= build/sanitize
CFLAGS  += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
else
BUILD   ?= build/release
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = $(WARN) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP
LIBS       = $(PKG_LIBS) -lfcgi -lpthread

# Every fcgi/<dir>/*.c is a module except the files holding a main().
MAINS      = inventory/main billing/publisher billing/consumer
SOURCES    = $(patsubst fcgi/%.c,%,$(wildcard fcgi/*/*.c))
LIB_OBJ    = $(patsubst %,$(BUILD)/%.o,$(filter-out $(MAINS),$(SOURCES)))
UNIT_TESTS = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))

PROGRAMS = $(BUILD)/inventory_app $(BUILD)/billing_publisher $(BUILD)/billing_app

ifneq ($(V),1)
Q = @
endif

.PHONY: all run stop test test-hosts deps clean bench
all: $(PROGRAMS) $(UNIT_TESTS)

$(BUILD)/%.o: fcgi/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/inventory_app: $(BUILD)/inventory/main.o $(LIB_OBJ)
$(BUILD)/billing_publisher: $(BUILD)/billing/publisher.o $(LIB_OBJ)
$(BUILD)/billing_app: $(BUILD)/billing/consumer.o $(LIB_OBJ)
$(PROGRAMS):
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -Ifcgi $(LDFLAGS) -o $@ $< $(LIB_OBJ) $(LIBS)

deps:
	$(Q)scripts/deploy/install-deps.sh

run:
	$(Q)scripts/deploy/run.sh

stop:
	$(Q)scripts/deploy/stop.sh

test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tests/lib/test.sh

# make bench [QUICK=1] [PROFILE=1]: scripts/bench/bench.sh, results in docs/bench/
# (QUICK: a smoke run; PROFILE: perf profiles of the wrk scenarios too).
bench:
	$(Q)scripts/deploy/install-deps.sh $(if $(filter-out 0,$(PROFILE)),linux-perf)
	$(Q)$(MAKE) --no-print-directory all
	$(Q)QUICK=$(QUICK) PROFILE=$(PROFILE) BUILD=$(BUILD) scripts/bench/bench.sh

test-hosts: deps
	$(Q)tests/lib/test-hosts.sh

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
