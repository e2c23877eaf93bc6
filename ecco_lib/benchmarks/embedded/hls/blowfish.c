/* blowfish.c - Blowfish-style 64-bit Feistel block cipher with key-dependent
 * S-boxes: key schedule, ECB/CBC/CFB64 encryption and decryption of a text
 * buffer, verified by round trip and hashed. Modelled on the CHStone
 * "blowfish" HLS kernel (initial boxes come from a fixed generator, not pi). */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#define BF_ROUNDS 16
#define BUF_BYTES 65536

typedef struct {
    uint32_t P[BF_ROUNDS + 2];
    uint32_t S[4][256];
} bf_key;

static bf_key key_ctx;
static uint8_t plain[BUF_BYTES];
static uint8_t cipher[BUF_BYTES];
static uint8_t recovered[BUF_BYTES];

/* "nothing up my sleeve" generator standing in for the hex digits of pi */
static uint32_t sleeve_state = 0x243F6A88u;
static uint32_t sleeve_next(void)
{
    sleeve_state ^= sleeve_state << 13;
    sleeve_state ^= sleeve_state >> 17;
    sleeve_state ^= sleeve_state << 5;
    return sleeve_state * 0x9E3779B9u;
}

static uint32_t feistel(const bf_key *k, uint32_t x)
{
    uint32_t a = k->S[0][x >> 24];
    uint32_t b = k->S[1][(x >> 16) & 0xFF];
    uint32_t c = k->S[2][(x >> 8) & 0xFF];
    uint32_t d = k->S[3][x & 0xFF];
    return ((a + b) ^ c) + d;
}

void bf_encrypt_block(const bf_key *k, uint32_t *xl, uint32_t *xr)
{
    uint32_t l = *xl, r = *xr, t;
    int i;
    for (i = 0; i < BF_ROUNDS; i++) {
        l ^= k->P[i];
        r ^= feistel(k, l);
        t = l; l = r; r = t;
    }
    t = l; l = r; r = t;
    r ^= k->P[BF_ROUNDS];
    l ^= k->P[BF_ROUNDS + 1];
    *xl = l;
    *xr = r;
}

void bf_decrypt_block(const bf_key *k, uint32_t *xl, uint32_t *xr)
{
    uint32_t l = *xl, r = *xr, t;
    int i;
    for (i = BF_ROUNDS + 1; i > 1; i--) {
        l ^= k->P[i];
        r ^= feistel(k, l);
        t = l; l = r; r = t;
    }
    t = l; l = r; r = t;
    r ^= k->P[1];
    l ^= k->P[0];
    *xl = l;
    *xr = r;
}

void bf_set_key(bf_key *k, const uint8_t *key, int len)
{
    uint32_t l = 0, r = 0;
    int i, j, pos = 0;
    sleeve_state = 0x243F6A88u;
    for (i = 0; i < BF_ROUNDS + 2; i++)
        k->P[i] = sleeve_next();
    for (i = 0; i < 4; i++)
        for (j = 0; j < 256; j++)
            k->S[i][j] = sleeve_next();
    for (i = 0; i < BF_ROUNDS + 2; i++) {
        uint32_t word = 0;
        for (j = 0; j < 4; j++) {
            word = (word << 8) | key[pos];
            pos = (pos + 1) % len;
        }
        k->P[i] ^= word;
    }
    for (i = 0; i < BF_ROUNDS + 2; i += 2) {
        bf_encrypt_block(k, &l, &r);
        k->P[i] = l;
        k->P[i + 1] = r;
    }
    for (i = 0; i < 4; i++) {
        for (j = 0; j < 256; j += 2) {
            bf_encrypt_block(k, &l, &r);
            k->S[i][j] = l;
            k->S[i][j + 1] = r;
        }
    }
}

static uint32_t load_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

enum bf_mode { MODE_ECB, MODE_CBC, MODE_CFB64 };

