/* rijndael.c - AES (Rijndael) with 128/192/256-bit keys: S-box and T-tables
 * derived at start-up from GF(2^8) log/antilog tables, T-table encryption,
 * byte-oriented inverse cipher, CBC and CTR modes over a message buffer and
 * FIPS-197 known-answer checks. Modelled on MiBench security/rijndael. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#define MSG_BYTES (24 * 1024)

typedef struct {
    int rounds;
    uint32_t rk[60];   /* encryption round keys, big-endian words */
} aes_ctx;

static uint8_t sbox[256], inv_sbox[256], gf_log[256], gf_exp[512];
static uint32_t te[4][256];
static uint8_t message[MSG_BYTES], cbc_out[MSG_BYTES], ctr_out[MSG_BYTES], back[MSG_BYTES];

static uint8_t gf_mul(uint8_t a, uint8_t b)
{
    if (a == 0 || b == 0) return 0;
    return gf_exp[gf_log[a] + gf_log[b]];
}

static uint32_t rotr8(uint32_t x) { return (x >> 8) | (x << 24); }

static void build_tables(void)
{
    unsigned i, x = 1;
    for (i = 0; i < 255; i++) {            /* 3 generates GF(2^8)* */
        gf_exp[i] = (uint8_t)x;
        gf_exp[i + 255] = (uint8_t)x;
        gf_log[x] = (uint8_t)i;
        x ^= (x << 1) ^ ((x & 0x80u) ? 0x11Bu : 0u);
        x &= 0xFFu;
    }
    gf_exp[510] = gf_exp[0]; gf_exp[511] = gf_exp[1];
    for (i = 0; i < 256; i++) {
        uint8_t inv = i ? gf_exp[255 - gf_log[i]] : 0, s = inv;
        int k;
        for (k = 1; k <= 4; k++)                 /* affine transform */
            s ^= (uint8_t)((inv << k) | (inv >> (8 - k)));
        s ^= 0x63;
        sbox[i] = s;
        inv_sbox[s] = (uint8_t)i;
    }
    for (i = 0; i < 256; i++) {
        uint8_t s = sbox[i];
        uint32_t t = ((uint32_t)gf_mul(s, 2) << 24) | ((uint32_t)s << 16) | ((uint32_t)s << 8) | gf_mul(s, 3);
        te[0][i] = t;
        te[1][i] = rotr8(t);
        te[2][i] = rotr8(te[1][i]);
        te[3][i] = rotr8(te[2][i]);
    }
}

static uint32_t sub_word(uint32_t w)
{
    return ((uint32_t)sbox[w >> 24] << 24) | ((uint32_t)sbox[(w >> 16) & 0xFF] << 16) |
           ((uint32_t)sbox[(w >> 8) & 0xFF] << 8) | sbox[w & 0xFF];
}

void aes_set_key(aes_ctx *ctx, const uint8_t *key, int key_bits)
{
    int nk = key_bits / 32, total, i;
    uint8_t rcon = 1;
    ctx->rounds = nk + 6;
    total = 4 * (ctx->rounds + 1);
    for (i = 0; i < nk; i++)
        ctx->rk[i] = ((uint32_t)key[4 * i] << 24) | ((uint32_t)key[4 * i + 1] << 16) |
                     ((uint32_t)key[4 * i + 2] << 8) | key[4 * i + 3];
    for (i = nk; i < total; i++) {
        uint32_t t = ctx->rk[i - 1];
        if (i % nk == 0) {
            t = sub_word((t << 8) | (t >> 24)) ^ ((uint32_t)rcon << 24);
            rcon = gf_mul(rcon, 2);
        } else if (nk > 6 && i % nk == 4) {
            t = sub_word(t);
        }
        ctx->rk[i] = ctx->rk[i - nk] ^ t;
    }
}

