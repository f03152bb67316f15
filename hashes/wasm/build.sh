#!/bin/sh
# Build the hashing WebAssembly module reproducibly.
#
#   sh hashes/wasm/build.sh [OUTPUT]        (default: static/hashing/pdq.wasm)
#
# The committed static/hashing/pdq.wasm must be byte-identical to what this
# script produces with Debian bookworm's clang 14 and lld 14 (`make wasm-check`).
# Nothing machine-specific reaches the output: no debug info (so no paths), no
# name or producers sections (--strip-all), no timestamps in the wasm format.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/../../static/hashing/pdq.wasm"}
case $out in /*) ;; *) out="$PWD/$out" ;; esac
CLANG=${CLANG:-clang}

if ! command -v "$CLANG" >/dev/null 2>&1 || ! command -v wasm-ld >/dev/null 2>&1; then
    echo "error: building pdq.wasm needs clang and wasm-ld (Debian: apt-get install clang lld)" >&2
    exit 1
fi

expected_major=14
major=$("$CLANG" -dumpversion | cut -d. -f1)
if [ "$major" != "$expected_major" ]; then
    echo "warning: clang $major is not clang $expected_major (Debian bookworm), which built the" >&2
    echo "         committed pdq.wasm; the bytes may differ and make wasm-check would fail." >&2
fi

# -ffp-contract=off: a fused multiply-add rounds once where the reference
#   rounds twice, which would break bit-exactness (wasm has no FMA anyway, but
#   the same flag keeps the native test build honest).
# -msimd128: 128-bit SIMD, present in every browser that matters since 2021-23.
# -mbulk-memory: memset/memcpy become single instructions, so no libc is needed.
# --stack-first: a stack overflow traps instead of overwriting static data.
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
cd "$here"
"$CLANG" --target=wasm32 -std=c11 -ffreestanding -nostdlib \
    -O3 -msimd128 -mbulk-memory -ffp-contract=off \
    -Wall -Wextra -Werror \
    -Wl,--no-entry -Wl,--strip-all -Wl,--stack-first -Wl,-z,stack-size=65536 \
    -o "$tmp" pdq.c md5.c wasm_api.c
chmod 644 "$tmp"  # the linker marks its output executable; a .wasm is data
mv "$tmp" "$out"
trap - EXIT
