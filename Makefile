# Loanflow build. `make` builds ./loanflow (the FastCGI server) and ./loanctl (the operator's
# command line); `make run` and `make test` are the two commands a new machine needs.
VERSION    := 0.1.0
CC         ?= cc
SANITIZE   ?=
PKGS       := libpq json-c libjwt libsodium hiredis zlib libcurl
BUILD      := build

# pkg-config is evaluated when a recipe runs, i.e. after `deps` has installed the libraries.
PKG_CFLAGS  = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS    = $(shell pkg-config --libs $(PKGS)) -lfcgi -lm

CFLAGS     ?= -O2 -g
WARN       := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
              -Wno-format-nonliteral -Werror
ALL_CFLAGS  = -std=gnu11 -D_GNU_SOURCE -DLOANFLOW_VERSION='"$(VERSION)"' $(WARN) $(CFLAGS) \
              $(addprefix -I,$(LAYERS)) $(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDFLAGS)
ifneq ($(SANITIZE),)
ALL_CFLAGS  += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif

# The layers, lowest first. Each links only with the layers below it, and the link lines say so:
# the pipeline's unit tests link without the store, loanctl links without routes/, and only the
# server links everything.
LAYERS     := app/runtime app/pipeline app/store app/cli routes
RUNTIME_OBJS  := $(patsubst %.c,$(BUILD)/%.o,$(filter-out app/runtime/main.c,$(wildcard app/runtime/*.c)))
PIPELINE_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard app/pipeline/*.c))
STORE_OBJS    := $(patsubst %.c,$(BUILD)/%.o,$(wildcard app/store/*.c))
CLI_OBJS      := $(patsubst %.c,$(BUILD)/%.o,$(wildcard app/cli/*.c))
ROUTES_OBJS   := $(patsubst %.c,$(BUILD)/%.o,$(wildcard routes/*.c))
ALL_OBJS      := $(RUNTIME_OBJS) $(PIPELINE_OBJS) $(STORE_OBJS) $(CLI_OBJS) $(ROUTES_OBJS) \
                 $(BUILD)/app/runtime/main.o
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
DEPS_STAMP := $(BUILD)/.deps-installed
CHART_JS   := static/vendor/chart.umd.min.js

.PHONY: all deps run start stop status test unit bench fuzz clean distclean format format-check hello

all: loanflow loanctl $(CHART_JS) $(BUILD)/hello $(BUILD)/hashbench $(BUILD)/screen_bench \
     $(BUILD)/schedule_bench

# Installs what is missing (apt-get, npm ci); cheap when everything is there.
deps:
	@scripts/deps.sh
	@mkdir -p $(BUILD) && touch $(DEPS_STAMP)

$(DEPS_STAMP):
	@scripts/deps.sh
	@mkdir -p $(BUILD) && touch $@

$(BUILD)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

loanflow: $(BUILD)/app/runtime/main.o $(ROUTES_OBJS) $(STORE_OBJS) $(PIPELINE_OBJS) $(RUNTIME_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

loanctl: $(CLI_OBJS) $(STORE_OBJS) $(PIPELINE_OBJS) $(RUNTIME_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# A unit test links with the layer of what it tests and the layers below it, nothing above.
UNIT_PIPELINE := loan identity risk screening screening_quality validate market schedule servicing
UNIT_STORE    := pii db lending gateway
unit_layer     = $(if $(filter $(1),$(UNIT_PIPELINE)),$(PIPELINE_OBJS) $(RUNTIME_OBJS),$(if \
                 $(filter $(1),$(UNIT_STORE)),$(STORE_OBJS) $(PIPELINE_OBJS) $(RUNTIME_OBJS),\
                 $(RUNTIME_OBJS)))

.SECONDEXPANSION:
$(BUILD)/tests/test_%: tests/unit/test_%.c $$(call unit_layer,$$*) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(call unit_layer,$*) $(ALL_LDFLAGS) $(PKG_LIBS) -lcmocka

# The hello-world FastCGI program that make bench measures as its baseline.
$(BUILD)/hello: tests/bench/hello.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(ALL_LDFLAGS) -lfcgi

$(BUILD)/screen_bench: tests/bench/screen_bench.c app/pipeline/screening.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) -lz -lm

$(BUILD)/schedule_bench: tests/bench/schedule_bench.c app/pipeline/schedule.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) -lm

$(BUILD)/hashbench: tests/bench/hashbench.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(ALL_LDFLAGS) $(PKG_LIBS)

# Chart.js comes from the npm registry (package-lock.json) and is copied, never committed.
$(CHART_JS): node_modules/chart.js/dist/chart.umd.min.js
	@mkdir -p $(dir $@)
	cp $< $@

node_modules/chart.js/dist/chart.umd.min.js: package-lock.json | $(DEPS_STAMP)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# libFuzzer target on the submit body parser and the validators (clang).
FUZZ_SRCS  := tests/fuzz/fuzz_submit.c app/runtime/js.c app/pipeline/loan.c app/pipeline/loan_input.c \
              app/pipeline/validate.c app/pipeline/screening.c app/pipeline/risk.c
$(BUILD)/fuzz_submit: $(FUZZ_SRCS) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -Iapp/runtime -Iapp/pipeline $(shell pkg-config --cflags json-c) \
		-o $@ $(FUZZ_SRCS) $(shell pkg-config --libs json-c) -lm

fuzz: $(BUILD)/fuzz_submit
	@mkdir -p $(BUILD)/fuzz-corpus && cp tests/fuzz/corpus/* $(BUILD)/fuzz-corpus/
	$(BUILD)/fuzz_submit -max_total_time=$${FUZZ_SECONDS:-60} $(BUILD)/fuzz-corpus

unit: $(UNIT_BINS)
	@scripts/unit.sh $(UNIT_BINS)

run: all
	@scripts/stack.sh run

start: all
	@scripts/stack.sh start

stop:
	@scripts/stack.sh stop

status:
	@scripts/stack.sh status

test: all $(UNIT_BINS) $(BUILD)/fuzz_submit
	@scripts/test.sh $(UNIT_BINS)

bench: all $(BUILD)/tests/test_screening_quality
	@scripts/bench.sh

FORMAT_SRCS = $(wildcard app/*/*.c app/*/*.h routes/*.c routes/*.h tests/unit/*.c tests/unit/*.h \
                tests/bench/*.c tests/fuzz/*.c)

format:
	clang-format -i $(FORMAT_SRCS)

# Fails, listing the files, when any C file differs from .clang-format.
format-check:
	@clang-format --dry-run --Werror $(FORMAT_SRCS) 2>/dev/null || { \
		echo "these files differ from .clang-format (make format):"; \
		for f in $(FORMAT_SRCS); do clang-format "$$f" | cmp -s - "$$f" || echo "  $$f"; done; \
		exit 1; }
	@echo "format-check: $(words $(FORMAT_SRCS)) files follow .clang-format"

clean:
	rm -rf $(BUILD) loanflow loanctl static/vendor

distclean: clean
	rm -rf node_modules

-include $(ALL_OBJS:.o=.d)
