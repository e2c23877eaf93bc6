/* sha1.c - SHA-1 message digest with a streaming update/final interface,
 * HMAC-SHA1 and PBKDF2-HMAC-SHA1 key derivation; digests a generated document
 * both in one shot and in irregular chunks, plus known-answer tests.
 * Modelled on MiBench security/sha. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#define DOC_BYTES (256 * 1024)

typedef struct {
    uint32_t h[5];
    uint64_t length;      /* bytes processed */
    uint8_t block[64];
    size_t fill;
} sha1_ctx;

static uint8_t document[DOC_BYTES];

static uint32_t rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void sha1_compress(uint32_t st[5], const uint8_t *p)
{
    uint32_t w[16], a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f, k, tmp;
    int t;
    for (t = 0; t < 16; t++)
        w[t] = ((uint32_t)p[4 * t] << 24) | ((uint32_t)p[4 * t + 1] << 16) | ((uint32_t)p[4 * t + 2] << 8) |
               p[4 * t + 3];
    for (t = 0; t < 80; t++) {
        if (t >= 16)   /* message schedule kept in a 16-word circular buffer */
            w[t & 15] = rol(w[(t + 13) & 15] ^ w[(t + 8) & 15] ^ w[(t + 2) & 15] ^ w[t & 15], 1);
        switch (t / 20) {
        case 0: f = (b & c) | (~b & d); k = 0x5A827999u; break;
        case 1: f = b ^ c ^ d; k = 0x6ED9EBA1u; break;
        case 2: f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDCu; break;
        default: f = b ^ c ^ d; k = 0xCA62C1D6u; break;
        }
        tmp = rol(a, 5) + f + e + k + w[t & 15];
        e = d; d = c; c = rol(b, 30); b = a; a = tmp;
    }
    st[0] += a; st[1] += b; st[2] += c; st[3] += d; st[4] += e;
}

void sha1_init(sha1_ctx *ctx)
{
    static const uint32_t iv[5] = { 0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u };
    memcpy(ctx->h, iv, sizeof iv);
    ctx->length = 0;
    ctx->fill = 0;
}

void sha1_update(sha1_ctx *ctx, const uint8_t *p, size_t n)
{
    ctx->length += n;
    if (ctx->fill) {
        size_t take = 64 - ctx->fill < n ? 64 - ctx->fill : n;
        memcpy(ctx->block + ctx->fill, p, take);
        ctx->fill += take; p += take; n -= take;
        if (ctx->fill < 64) return;
        sha1_compress(ctx->h, ctx->block);
        ctx->fill = 0;
    }
    while (n >= 64) {
        sha1_compress(ctx->h, p);
        p += 64; n -= 64;
    }
    memcpy(ctx->block, p, n);
    ctx->fill = n;
}

void sha1_final(sha1_ctx *ctx, uint8_t out[20])
{
    uint64_t bits = ctx->length * 8;
    int i;
    ctx->block[ctx->fill++] = 0x80;
    if (ctx->fill > 56) {
        memset(ctx->block + ctx->fill, 0, 64 - ctx->fill);
        sha1_compress(ctx->h, ctx->block);
        ctx->fill = 0;
    }
    memset(ctx->block + ctx->fill, 0, 56 - ctx->fill);
    for (i = 0; i < 8; i++) ctx->block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    sha1_compress(ctx->h, ctx->block);
    for (i = 0; i < 20; i++) out[i] = (uint8_t)(ctx->h[i / 4] >> (24 - 8 * (i % 4)));
}

static void sha1(const uint8_t *p, size_t n, uint8_t out[20])
{
    sha1_ctx ctx;
    sha1_init(&ctx);
    sha1_update(&ctx, p, n);
    sha1_final(&ctx, out);
}

