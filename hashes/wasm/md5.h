/*
 * Streaming MD5 (RFC 1321), so a file of any size is hashed chunk by chunk
 * without being held in memory. WebCrypto offers no MD5, hence this.
 */
#ifndef NCII_MD5_H
#define NCII_MD5_H

#include <stddef.h>
#include <stdint.h>

#define MD5_DIGEST_BYTES 16

typedef struct {
    uint32_t state[4];
    uint64_t length;     /* bytes hashed so far */
    uint8_t pending[64]; /* bytes of an incomplete block */
} md5_ctx;

void md5_init(md5_ctx *ctx);
void md5_update(md5_ctx *ctx, const uint8_t *data, size_t len);
/* Writes the digest; the context must be initialised again before reuse. */
void md5_final(md5_ctx *ctx, uint8_t digest[MD5_DIGEST_BYTES]);

#endif
