/*
 * PDQ perceptual image hash (see README.md for the algorithm and pdq.h for
 * the API). Written from the published description; every floating-point
 * operation below is ordered so that the result is bit-for-bit the one the
 * reference implementation computes.
 *
 * Exactness rules this file keeps:
 *  - Luminance is computed in double and rounded once to float, because the
 *    reference wrapper (pdqhash) computes it with NumPy in float64.
 *  - Everything after luminance is float32, one rounding per operation, in the
 *    reference's order. No fused multiply-add (build with -ffp-contract=off).
 *  - Box-filter running sums keep the reference's exact sequence of adds and
 *    subtracts for every row and column; speed comes only from running many
 *    independent rows/columns side by side in SIMD lanes, never from
 *    regrouping a sum.
 *
 * Memory: the reference blurs two full-size float copies of the image. Here
 * the four box passes are streamed: only a ring of recent rows, a few
 * interleaved row buffers and a 64-column strip per image row are kept, so the
 * scratch is a small fraction of the RGBA input, which is only read.
 */
#include "pdq.h"

#include "pdq_dct_table.h"

#if defined(__FLT_EVAL_METHOD__) && __FLT_EVAL_METHOD__ != 0
/* Wider intermediates (x87) would round differently from the reference. */
#error "PDQ needs float and double arithmetic evaluated in their own precision"
#endif
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "luma4 reads RGBA pixels as little-endian 32-bit words"
#endif

/* ---------------------------------------------------------------- vectors */

/* GCC/Clang vector extensions: SSE on x86-64, SIMD128 on wasm32. */
typedef float f32x4 __attribute__((vector_size(16)));
typedef float f32x4_unaligned __attribute__((vector_size(16), aligned(4), may_alias));
typedef double f64x2 __attribute__((vector_size(16)));
typedef int32_t i32x4 __attribute__((vector_size(16)));
typedef int32_t i32x4_unaligned __attribute__((vector_size(16), aligned(1), may_alias));

#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

#define LANES 4          /* image rows filtered together, one per lane */
#define DOWN 64          /* side of the downsampled image */
#define MIN_HASHABLE_DIM 5
#define RING_SLACK (2 * LANES) /* see ring_rows_for() */

static inline f32x4 load4(const float *p) { return *(const f32x4_unaligned *)p; }
static inline void store4(float *p, f32x4 v) { *(f32x4_unaligned *)p = v; }

/* Rows of four vectors become columns: lane t of v[s] <-> lane s of v[t]. */
static inline void transpose4(f32x4 v[4]) {
    f32x4 lo01 = __builtin_shufflevector(v[0], v[1], 0, 4, 1, 5);
    f32x4 hi01 = __builtin_shufflevector(v[0], v[1], 2, 6, 3, 7);
    f32x4 lo23 = __builtin_shufflevector(v[2], v[3], 0, 4, 1, 5);
    f32x4 hi23 = __builtin_shufflevector(v[2], v[3], 2, 6, 3, 7);
    v[0] = __builtin_shufflevector(lo01, lo23, 0, 1, 4, 5);
    v[1] = __builtin_shufflevector(lo01, lo23, 2, 3, 6, 7);
    v[2] = __builtin_shufflevector(hi01, hi23, 0, 1, 4, 5);
    v[3] = __builtin_shufflevector(hi01, hi23, 2, 3, 6, 7);
}

/* ------------------------------------------------------------- luminance */

/*
 * pdqhash evaluates (R*0.299 + G*0.587) + B*0.114 in float64 and casts the
 * result to float32; the left-to-right grouping is part of the result.
 */
static inline float luma1(const uint8_t *px) {
    return (float)(((double)px[0] * 0.299 + (double)px[1] * 0.587) + (double)px[2] * 0.114);
}

static inline f64x2 low_to_f64(i32x4 v) { return __builtin_convertvector(__builtin_shufflevector(v, v, 0, 1), f64x2); }
static inline f64x2 high_to_f64(i32x4 v) { return __builtin_convertvector(__builtin_shufflevector(v, v, 2, 3), f64x2); }

