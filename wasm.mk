# The hashing WebAssembly module (included by the Makefile).
#   make wasm        rebuild static/hashing/pdq.wasm from hashes/wasm/
#   make wasm-check  rebuild into a temporary file and fail unless it is
#                    byte-identical to the committed static/hashing/pdq.wasm
# Both need Debian's clang and lld; wasm-toolchain installs them when missing
# and we are root with apt-get (as on CI), and otherwise says what to install.

WASM_DIR := hashes/wasm
WASM_OUT := static/hashing/pdq.wasm

.PHONY: wasm wasm-check wasm-toolchain

wasm-toolchain:
	@if command -v clang >/dev/null 2>&1 && command -v wasm-ld >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing clang and lld for the WebAssembly build"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang lld >/dev/null; \
	else \
		echo "error: building $(WASM_OUT) needs clang and lld: sudo apt-get install clang lld" >&2; exit 1; \
	fi

wasm: wasm-toolchain
	sh $(WASM_DIR)/build.sh $(WASM_OUT)

wasm-check: wasm-toolchain
	@tmp=$$(mktemp); trap 'rm -f "$$tmp"' EXIT; \
	sh $(WASM_DIR)/build.sh "$$tmp" || exit 1; \
	if cmp -s "$$tmp" $(WASM_OUT); then \
		echo "wasm-check: $(WASM_OUT) is byte-identical to a fresh build of $(WASM_DIR)/"; \
	else \
		echo "error: $(WASM_OUT) differs from a fresh build of $(WASM_DIR)/ ($$(wc -c < $(WASM_OUT)) vs $$(wc -c < "$$tmp") bytes)." >&2; \
		echo "       Run 'make wasm' and commit the result (it must be built with Debian bookworm's clang 14 and lld 14)." >&2; \
		exit 1; \
	fi