static void hmac_sha1(const uint8_t *key, size_t klen, const uint8_t *msg, size_t mlen, uint8_t out[20])
{
    uint8_t k0[64], pad[64], inner[20];
    sha1_ctx ctx;
    int i;
    memset(k0, 0, sizeof k0);
    if (klen > 64) sha1(key, klen, k0);
    else memcpy(k0, key, klen);
    for (i = 0; i < 64; i++) pad[i] = k0[i] ^ 0x36;
    sha1_init(&ctx); sha1_update(&ctx, pad, 64); sha1_update(&ctx, msg, mlen); sha1_final(&ctx, inner);
    for (i = 0; i < 64; i++) pad[i] = k0[i] ^ 0x5C;
    sha1_init(&ctx); sha1_update(&ctx, pad, 64); sha1_update(&ctx, inner, 20); sha1_final(&ctx, out);
}

static void pbkdf2_sha1(const char *pw, const char *salt, unsigned iters, uint8_t *out, size_t outlen)
{
    size_t plen = strlen(pw), slen = strlen(salt), done = 0;
    uint32_t block = 1;
    while (done < outlen) {
        uint8_t msg[72], u[20], t[20];
        size_t i, take;
        unsigned it;
        memcpy(msg, salt, slen);
        msg[slen] = (uint8_t)(block >> 24); msg[slen + 1] = (uint8_t)(block >> 16);
        msg[slen + 2] = (uint8_t)(block >> 8); msg[slen + 3] = (uint8_t)block;
        hmac_sha1((const uint8_t *)pw, plen, msg, slen + 4, u);
        memcpy(t, u, 20);
        for (it = 1; it < iters; it++) {
            hmac_sha1((const uint8_t *)pw, plen, u, 20, u);
            for (i = 0; i < 20; i++) t[i] ^= u[i];
        }
        take = outlen - done < 20 ? outlen - done : 20;
        memcpy(out + done, t, take);
        done += take;
        block++;
    }
}

static void print_hex(const char *label, const uint8_t *d, size_t n)
{
    size_t i;
    printf("%s ", label);
    for (i = 0; i < n; i++) printf("%02x", d[i]);
    printf("\n");
}

int main(void)
{
    static const char *words[] = { "signal", "network", "packet", "router", "modem", "channel",
                                   "frame", "protocol", "latency", "bandwidth" };
    uint8_t d1[20], d2[20], dk[32];
    uint32_t seed = 7u, h = 0;
    size_t pos = 0, off;
    sha1_ctx ctx;
    int i, round;
    sha1((const uint8_t *)"abc", 3, d1);
    print_hex("sha1(abc)", d1, 20);
    pbkdf2_sha1("password", "salt", 2, dk, 20);
    print_hex("pbkdf2(password,salt,2)", dk, 20);
    while (pos < DOC_BYTES) {
        const char *w;
        seed = seed * 69069u + 1u;
        w = words[(seed >> 16) % 10];
        while (*w && pos < DOC_BYTES) document[pos++] = (uint8_t)*w++;
        if (pos < DOC_BYTES) document[pos++] = (seed & 0x300) ? ' ' : '\n';
    }
    for (round = 0; round < 3; round++) {
        sha1(document, DOC_BYTES - (size_t)round * 1001, d1);
        sha1_init(&ctx);
        for (off = 0; off < DOC_BYTES - (size_t)round * 1001;) {
            size_t chunk;
            seed = seed * 69069u + 1u;
            chunk = 1 + (seed >> 20) % 300;
            if (chunk > DOC_BYTES - (size_t)round * 1001 - off) chunk = DOC_BYTES - (size_t)round * 1001 - off;
            sha1_update(&ctx, document + off, chunk);
            off += chunk;
        }
        sha1_final(&ctx, d2);
        printf("round %d streaming %s\n", round, memcmp(d1, d2, 20) == 0 ? "matches" : "MISMATCH");
        for (i = 0; i < 20; i++) h = (h * 131u) ^ d1[i];
    }
    hmac_sha1(document, 100, document + 100, 4000, d1);
    print_hex("hmac", d1, 20);
    pbkdf2_sha1("correct horse battery", "staple", 1000, dk, 32);
    print_hex("pbkdf2", dk, 32);
    for (i = 0; i < 20; i++) h = (h * 131u) ^ d1[i];
    for (i = 0; i < 32; i++) h = (h * 131u) ^ dk[i];
    printf("checksum %08x\n", h);
    return 0;
}
