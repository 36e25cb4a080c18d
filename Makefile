# The README's two commands, and a few for developers. Everything builds into build/
# (build-asan/ for the sanitizer run); the set-up script installs what is missing.
BUILD      ?= build
ASAN_BUILD ?= build-asan
MESON_OPTS ?=

.PHONY: all setup build demo test bench asan format format-check install clean

all: build

setup:
	@scripts/setup.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: setup $(BUILD)/build.ninja
	meson compile -C $(BUILD)

demo: build
	@scripts/demo.sh $(BUILD)

test: build
	meson test -C $(BUILD) --print-errorlogs

# Figures for docs/performance.md (medians of repeated runs; see bench/README.md).
bench: build
	@bench/run.sh $(BUILD)

# The whole suite under AddressSanitizer and UndefinedBehaviorSanitizer.
asan: setup
	@[ -f $(ASAN_BUILD)/build.ninja ] || meson setup $(ASAN_BUILD) -Dsanitize=true
	meson compile -C $(ASAN_BUILD)
	meson test -C $(ASAN_BUILD) --print-errorlogs

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

install: build
	meson install -C $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
