# lomsong — one binary, two commands: `make run` and `make test`.
#
#   make            build build/lomsong (optimised)
#   make run        install what is missing, build, start the local PostGIS
#                   cluster (.run/dev), migrate, load reference + demo data, serve
#   make test       the same set-up on a throwaway cluster (.run/test), then every test
#   make db         start and migrate the local cluster without serving
#   make stop       stop the local cluster(s)
#   make psql       psql on the local cluster as the owner role
#   make SANITIZER=address|undefined   build with a sanitizer into build/<sanitizer>/
#   make fmt / fmt-check / symcheck / memcheck
SHELL := /bin/bash
.DEFAULT_GOAL := all

CC ?= cc
PKGS := gdal proj libmicrohttpd libcjson libpq openssl zlib
SHARED ?= $(abspath ../shared/data)
LISTEN ?= 127.0.0.1:8080
# `make test TEST_CLUSTER=x BUILD_SUFFIX=-x` runs a second test tree beside the
# first (its own cluster under .run/x and its own build/test-x).
TEST_CLUSTER ?= test

# Flags only when the libraries are there: `make run` installs them first.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wstrict-prototypes -Wshadow \
        -Wno-missing-field-initializers
OPT ?= -O2 -g

ifeq ($(SANITIZER),)
  BUILD := build
  SAN :=
else
  BUILD := build/$(SANITIZER)$(BUILD_SUFFIX)
  ifeq ($(SANITIZER),test)
    SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  else
    SAN := -fsanitize=$(SANITIZER) -fno-omit-frame-pointer
  endif
  OPT := -O1 -g
endif

# `make V=1` shows the full compiler lines.
ifeq ($(V),1)
  Q :=
  say = @true
else
  Q := @
  say = @printf '  %-6s %s\n'
endif

CFLAGS_ALL = $(WARN) $(OPT) $(SAN) -MMD -MP -pthread $(PKG_CFLAGS) -I. -I$(BUILD)/gen
LDLIBS_ALL = $(PKG_LIBS) -lpthread -lm