/* Round two pairs of doubles to four floats (round to nearest, like a C cast). */
static inline f32x4 to_f32x4(f64x2 lo, f64x2 hi) {
#ifdef __wasm_simd128__
    /* Spelled out: clang 14 would otherwise demote lane by lane. */
    return (f32x4)wasm_i64x2_shuffle(wasm_f32x4_demote_f64x2_zero(lo), wasm_f32x4_demote_f64x2_zero(hi), 0, 2);
#else
    return __builtin_convertvector(__builtin_shufflevector(lo, hi, 0, 1, 2, 3), f32x4);
#endif
}

/* The same for four consecutive RGBA pixels, one per lane. */
static inline f32x4 luma4(const uint8_t *px) {
    i32x4 v = *(const i32x4_unaligned *)px; /* one pixel per lane, R in the low byte (little-endian) */
    i32x4 r = v & 0xff, g = (v >> 8) & 0xff, b = (v >> 16) & 0xff;
    f64x2 lo = (low_to_f64(r) * 0.299 + low_to_f64(g) * 0.587) + low_to_f64(b) * 0.114;
    f64x2 hi = (high_to_f64(r) * 0.299 + high_to_f64(g) * 0.587) + high_to_f64(b) * 0.114;
    return to_f32x4(lo, hi);
}

/* ------------------------------------------------------------ box filter */

/*
 * One 1-D box ("Jarosz") pass of the reference over n samples. Output o is the
 * running sum after adding sample o+lead (if it exists) and then subtracting
 * sample o+lead-window (if it exists), divided by how many samples the sum
 * holds. Before output 0 the sum is primed with samples 0..lead-1. Near the
 * edges the window shrinks rather than padding the image.
 */
typedef struct {
    int32_t n;      /* samples along the filtered direction */
    int32_t window; /* full window: ceil(n / 128), so two passes span n/64 */
    int32_t lead;   /* how far the newest added sample runs ahead of o */
} box_geom;

static box_geom box_geom_for(int32_t n) {
    box_geom g;
    g.n = n;
    g.window = (n + 2 * DOWN - 1) / (2 * DOWN);
    g.lead = (g.window + 2) / 2 - 1;
    return g;
}

static inline int32_t box_add_index(const box_geom *g, int32_t o) {
    int32_t i = o + g->lead;
    return i < g->n ? i : -1;
}

static inline int32_t box_sub_index(const box_geom *g, int32_t o) {
    int32_t i = o + g->lead - g->window;
    return i >= 0 ? i : -1;
}

/* The reference divides by an int converted to float: exact for these sizes. */
static inline float box_count(const box_geom *g, int32_t o) {
    int32_t added = o + g->lead + 1 < g->n ? o + g->lead + 1 : g->n;
    int32_t removed = o + g->lead + 1 - g->window > 0 ? o + g->lead + 1 - g->window : 0;
    return (float)(added - removed);
}

/*
 * Box pass along LANES interleaved rows (in[o] holds sample o of each row).
 * With samples == NULL every output is written to out[o]; otherwise only the
 * outputs at the DOWN sorted positions samples[] are divided and written to
 * out[s], which is all the second horizontal pass needs. The three loops are
 * the filling, full and emptying phases of the window; splitting them takes
 * the edge tests out of the per-sample work without changing any operation.
 */
static inline __attribute__((always_inline)) void box_lanes(const f32x4 *in, f32x4 *out,
                                                            const box_geom *g,
                                                            const int32_t *samples) {
    const int32_t n = g->n, lead = g->lead, window = g->window;
    const int32_t fill_end = window - lead; /* first output with a subtract */
    const int32_t full_end = n - lead;      /* first output without an add */
    f32x4 sum = {0.0f, 0.0f, 0.0f, 0.0f};
    int32_t s = 0;
    int32_t next = samples ? samples[0] : -1;
    int32_t o = 0;

#define BOX_EMIT(count)                                          \
    do {                                                         \
        if (!samples) {                                          \
            out[o] = sum / (count);                              \
        } else {                                                 \
            while (o == next) {                                  \
                out[s] = sum / (count);                          \
                next = ++s < DOWN ? samples[s] : -1;             \
            }                                                    \
        }                                                        \
    } while (0)

    for (int32_t i = 0; i < lead; i++) sum += in[i];
    for (; o < fill_end; o++) {
        sum += in[o + lead];
        BOX_EMIT((float)(o + lead + 1));
    }
    const float full = (float)window;
    for (; o < full_end; o++) {
        sum += in[o + lead];
        sum -= in[o + lead - window];
        BOX_EMIT(full);
    }
    for (; o < n; o++) {
        sum -= in[o + lead - window];
        BOX_EMIT((float)(n + window - o - lead - 1));
    }
#undef BOX_EMIT
}