static void bf_crypt_buffer(const bf_key *k, enum bf_mode mode, int encrypt,
                            const uint8_t *in, uint8_t *out, size_t n, const uint8_t iv[8])
{
    uint8_t chain[8];
    size_t off;
    int num = 0;
    memcpy(chain, iv, 8);
    switch (mode) {
    case MODE_ECB:
    case MODE_CBC:
        for (off = 0; off + 8 <= n; off += 8) {
            uint32_t l = load_be32(in + off), r = load_be32(in + off + 4);
            if (encrypt) {
                if (mode == MODE_CBC) {
                    l ^= load_be32(chain);
                    r ^= load_be32(chain + 4);
                }
                bf_encrypt_block(k, &l, &r);
                store_be32(out + off, l);
                store_be32(out + off + 4, r);
                memcpy(chain, out + off, 8);
            } else {
                uint8_t saved[8];
                memcpy(saved, in + off, 8);
                bf_decrypt_block(k, &l, &r);
                if (mode == MODE_CBC) {
                    l ^= load_be32(chain);
                    r ^= load_be32(chain + 4);
                }
                store_be32(out + off, l);
                store_be32(out + off + 4, r);
                memcpy(chain, saved, 8);
            }
        }
        break;
    case MODE_CFB64:
        /* byte-oriented cipher feedback: the keystream block is refreshed every 8 bytes */
        for (off = 0; off < n; off++) {
            uint8_t c;
            if (num == 0) {
                uint32_t l = load_be32(chain), r = load_be32(chain + 4);
                bf_encrypt_block(k, &l, &r);
                store_be32(chain, l);
                store_be32(chain + 4, r);
            }
            if (encrypt) {
                c = (uint8_t)(in[off] ^ chain[num]);
                chain[num] = c;
                out[off] = c;
            } else {
                c = in[off];
                out[off] = (uint8_t)(c ^ chain[num]);
                chain[num] = c;
            }
            num = (num + 1) & 7;
        }
        break;
    }
}

static void fill_plaintext(uint8_t *buf, size_t n)
{
    static const char *words[] = { "the ", "quick ", "brown ", "fox ", "jumps ", "over ",
                                   "lazy ", "dog ", "while ", "packets ", "stream ", "by\n" };
    uint32_t seed = 12345u;
    size_t pos = 0;
    while (pos < n) {
        const char *w;
        seed = seed * 1103515245u + 12345u;
        w = words[(seed >> 16) % 12];
        while (*w && pos < n)
            buf[pos++] = (uint8_t)*w++;
    }
}

static uint32_t fnv1a(const uint8_t *p, size_t n, uint32_t h)
{
    size_t i;
    for (i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

int main(void)
{
    static const uint8_t key[] = "Embedded HLS benchmark key 2024";
    static const uint8_t iv[8] = { 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10 };
    static const enum bf_mode modes[3] = { MODE_ECB, MODE_CBC, MODE_CFB64 };
    uint32_t h = 2166136261u;
    int m, errors = 0, rekey;
    fill_plaintext(plain, BUF_BYTES);
    for (rekey = 0; rekey < 4; rekey++) {
        bf_set_key(&key_ctx, key + rekey * 3, (int)sizeof key - 1 - rekey * 3);
        for (m = 0; m < 3; m++) {
            bf_crypt_buffer(&key_ctx, modes[m], 1, plain, cipher, BUF_BYTES, iv);
            bf_crypt_buffer(&key_ctx, modes[m], 0, cipher, recovered, BUF_BYTES, iv);
            if (memcmp(plain, recovered, BUF_BYTES) != 0)
                errors++;
            h = fnv1a(cipher, BUF_BYTES, h);
            printf("key %d mode %d: first %02x%02x%02x%02x last %02x%02x%02x%02x\n", rekey, m,
                   cipher[0], cipher[1], cipher[2], cipher[3], cipher[BUF_BYTES - 4],
                   cipher[BUF_BYTES - 3], cipher[BUF_BYTES - 2], cipher[BUF_BYTES - 1]);
        }
    }
    printf("roundtrip errors %d\n", errors);
    printf("checksum %08x\n", h);
    return 0;
}