MODULES := api ingest geo maps
SRCS := $(filter-out api/main.c,$(foreach m,$(MODULES),$(wildcard $(m)/*.c)))
OBJS := $(SRCS:%.c=$(BUILD)/obj/%.o)
MIGRATIONS := $(sort $(wildcard geo/sql/*.sql))
GEN := $(BUILD)/gen/migrations.c $(BUILD)/gen/assets.c $(BUILD)/gen/web.c
GEN_OBJS := $(GEN:$(BUILD)/gen/%.c=$(BUILD)/obj/gen/%.o)
ASSETS := api/openapi.json

TEST_SRCS := $(wildcard tests/*.c)
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/obj/%.o)

.PHONY: all run test db stop psql deps fmt fmt-check symcheck memcheck clean check-tests

all: $(BUILD)/lomsong

$(BUILD)/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -O1 -o $@ $<

# The set of migrations, rewritten only when it changes: a file added with an
# older time than the generated source, or one removed, still rebuilds it.
MIGRATION_SET := $(BUILD)/gen/migrations.set
$(shell mkdir -p $(BUILD)/gen && echo '$(MIGRATIONS)' | cmp -s - $(MIGRATION_SET) \
    || echo '$(MIGRATIONS)' > $(MIGRATION_SET))

$(BUILD)/gen/migrations.c: $(MIGRATIONS) $(MIGRATION_SET) $(BUILD)/tools/embed
	@mkdir -p $(dir $@)
	$(say) EMBED $@
	$(Q)$(BUILD)/tools/embed embedded_migrations $@ $(MIGRATIONS)

$(BUILD)/gen/assets.c: $(ASSETS) $(BUILD)/tools/embed
	@mkdir -p $(dir $@)
	$(say) EMBED $@
	$(Q)$(BUILD)/tools/embed embedded_assets $@ $(ASSETS)

# The web page (maps/web, served by api/h_web.c): our files and MapLibre GL JS
# from npm (tools/web.sh installs it when missing), each embedded with a
# gzip'd copy for clients that take it.
WEB_OWN := $(wildcard maps/web/*.html maps/web/*.js maps/web/*.css maps/web/*.svg \
             maps/web/*.webmanifest)
WEB_NPM := maps/web/node_modules/.lomsong-installed
WEB_LIBS := $(addprefix maps/web/node_modules/maplibre-gl/dist/,maplibre-gl.mjs \
              maplibre-gl-worker.mjs maplibre-gl.css)
WEB_FILES := $(WEB_OWN) $(WEB_LIBS)
WEB_GZ := $(addprefix $(BUILD)/gen/web/,$(addsuffix .gz,$(notdir $(WEB_FILES))))

$(WEB_NPM): maps/web/package.json maps/web/package-lock.json
	@tools/web.sh npm

$(WEB_LIBS): $(WEB_NPM) ;

$(BUILD)/gen/web.c: $(WEB_FILES) $(WEB_NPM) $(BUILD)/tools/embed
	@mkdir -p $(BUILD)/gen/web
	$(say) EMBED $@
	$(Q)for f in $(WEB_FILES); do gzip -9 -n -c "$$f" > "$(BUILD)/gen/web/$$(basename "$$f").gz"; done
	$(Q)$(BUILD)/tools/embed embedded_web $@ $(WEB_FILES) $(WEB_GZ)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(say) CC $<
	$(Q)$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	$(say) CC $<
	$(Q)$(CC) $(CFLAGS_ALL) -Iapi -c -o $@ $<

$(BUILD)/lomsong: $(BUILD)/obj/api/main.o $(OBJS) $(GEN_OBJS)
	$(say) LINK $@
	$(Q)$(CC) $(SAN) -pthread -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/lomsong-tests: $(TEST_OBJS) $(OBJS) $(GEN_OBJS)
	$(say) LINK $@
	$(Q)$(CC) $(SAN) -pthread -o $@ $^ $(LDLIBS_ALL) -lcurl

# --------------------------------------------------------------- database
deps:
	@tools/db.sh deps
	@tools/web.sh deps

db: deps
	@$(MAKE) --no-print-directory all
	@tools/db.sh start dev >/dev/null
	@build/lomsong migrate
	@if [ ! -f .run/dev/.reference-loaded ]; then \
	  tools/load-reference.sh build/lomsong $(SHARED) && touch .run/dev/.reference-loaded; fi
	@if [ ! -f .run/dev/.demo-loaded ]; then \
	  build/lomsong demo && touch .run/dev/.demo-loaded; fi

run: db
	@build/lomsong serve --listen $(LISTEN) --print-tokens

stop:
	@tools/db.sh stop dev; tools/db.sh stop test

psql:
	@tools/db.sh psql dev

# ------------------------------------------------------------------- tests
# The test build has -Werror (as every build) plus ASan and UBSan.
TB := build/test$(BUILD_SUFFIX)
test: deps
	@$(MAKE) --no-print-directory SANITIZER=test $(TB)/lomsong $(TB)/lomsong-tests
	@tools/db.sh start $(TEST_CLUSTER) --fresh >/dev/null
	@set -e; export LOMSONG_ADMIN_DB="$$(tools/db.sh conninfo $(TEST_CLUSTER) owner)" \
	    LOMSONG_DB="$$(tools/db.sh conninfo $(TEST_CLUSTER) app)" \
	    LOMSONG_TEST_SUPER_DB="$$(tools/db.sh conninfo $(TEST_CLUSTER) super)" \
	    LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	    LOMSONG_TEST_SHARED=$(SHARED) LOMSONG_TEST_ROOT=$(CURDIR) LOMSONG_TEST_CLUSTER=$(TEST_CLUSTER); \
	  $(TB)/lomsong migrate >/dev/null; \
	  tools/load-reference.sh $(TB)/lomsong $(SHARED) >/dev/null; \
	  $(TB)/lomsong-tests $(T)

# ------------------------------------------------------------------ quality
fmt:
	clang-format -i $(wildcard */*.c */*.h)

fmt-check:
	clang-format --dry-run -Werror $(wildcard */*.c */*.h)

# Every exported symbol must carry a known module prefix (SQLite's checksymbols).
symcheck: $(BUILD)/lomsong
	@bad=$$(nm -g --defined-only $(OBJS) $(BUILD)/obj/api/main.o | awk 'NF==3 && $$2 ~ /[TDBR]/ {print $$3}' \
	  | grep -Ev '^(ls_|arena_|buf_|log_|config_|cli_|db_|geo_|api_|auth_|ingest_|maps_|embedded_|main$$)' || true); \
	  if [ -n "$$bad" ]; then echo "symbols without a module prefix:"; echo "$$bad"; exit 1; fi; \
	  echo "symcheck: ok"

# The pure-C suites under valgrind (the server suites run under ASan in make test).
memcheck: $(BUILD)/lomsong-tests
	LOMSONG_ADMIN_DB="$$(tools/db.sh conninfo test owner)" valgrind --error-exitcode=1 \
	  --leak-check=full --errors-for-leak-kinds=definite $(BUILD)/lomsong-tests base

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