/* ------------------------------------------------------------ the pipeline */

/*
 * Horizontal pass 1 writes finished rows into a ring; vertical pass 1 reads
 * row o+lead (to add) and row o+lead-window (to subtract) from it. Rows are
 * produced LANES at a time, up to LANES-1 rows beyond what the current group
 * of LANES outputs needs, so the oldest row still needed is at most
 * window + 2*LANES - 1 rows behind the newest: RING_SLACK = 2*LANES covers it.
 */
static int32_t ring_rows_for(const box_geom *vertical) { return vertical->window + RING_SLACK; }

typedef struct {
    const uint8_t *rgba;
    int32_t w, h;
    int32_t stride; /* floats per ring row: w rounded up to whole vectors */
    box_geom gh, gv;
    int32_t ring_rows;
    int32_t col_samples[DOWN]; /* decimation positions, as the reference picks them */
    int32_t row_samples[DOWN];
    /* scratch */
    f32x4 *lum;    /* stride: luminance of LANES rows, interleaved */
    f32x4 *hpass;  /* stride: horizontal pass 1 of those rows, interleaved */
    f32x4 *vpass;  /* stride: vertical pass 1 of LANES output rows, interleaved */
    float *colsum; /* stride: running sums of vertical pass 1 */
    float *ring;   /* ring_rows x stride */
    float *strip;  /* h x DOWN: horizontal pass 2 at the sampled columns */
    float (*down)[DOWN];    /* DOWN x DOWN result of blur and decimation */
    float (*dct_tmp)[DOWN]; /* 16 x DOWN */
} pdq_ctx;

static inline float *ring_row(const pdq_ctx *c, int32_t row) {
    return c->ring + (size_t)(row % c->ring_rows) * (size_t)c->stride;
}

/* Decimation keeps the pixel under each output's centre: (i + 0.5) * n / 64 in double, truncated. */
static void decimation_positions(int32_t n, int32_t out[DOWN]) {
    for (int32_t i = 0; i < DOWN; i++) out[i] = (int32_t)(((i + 0.5) * n) / DOWN);
}

/*
 * Kept out of line, as is consume_rows: V8 first runs wasm through a baseline
 * compiler and swaps in optimised code only at the next call of a hot
 * function, so the per-row-group work must be a function called many times,
 * not a loop inside one call, for the first image to run optimised code.
 */
#define PER_ROW_GROUP __attribute__((noinline))

/* Luminance and horizontal pass 1 of rows first..first+LANES-1 into the ring. */
static PER_ROW_GROUP void produce_rows(pdq_ctx *c, int32_t first) {
    const uint8_t *src[LANES];
    for (int t = 0; t < LANES; t++) {
        /* Lanes past the last row repeat it and are never stored. */
        int32_t row = first + t < c->h ? first + t : c->h - 1;
        src[t] = c->rgba + (size_t)row * (size_t)c->w * 4;
    }
    int32_t j = 0;
    for (; j + 4 <= c->w; j += 4) {
        f32x4 v[LANES];
        for (int t = 0; t < LANES; t++) v[t] = luma4(src[t] + (size_t)j * 4);
        transpose4(v);
        for (int t = 0; t < 4; t++) c->lum[j + t] = v[t];
    }
    for (; j < c->w; j++) {
        f32x4 v;
        for (int t = 0; t < LANES; t++) v[t] = luma1(src[t] + (size_t)j * 4);
        c->lum[j] = v;
    }

    box_lanes(c->lum, c->hpass, &c->gh, 0);

    for (j = 0; j < c->stride; j += 4) {
        f32x4 v[4] = {c->hpass[j], c->hpass[j + 1], c->hpass[j + 2], c->hpass[j + 3]};
        transpose4(v);
        for (int t = 0; t < LANES && first + t < c->h; t++) store4(ring_row(c, first + t) + j, v[t]);
    }
}