void aes_encrypt(const aes_ctx *ctx, const uint8_t in[16], uint8_t out[16])
{
    uint32_t s[4], t[4];
    const uint32_t *rk = ctx->rk;
    int r, c;
    for (c = 0; c < 4; c++)
        s[c] = (((uint32_t)in[4 * c] << 24) | ((uint32_t)in[4 * c + 1] << 16) | ((uint32_t)in[4 * c + 2] << 8) |
                in[4 * c + 3]) ^ rk[c];
    for (r = 1; r < ctx->rounds; r++) {
        rk += 4;
        for (c = 0; c < 4; c++)
            t[c] = te[0][s[c] >> 24] ^ te[1][(s[(c + 1) & 3] >> 16) & 0xFF] ^
                   te[2][(s[(c + 2) & 3] >> 8) & 0xFF] ^ te[3][s[(c + 3) & 3] & 0xFF] ^ rk[c];
        memcpy(s, t, sizeof s);
    }
    rk += 4;
    for (c = 0; c < 4; c++) {
        uint32_t w = ((uint32_t)sbox[s[c] >> 24] << 24) | ((uint32_t)sbox[(s[(c + 1) & 3] >> 16) & 0xFF] << 16) |
                     ((uint32_t)sbox[(s[(c + 2) & 3] >> 8) & 0xFF] << 8) | sbox[s[(c + 3) & 3] & 0xFF];
        w ^= rk[c];
        out[4 * c] = (uint8_t)(w >> 24); out[4 * c + 1] = (uint8_t)(w >> 16);
        out[4 * c + 2] = (uint8_t)(w >> 8); out[4 * c + 3] = (uint8_t)w;
    }
}

static void add_round_key(uint8_t st[16], const uint32_t *rk)
{
    int c;
    for (c = 0; c < 4; c++) {
        st[4 * c] ^= (uint8_t)(rk[c] >> 24); st[4 * c + 1] ^= (uint8_t)(rk[c] >> 16);
        st[4 * c + 2] ^= (uint8_t)(rk[c] >> 8); st[4 * c + 3] ^= (uint8_t)rk[c];
    }
}

/* straightforward inverse cipher working on the byte state */
void aes_decrypt(const aes_ctx *ctx, const uint8_t in[16], uint8_t out[16])
{
    uint8_t st[16], tmp[16];
    int r, c, i;
    memcpy(st, in, 16);
    add_round_key(st, ctx->rk + 4 * ctx->rounds);
    for (r = ctx->rounds - 1; r >= 0; r--) {
        for (c = 0; c < 4; c++)          /* InvShiftRows + InvSubBytes */
            for (i = 0; i < 4; i++)
                tmp[4 * ((c + i) & 3) + i] = inv_sbox[st[4 * c + i]];
        memcpy(st, tmp, 16);
        add_round_key(st, ctx->rk + 4 * r);
        if (r == 0) break;
        for (c = 0; c < 4; c++) {        /* InvMixColumns */
            uint8_t a0 = st[4 * c], a1 = st[4 * c + 1], a2 = st[4 * c + 2], a3 = st[4 * c + 3];
            st[4 * c] = gf_mul(a0, 14) ^ gf_mul(a1, 11) ^ gf_mul(a2, 13) ^ gf_mul(a3, 9);
            st[4 * c + 1] = gf_mul(a0, 9) ^ gf_mul(a1, 14) ^ gf_mul(a2, 11) ^ gf_mul(a3, 13);
            st[4 * c + 2] = gf_mul(a0, 13) ^ gf_mul(a1, 9) ^ gf_mul(a2, 14) ^ gf_mul(a3, 11);
            st[4 * c + 3] = gf_mul(a0, 11) ^ gf_mul(a1, 13) ^ gf_mul(a2, 9) ^ gf_mul(a3, 14);
        }
    }
    memcpy(out, st, 16);
}

static void cbc_encrypt(const aes_ctx *ctx, const uint8_t iv[16], const uint8_t *in, uint8_t *out, size_t n)
{
    uint8_t chain[16], blk[16];
    size_t off;
    int i;
    memcpy(chain, iv, 16);
    for (off = 0; off < n; off += 16) {
        for (i = 0; i < 16; i++) blk[i] = in[off + (size_t)i] ^ chain[i];
        aes_encrypt(ctx, blk, out + off);
        memcpy(chain, out + off, 16);
    }
}

