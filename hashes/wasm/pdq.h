/*
 * PDQ perceptual image hash, bit-exact with the reference implementation
 * (as packaged in PyPI's pdqhash, which python-threatexchange uses).
 *
 * The same source builds freestanding for wasm32 (no libc) and natively as a
 * shared library for the tests. See README.md for the algorithm.
 */
#ifndef NCII_PDQ_H
#define NCII_PDQ_H

#include <stddef.h>
#include <stdint.h>

#define PDQ_HASH_BYTES 32
#define PDQ_MAX_PIXELS (1u << 30) /* 4 GiB of RGBA */

enum pdq_status {
    PDQ_OK = 0,
    PDQ_ERR_ARGS = -1,     /* zero/negative size, or more than PDQ_MAX_PIXELS */
    PDQ_ERR_NO_MEMORY = -2 /* used by callers that allocate the scratch */
};

/*
 * Bytes of scratch memory pdq_hash_rgba needs for an image of this size
 * (a few rows of floats, far less than the image itself), or 0 if the
 * dimensions are invalid or too large for this address space.
 */
size_t pdq_scratch_bytes(int32_t width, int32_t height);

/*
 * Hash width*height RGBA pixels (row-major, 4 bytes per pixel, alpha ignored).
 * The input is not modified. scratch must hold pdq_scratch_bytes(width, height)
 * bytes, 16-byte aligned.
 *
 * hash receives the 256 bits most significant first: printed as 64 lowercase hex
 * digits it is the string python-threatexchange gives for the same RGB pixels.
 * quality receives 0..100. Images smaller than 5 pixels in either dimension get
 * an all-zero hash and quality 0, as in the reference.
 */
int pdq_hash_rgba(const uint8_t *rgba, int32_t width, int32_t height, void *scratch,
                  uint8_t hash[PDQ_HASH_BYTES], int32_t *quality);

/*
 * The 16x16 DCT coefficients (row-major) the hash bits are thresholded from,
 * and the quality. For tests: compares with pdqhash.compute_float.
 */
int pdq_dct_rgba(const uint8_t *rgba, int32_t width, int32_t height, void *scratch,
                 float dct[256], int32_t *quality);

#endif