/* Vertical pass 1 for output rows o..o+3: every output row has an add and a subtract. */
static void vertical_full_x4(pdq_ctx *c, int32_t o) {
    const float *add[LANES], *sub[LANES];
    for (int t = 0; t < LANES; t++) {
        add[t] = ring_row(c, o + t + c->gv.lead);
        sub[t] = ring_row(c, o + t + c->gv.lead - c->gv.window);
    }
    const float full = (float)c->gv.window;
    for (int32_t j = 0; j < c->stride; j += 4) {
        f32x4 sum = load4(c->colsum + j);
        f32x4 v[LANES];
        for (int t = 0; t < LANES; t++) {
            sum += load4(add[t] + j);
            sum -= load4(sub[t] + j);
            v[t] = sum / full;
        }
        store4(c->colsum + j, sum);
        transpose4(v);
        for (int t = 0; t < 4; t++) c->vpass[j + t] = v[t];
    }
}

/* The same near the top and bottom edges, where adds or subtracts are missing. */
static void vertical_edge(pdq_ctx *c, int32_t o, int32_t count) {
    const float *add[LANES], *sub[LANES];
    float divisor[LANES];
    for (int t = 0; t < count; t++) {
        int32_t a = box_add_index(&c->gv, o + t), s = box_sub_index(&c->gv, o + t);
        add[t] = a >= 0 ? ring_row(c, a) : 0;
        sub[t] = s >= 0 ? ring_row(c, s) : 0;
        divisor[t] = box_count(&c->gv, o + t);
    }
    for (int32_t j = 0; j < c->stride; j += 4) {
        f32x4 sum = load4(c->colsum + j);
        f32x4 v[LANES] = {{0}};
        for (int t = 0; t < count; t++) {
            if (add[t]) sum += load4(add[t] + j);
            if (sub[t]) sum -= load4(sub[t] + j);
            v[t] = sum / divisor[t];
        }
        store4(c->colsum + j, sum);
        transpose4(v);
        for (int t = 0; t < 4; t++) c->vpass[j + t] = v[t];
    }
}

/* Vertical pass 1 and horizontal pass 2 for output rows o..o+count-1. */
static PER_ROW_GROUP void consume_rows(pdq_ctx *c, int32_t o, int32_t count) {
    int full = count == LANES && box_sub_index(&c->gv, o) >= 0 &&
               box_add_index(&c->gv, o + LANES - 1) >= 0;
    if (full) {
        vertical_full_x4(c, o);
    } else {
        vertical_edge(c, o, count);
    }

    f32x4 sampled[DOWN];
    box_lanes(c->vpass, sampled, &c->gh, c->col_samples);
    for (int t = 0; t < count; t++) {
        float *dst = c->strip + (size_t)(o + t) * DOWN;
        for (int s = 0; s < DOWN; s++) dst[s] = sampled[s][t];
    }
}

/* Vertical pass 2 over the sampled columns, kept only at the sampled rows. */
static void vertical_pass_2(pdq_ctx *c) {
    const box_geom *g = &c->gv;
    f32x4 sum[DOWN / 4] = {{0}};
    int32_t s = 0;
    for (int32_t i = 0; i < g->lead; i++) {
        for (int v = 0; v < DOWN / 4; v++) sum[v] += load4(c->strip + (size_t)i * DOWN + 4 * v);
    }
    for (int32_t o = 0; o < g->n && s < DOWN; o++) {
        int32_t a = box_add_index(g, o), r = box_sub_index(g, o);
        for (int v = 0; v < DOWN / 4; v++) {
            if (a >= 0) sum[v] += load4(c->strip + (size_t)a * DOWN + 4 * v);
            if (r >= 0) sum[v] -= load4(c->strip + (size_t)r * DOWN + 4 * v);
        }
        for (; s < DOWN && c->row_samples[s] == o; s++) {
            float divisor = box_count(g, o);
            for (int v = 0; v < DOWN / 4; v++) store4(&c->down[s][4 * v], sum[v] / divisor);
        }
    }
}

/* Blur (two horizontal+vertical box passes) and decimate to 64x64. */
static void blur_and_decimate(pdq_ctx *c) {
    for (int32_t row = 0; row < c->gv.lead; row += LANES) produce_rows(c, row);
    int32_t produced = (c->gv.lead + LANES - 1) / LANES * LANES;
    for (int32_t row = 0; row < c->gv.lead; row++) {
        const float *src = ring_row(c, row);
        for (int32_t j = 0; j < c->stride; j += 4) store4(c->colsum + j, load4(c->colsum + j) + load4(src + j));
    }

    for (int32_t o = 0; o < c->h; o += LANES) {
        int32_t count = c->h - o < LANES ? c->h - o : LANES;
        int32_t newest = o + count - 1 + c->gv.lead;
        if (newest > c->h - 1) newest = c->h - 1;
        while (produced <= newest) {
            produce_rows(c, produced);
            produced += LANES;
        }
        consume_rows(c, o, count);
    }
    vertical_pass_2(c);
}