static void cbc_decrypt(const aes_ctx *ctx, const uint8_t iv[16], const uint8_t *in, uint8_t *out, size_t n)
{
    size_t off;
    int i;
    for (off = 0; off < n; off += 16) {
        const uint8_t *prev = off ? in + off - 16 : iv;
        aes_decrypt(ctx, in + off, out + off);
        for (i = 0; i < 16; i++) out[off + (size_t)i] ^= prev[i];
    }
}

static void ctr_crypt(const aes_ctx *ctx, uint64_t nonce, const uint8_t *in, uint8_t *out, size_t n)
{
    uint8_t counter[16], ks[16];
    uint64_t block = 0;
    size_t off;
    int i;
    for (off = 0; off < n; off++) {
        if ((off & 15) == 0) {
            for (i = 0; i < 8; i++) {
                counter[i] = (uint8_t)(nonce >> (56 - 8 * i));
                counter[8 + i] = (uint8_t)(block >> (56 - 8 * i));
            }
            aes_encrypt(ctx, counter, ks);
            block++;
        }
        out[off] = in[off] ^ ks[off & 15];
    }
}

static void known_answer(int key_bits)
{
    static const uint8_t pt[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                    0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
    uint8_t key[32], ct[16], dec[16];
    aes_ctx ctx;
    int i;
    for (i = 0; i < 32; i++) key[i] = (uint8_t)i;
    aes_set_key(&ctx, key, key_bits);
    aes_encrypt(&ctx, pt, ct);
    aes_decrypt(&ctx, ct, dec);
    printf("AES-%d kat: ", key_bits);
    for (i = 0; i < 16; i++) printf("%02x", ct[i]);
    printf(" roundtrip %s\n", memcmp(dec, pt, 16) == 0 ? "ok" : "FAIL");
}

int main(void)
{
    uint8_t key[32], iv[16];
    uint32_t seed = 0xDEADBEEFu, h = 2166136261u;
    int ks, i, errors = 0;
    size_t k;
    build_tables();
    known_answer(128);
    known_answer(192);
    known_answer(256);
    for (k = 0; k < MSG_BYTES; k++) {
        seed ^= seed << 13; seed ^= seed >> 17; seed ^= seed << 5;
        message[k] = (uint8_t)(k % 61 < 40 ? 'a' + seed % 26 : seed >> 24);
    }
    for (ks = 128; ks <= 256; ks += 64) {
        aes_ctx ctx;
        for (i = 0; i < 32; i++) key[i] = (uint8_t)(i * 7 + ks);
        for (i = 0; i < 16; i++) iv[i] = (uint8_t)(0xA5 ^ i);
        aes_set_key(&ctx, key, ks);
        cbc_encrypt(&ctx, iv, message, cbc_out, MSG_BYTES);
        cbc_decrypt(&ctx, iv, cbc_out, back, MSG_BYTES);
        errors += memcmp(back, message, MSG_BYTES) != 0;
        ctr_crypt(&ctx, 0x0123456789ABCDEFULL + (uint64_t)ks, message, ctr_out, MSG_BYTES);
        ctr_crypt(&ctx, 0x0123456789ABCDEFULL + (uint64_t)ks, ctr_out, back, MSG_BYTES);
        errors += memcmp(back, message, MSG_BYTES) != 0;
        for (k = 0; k < MSG_BYTES; k++) h = (h ^ cbc_out[k] ^ (uint32_t)(ctr_out[k] << 8)) * 16777619u;
        printf("key %d cbc tail %02x%02x ctr tail %02x%02x\n", ks, cbc_out[MSG_BYTES - 2], cbc_out[MSG_BYTES - 1],
               ctr_out[MSG_BYTES - 2], ctr_out[MSG_BYTES - 1]);
    }
    printf("roundtrip errors %d\n", errors);
    printf("checksum %08x\n", h);
    return 0;
}
