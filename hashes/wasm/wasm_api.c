/*
 * The WebAssembly module's exports: a small allocator over linear memory, PDQ
 * and streaming MD5. Freestanding: no libc and no JS glue, so the module
 * needs nothing but its own exported memory.
 *
 * Typical use from JS:
 *   p = alloc(w*h*4); copy RGBA to memory at p; out = alloc(36);
 *   pdq_hash(p, w, h, out) == 0 -> hash = bytes out..out+31, quality = i32 at out+32
 *   ctx = alloc(md5_ctx_size()); md5_init(ctx); md5_update(ctx, buf, n)...; md5_final(ctx, out)
 * Every pointer from alloc is 16-byte aligned and stays valid until free,
 * even if memory grows (JS must re-read memory.buffer after any call).
 */
#include "md5.h"
#include "pdq.h"

#define EXPORT(name) __attribute__((export_name(name), visibility("default")))
#define PAGE_SIZE 65536u
#define ALIGN 16u

/* Provided by wasm-ld: the first byte after static data and the stack. */
extern unsigned char __heap_base;

/* --------------------------------------------------------------- allocator */

/*
 * First-fit over a list of adjacent blocks, each preceded by a 16-byte
 * header. The portal makes a handful of large, short-lived allocations (one
 * image, one chunk buffer), so a linear scan is cheap, and merging free
 * neighbours lets the same memory serve the next, maybe larger, image instead
 * of growing memory per file.
 */
typedef struct block {
    uint32_t size; /* payload bytes, multiple of ALIGN */
    uint32_t free;
    uint32_t pad[2];
} block;

static block *heap_first; /* 0 until the first allocation */
static block *heap_end;   /* one past the last block */

static inline block *next_block(block *b) { return (block *)((unsigned char *)(b + 1) + b->size); }

/* Extend linear memory so that [heap_end, heap_end + bytes) is usable. */
static int grow_to(uintptr_t end) {
    uintptr_t have = __builtin_wasm_memory_size(0) * (uintptr_t)PAGE_SIZE;
    if (end <= have) return 1;
    uintptr_t pages = (end - have + PAGE_SIZE - 1) / PAGE_SIZE;
    return __builtin_wasm_memory_grow(0, pages) != (uintptr_t)-1;
}

static void merge_free_neighbours(void) {
    for (block *b = heap_first; b && b < heap_end; b = next_block(b)) {
        while (b->free) {
            block *n = next_block(b);
            if (n >= heap_end || !n->free) break;
            b->size += (uint32_t)sizeof(block) + n->size;
        }
    }
}

EXPORT("alloc") void *wasm_alloc(uint32_t size) {
    if (size == 0 || size > 0xFFFFFFFFu - 2 * PAGE_SIZE) return 0;
    uint32_t need = (size + ALIGN - 1) & ~(ALIGN - 1);
    if (!heap_first) {
        uintptr_t start = ((uintptr_t)&__heap_base + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1);
        heap_first = heap_end = (block *)start;
    }

    block *last = 0;
    for (block *b = heap_first; b < heap_end; b = next_block(b)) {
        last = b;
        if (!b->free || b->size < need) continue;
        if (b->size >= need + sizeof(block) + ALIGN) {
            /* Split: the rest stays a free block. */
            block *rest = (block *)((unsigned char *)(b + 1) + need);
            rest->size = b->size - need - (uint32_t)sizeof(block);
            rest->free = 1;
            b->size = need;
        }
        b->free = 0;
        return b + 1;
    }

    /* Nothing fits: grow the last block if it is free, else append one. */
    block *b = (last && last->free) ? last : heap_end;
    uintptr_t end = (uintptr_t)(b + 1) + need;
    if (end < (uintptr_t)(b + 1) || !grow_to(end)) return 0;
    b->size = need;
    b->free = 0;
    heap_end = (block *)end;
    return b + 1;
}

EXPORT("free") void wasm_free(void *p) {
    if (!p) return;
    ((block *)p - 1)->free = 1;
    merge_free_neighbours();
}

/* ---------------------------------------------------------------------- PDQ */

/*
 * Hash width*height RGBA pixels at rgba (not modified). Writes 32 hash bytes
 * (most significant first) and the quality as a little-endian int32 to out.
 * Returns 0, PDQ_ERR_ARGS or PDQ_ERR_NO_MEMORY.
 */
EXPORT("pdq_hash") int32_t wasm_pdq_hash(const uint8_t *rgba, int32_t width, int32_t height, uint8_t *out) {
    size_t scratch_size = pdq_scratch_bytes(width, height);
    if (!scratch_size || !rgba || !out) return PDQ_ERR_ARGS;
    void *scratch = wasm_alloc((uint32_t)scratch_size);
    if (!scratch) return PDQ_ERR_NO_MEMORY;
    int32_t quality = 0;
    int status = pdq_hash_rgba(rgba, width, height, scratch, out, &quality);
    wasm_free(scratch);
    for (int i = 0; i < 4; i++) out[PDQ_HASH_BYTES + i] = (uint8_t)((uint32_t)quality >> (8 * i));
    return status;
}

/* ---------------------------------------------------------------------- MD5 */

EXPORT("md5_ctx_size") uint32_t wasm_md5_ctx_size(void) { return sizeof(md5_ctx); }
EXPORT("md5_init") void wasm_md5_init(md5_ctx *ctx) { md5_init(ctx); }
EXPORT("md5_update") void wasm_md5_update(md5_ctx *ctx, const uint8_t *data, uint32_t len) {
    md5_update(ctx, data, len);
}
EXPORT("md5_final") void wasm_md5_final(md5_ctx *ctx, uint8_t *digest) { md5_final(ctx, digest); }