/* The reference skips the blur when the input already is 64x64. */
static void copy_luma_64(pdq_ctx *c) {
    for (int32_t i = 0; i < DOWN; i++) {
        for (int32_t j = 0; j < DOWN; j++) c->down[i][j] = luma1(c->rgba + ((size_t)i * DOWN + (size_t)j) * 4);
    }
}

/* --------------------------------------------------- quality, DCT, bits */

/*
 * Sum of quantised gradients between neighbours of the 64x64 image. The
 * truncation to int of each scaled difference is what makes many small
 * gradients count for nothing, so the float steps must stay as they are.
 */
static int32_t quality_metric(const float a[DOWN][DOWN]) {
    int32_t gradient_sum = 0;
    for (int i = 0; i < DOWN - 1; i++) {
        for (int j = 0; j < DOWN; j++) {
            int32_t d = (int32_t)(((a[i][j] - a[i + 1][j]) * 100.0f) / 255.0f);
            gradient_sum += d < 0 ? -d : d;
        }
    }
    for (int i = 0; i < DOWN; i++) {
        for (int j = 0; j < DOWN - 1; j++) {
            int32_t d = (int32_t)(((a[i][j] - a[i][j + 1]) * 100.0f) / 255.0f);
            gradient_sum += d < 0 ? -d : d;
        }
    }
    int32_t quality = gradient_sum / 90;
    return quality > 100 ? 100 : quality;
}

/*
 * out = D * a * D^T with D the 16x64 DCT basis, keeping frequencies 1..16 of
 * each axis. Each output is a float sum over k = 0..63 in increasing k,
 * started from 0; lanes run over independent outputs only.
 */
static void dct_64_to_16(const float a[DOWN][DOWN], float tmp[16][DOWN], float out[256]) {
    for (int i = 0; i < 16; i++) {
        for (int j = 0; j < DOWN; j += 4) {
            f32x4 sum = {0.0f, 0.0f, 0.0f, 0.0f};
            for (int k = 0; k < DOWN; k++) sum += pdq_dct[i][k] * load4(&a[k][j]);
            store4(&tmp[i][j], sum);
        }
    }
    for (int i = 0; i < 16; i++) {
        for (int j = 0; j < 16; j += 4) {
            f32x4 sum = {0.0f, 0.0f, 0.0f, 0.0f};
            for (int k = 0; k < DOWN; k++) sum += tmp[i][k] * load4(&pdq_dct_t[k][j]);
            store4(&out[i * 16 + j], sum);
        }
    }
}

/* The 128th smallest of 256 values: the element the reference's median picks. */
static float lower_median_256(const float v[256]) {
    float sorted[256];
    for (int i = 0; i < 256; i++) {
        float x = v[i];
        int k = i;
        for (; k > 0 && sorted[k - 1] > x; k--) sorted[k] = sorted[k - 1];
        sorted[k] = x;
    }
    return sorted[127];
}

/* Bit k (k = 16*row + column of the DCT) is bit k of a 256-bit big-endian number. */
static void dct_to_hash(const float dct[256], uint8_t hash[PDQ_HASH_BYTES]) {
    float median = lower_median_256(dct);
    for (int i = 0; i < PDQ_HASH_BYTES; i++) hash[i] = 0;
    for (int k = 0; k < 256; k++) {
        if (dct[k] > median) hash[PDQ_HASH_BYTES - 1 - (k >> 3)] |= (uint8_t)(1u << (k & 7));
    }
}

/* ------------------------------------------------------------- scratch */

typedef struct {
    size_t lum, hpass, vpass, colsum, ring, strip, down, dct_tmp, total;
} scratch_plan;

static size_t align16(size_t n) { return (n + 15) & ~(size_t)15; }

