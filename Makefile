# Lifeboat: build the toolkit, run the demo and the tests.
#
#   make          build/lifeboat (static: it runs inside the boot image)
#   make check    install what is missing, build, run every test
#   make demo     install what is missing, run the main job on a lab disk
#   make bench    benchmarks, written to docs/benchmarks.md
#   make fuzz     libFuzzer harnesses for the parsers (clang)
#   make image    the boot image: build/image/bzImage, initramfs.cpio.gz, and the
#                 media (lifeboat.iso, lifeboat.img, lifeboat.efi, pxe/)
#   make site SITE=DIR   a sender's credentials (scripts/mkcerts) as a second
#                 initrd, and media that load it in build/image/site/

CC ?= cc
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wshadow -Wno-unused-parameter \
	  -D_FILE_OFFSET_BITS=64 -Itools
# Everything links statically: the boot image has no shared libraries to
# offer, and a static binary is the same on the host and in the image
# (docs/build.md says why).
LDFLAGS += -static
# Against another mbedtls than Debian's, built in its own source tree
# (3.6: docs/build.md): make MBEDTLS=DIR B=build/mbedtls3
MBEDTLS_INC := $(MBEDTLS:%=-I%/include)
MBEDTLS_LIB := $(MBEDTLS:%=-L%/library)
CFLAGS += $(MBEDTLS_INC)
LDLIBS = -lext2fs -lcom_err -lblkid -luuid $(MBEDTLS_LIB) -lmbedtls -lmbedx509 -lmbedcrypto \
	 -lzstd -lz

B := build
# The version every binary reports (lifeboat --version, carve's log, the
# bag-info.txt of each job sent): git's name for the tree it was built
# from, "-dirty" when that tree held changes not committed. build/version.h
# is written again only when it changes, so that only version.o follows.
VERSION := $(shell git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
CPPFLAGS += -I$(B)
LIB_SRC := $(wildcard tools/lib/*.c)
LIB_OBJ := $(LIB_SRC:tools/%.c=$(B)/obj/%.o)
CMD_SRC := $(wildcard tools/*.c)
CMD_OBJ := $(CMD_SRC:tools/%.c=$(B)/obj/%.o)
UNIT := $(patsubst tests/unit/%.c,$(B)/test/unit-%,$(wildcard tests/unit/*.c))

all: $(B)/lifeboat

$(B)/obj/%.o: tools/%.c $(wildcard tools/*.h tools/lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(B)/version.h: FORCE
	@mkdir -p $(B)
	@echo '#define LB_VERSION "$(VERSION)"' >$@.new
	@if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi
$(B)/obj/lib/version.o: $(B)/version.h

$(B)/liblifeboat.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(B)/lifeboat: $(CMD_OBJ) $(B)/liblifeboat.a
	$(CC) $(LDFLAGS) -o $@ $(CMD_OBJ) $(B)/liblifeboat.a $(LDLIBS)

# Unit drivers are built with sanitizers and linked dynamically.
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer
$(B)/test/unit-%: tests/unit/%.c $(LIB_SRC) $(wildcard tools/lib/*.h tests/unit/*.h) $(B)/version.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O1 -g -Wall -Wextra -Wno-unused-parameter $(SAN) \
		-D_FILE_OFFSET_BITS=64 -Itools/lib -Itools -I$(B) $(MBEDTLS_INC) $< $(LIB_SRC) \
		-o $@ $(LDLIBS:-static=)

deps:
	@scripts/install-deps

# The boot tests' kernel is built (or found in its cache) before the tests
# run, so that each test's time limit (tests/run) is about the test.
check: deps
	$(MAKE) all $(UNIT)
	scripts/build-kernel >/dev/null
	tests/run

demo: deps all
	scripts/demo

bench: deps all $(B)/bench/cipher $(B)/bench/zstd $(B)/test/unit-hash
	scripts/bench

# The mbedtls cipher limit that make bench compares the transfer with.
$(B)/bench/cipher: tests/bench/cipher.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(MBEDTLS_LIB) -lmbedcrypto

# What the wire's zstd (tools/lib/compress.c) costs a sender and a receiver.
$(B)/bench/zstd: tests/bench/zstd.c $(B)/liblifeboat.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/liblifeboat.a $(LDLIBS)

# What a scan's directory entries take in memory (docs/scan.md).
$(B)/bench/names: tests/bench/names.c $(B)/liblifeboat.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(B)/liblifeboat.a $(LDLIBS)

image: deps all
	scripts/image
	scripts/media

site: image
	@test -n "$(SITE)" || { echo "make site SITE=DIR (a sender directory made by scripts/mkcerts)"; exit 100; }
	scripts/site $(SITE)
	scripts/media build/image/site.cpio.gz

FUZZ := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(wildcard tests/fuzz/*.c))
$(B)/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(B)/version.h
	@mkdir -p $(dir $@)
	clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -D_FILE_OFFSET_BITS=64 \
		-Itools/lib -Itools -I$(B) $(MBEDTLS_INC) $< $(LIB_SRC) -o $@ $(LDLIBS)

fuzz: deps $(FUZZ)
	scripts/fuzz $(FUZZ)

clean:
	rm -rf $(B)

.PHONY: all deps check demo bench fuzz image site clean FORCE