/* Byte offsets of each scratch buffer, or total 0 if the sizes overflow. */
static scratch_plan plan_scratch(int32_t width, int32_t height) {
    scratch_plan p = {0};
    if (width <= 0 || height <= 0) return p;
    /* The same limit on every build: the RGBA of a larger image cannot fit in wasm32's 4 GiB. */
    if ((uint64_t)width * (uint64_t)height > PDQ_MAX_PIXELS) return p;
    uint64_t stride = ((uint64_t)width + 3) & ~(uint64_t)3;
    box_geom gv = box_geom_for(height);
    uint64_t sizes[8] = {
        stride * sizeof(f32x4),                             /* lum */
        stride * sizeof(f32x4),                             /* hpass */
        stride * sizeof(f32x4),                             /* vpass */
        stride * sizeof(float),                             /* colsum */
        (uint64_t)ring_rows_for(&gv) * stride * sizeof(float), /* ring */
        (uint64_t)height * DOWN * sizeof(float),            /* strip */
        DOWN * DOWN * sizeof(float),                        /* down */
        16 * DOWN * sizeof(float),                          /* dct_tmp */
    };
    size_t *fields[8] = {&p.lum, &p.hpass, &p.vpass, &p.colsum, &p.ring, &p.strip, &p.down, &p.dct_tmp};
    uint64_t offset = 0;
    for (int i = 0; i < 8; i++) {
        *fields[i] = (size_t)offset;
        offset += (sizes[i] + 15) & ~(uint64_t)15;
    }
    if (offset > (uint64_t)SIZE_MAX) return (scratch_plan){0};
    p.total = align16((size_t)offset);
    return p;
}

size_t pdq_scratch_bytes(int32_t width, int32_t height) { return plan_scratch(width, height).total; }

static void zero_bytes(void *p, size_t n) {
    /* Padding lanes must hold finite values; zero everything once. */
    __builtin_memset(p, 0, n);
}

static int compute_dct(const uint8_t *rgba, int32_t width, int32_t height, void *scratch,
                       float dct[256], int32_t *quality) {
    scratch_plan p = plan_scratch(width, height);
    if (!p.total || !rgba || !scratch || !dct || !quality) return PDQ_ERR_ARGS;
    char *base = (char *)scratch;
    zero_bytes(base, p.total);

    pdq_ctx c;
    c.rgba = rgba;
    c.w = width;
    c.h = height;
    c.stride = (width + 3) & ~3;
    c.gh = box_geom_for(width);
    c.gv = box_geom_for(height);
    c.ring_rows = ring_rows_for(&c.gv);
    decimation_positions(width, c.col_samples);
    decimation_positions(height, c.row_samples);
    c.lum = (f32x4 *)(base + p.lum);
    c.hpass = (f32x4 *)(base + p.hpass);
    c.vpass = (f32x4 *)(base + p.vpass);
    c.colsum = (float *)(base + p.colsum);
    c.ring = (float *)(base + p.ring);
    c.strip = (float *)(base + p.strip);
    c.down = (float(*)[DOWN])(base + p.down);
    c.dct_tmp = (float(*)[DOWN])(base + p.dct_tmp);

    if (width == DOWN && height == DOWN) {
        copy_luma_64(&c);
    } else {
        blur_and_decimate(&c);
    }
    *quality = quality_metric((const float(*)[DOWN])c.down);
    dct_64_to_16((const float(*)[DOWN])c.down, c.dct_tmp, dct);
    return PDQ_OK;
}

int pdq_dct_rgba(const uint8_t *rgba, int32_t width, int32_t height, void *scratch, float dct[256],
                 int32_t *quality) {
    return compute_dct(rgba, width, height, scratch, dct, quality);
}

int pdq_hash_rgba(const uint8_t *rgba, int32_t width, int32_t height, void *scratch,
                  uint8_t hash[PDQ_HASH_BYTES], int32_t *quality) {
    if (!hash || !quality) return PDQ_ERR_ARGS;
    if (width < MIN_HASHABLE_DIM || height < MIN_HASHABLE_DIM) {
        if (!pdq_scratch_bytes(width, height)) return PDQ_ERR_ARGS;
        for (int i = 0; i < PDQ_HASH_BYTES; i++) hash[i] = 0;
        *quality = 0;
        return PDQ_OK;
    }
    float dct[256];
    int status = compute_dct(rgba, width, height, scratch, dct, quality);
    if (status != PDQ_OK) return status;
    dct_to_hash(dct, hash);
    return PDQ_OK;
}
