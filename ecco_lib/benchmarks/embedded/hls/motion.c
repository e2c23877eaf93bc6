/* motion.c - MPEG-2 style motion vector coding: an encoder writes macroblock
 * types, VLC motion codes, f_code residuals and field selects into a bitstream;
 * the decoder parses it with a table-driven VLC reader, reconstructs the vectors
 * with predictor wrap-around and performs half-pel (bi)directional motion
 * compensation on QCIF frames. Modelled on the CHStone "motion" kernel. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FW 176
#define FH 144
#define MBW (FW / 16)
#define MBH (FH / 16)
#define NPICS 40
#define STREAM_WORDS 16384

enum mb_kind { MB_INTRA = 0, MB_FORWARD = 1, MB_BACKWARD = 2, MB_BIDIR = 3 };

typedef struct { int mv[2][2][2]; int field_sel[2][2]; int kind, field; } macroblock;
typedef struct { int8_t value; uint8_t length; } vlc_entry;
typedef struct { uint32_t *buf; size_t bitpos; } bit_stream;

static uint8_t ref_frame[2][FH][FW];
static uint8_t cur_frame[FH][FW];
static uint32_t stream_words[STREAM_WORDS];
static vlc_entry mv_table[1024];
static macroblock enc_mbs[MBH * MBW], dec_mbs[MBH * MBW];

/* own prefix code for motion_code magnitudes 0..16 (followed by a sign bit) */
static void mv_code(int mc, uint32_t *bits, int *len)
{
    int m = abs(mc), s = mc < 0;
    if (m == 0) { *bits = 1; *len = 1; return; }
    if (m <= 3) { *bits = (1u << 1) | (uint32_t)s; *len = m + 2; return; }
    if (m <= 7) { *bits = (1u << 3) | ((uint32_t)(m - 4) << 1) | (uint32_t)s; *len = 8; return; }
    if (m <= 15) { *bits = (1u << 4) | ((uint32_t)(m - 8) << 1) | (uint32_t)s; *len = 10; return; }
    *bits = (1u << 1) | (uint32_t)s; *len = 8;
}

static void build_vlc_table(void)
{
    int mc;
    memset(mv_table, 0, sizeof mv_table);
    for (mc = -16; mc <= 16; mc++) {
        uint32_t bits, first, k;
        int len;
        mv_code(mc, &bits, &len);
        first = bits << (10 - len);
        for (k = 0; k < (1u << (10 - len)); k++) {
            mv_table[first + k].value = (int8_t)mc;
            mv_table[first + k].length = (uint8_t)len;
        }
    }
}

static void put_bits(bit_stream *bs, uint32_t v, int n)
{
    int i;
    for (i = n - 1; i >= 0; i--) {
        size_t w = bs->bitpos >> 5;
        if (w >= STREAM_WORDS) return;
        if ((v >> i) & 1) stream_words[w] |= 0x80000000u >> (bs->bitpos & 31);
        bs->bitpos++;
    }
}

static uint32_t show_bits(const bit_stream *bs, int n)
{
    size_t w = bs->bitpos >> 5;
    uint64_t pair = ((uint64_t)stream_words[w % STREAM_WORDS] << 32) | stream_words[(w + 1) % STREAM_WORDS];
    return (uint32_t)((pair << (bs->bitpos & 31)) >> (64 - n));
}

static uint32_t get_bits(bit_stream *bs, int n)
{
    uint32_t v = show_bits(bs, n);
    bs->bitpos += (size_t)n;
    return v;
}

static int wrap_vector(int v, int f_code)
{
    int f = 1 << (f_code - 1), high = 16 * f - 1, low = -16 * f, range = 32 * f;
    if (v > high) v -= range;
    else if (v < low) v += range;
    return v;
}

static void encode_vector(bit_stream *bs, int target, int *pred, int f_code)
{
    int r_size = f_code - 1, f = 1 << r_size, delta = wrap_vector(target - *pred, f_code), mc, res = 0;
    uint32_t bits;
    int len;
    if (f == 1 || delta == 0) mc = delta;
    else {
        int a = abs(delta) - 1;
        mc = a / f + 1;
        res = a % f;
        if (delta < 0) mc = -mc;
    }
    mv_code(mc, &bits, &len);
    put_bits(bs, bits, len);
    if (f != 1 && mc != 0) put_bits(bs, (uint32_t)res, r_size);
    *pred = wrap_vector(*pred + delta, f_code);
}

static int decode_vector(bit_stream *bs, int *pred, int f_code)
{
    int r_size = f_code - 1, f = 1 << r_size, delta;
    vlc_entry e = mv_table[show_bits(bs, 10)];
    bs->bitpos += e.length;
    if (f == 1 || e.value == 0) delta = e.value;
    else {
        int residual = (int)get_bits(bs, r_size);
        delta = (abs(e.value) - 1) * f + residual + 1;
        if (e.value < 0) delta = -delta;
    }
    *pred = wrap_vector(*pred + delta, f_code);
    return *pred;
}

/* one picture worth of macroblock headers; encoder (decode=0) or decoder (decode=1) */
static void code_picture(bit_stream *bs, macroblock *mbs, const int f_code[2][2], int decode)
{
    int pmv[2][2][2], i, r, s, t;
    for (i = 0; i < MBW * MBH; i++) {
        macroblock *mb = &mbs[i];
        if (i % MBW == 0) memset(pmv, 0, sizeof pmv);   /* predictors reset each slice */
        if (decode) { mb->kind = (int)get_bits(bs, 2); mb->field = (int)get_bits(bs, 1); }
        else { put_bits(bs, (uint32_t)mb->kind, 2); put_bits(bs, (uint32_t)mb->field, 1); }
        if (mb->kind == MB_INTRA) { memset(pmv, 0, sizeof pmv); continue; }
        for (s = 0; s < 2; s++) {
            if (!(mb->kind & (1 << s))) continue;
            for (r = 0; r < (mb->field ? 2 : 1); r++) {
                if (mb->field) {
                    if (decode) mb->field_sel[r][s] = (int)get_bits(bs, 1);
                    else put_bits(bs, (uint32_t)mb->field_sel[r][s], 1);
                }
                for (t = 0; t < 2; t++) {
                    if (decode) mb->mv[r][s][t] = decode_vector(bs, &pmv[r][s][t], f_code[s][t]);
                    else encode_vector(bs, mb->mv[r][s][t], &pmv[r][s][t], f_code[s][t]);
                }
            }
            if (!mb->field) { for (t = 0; t < 2; t++) pmv[1][s][t] = pmv[0][s][t]; }
        }
    }
}

static int clampi(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

static int fetch_halfpel(int ref, int x2, int y2)
{
    int x = x2 >> 1, y = y2 >> 1, hx = x2 & 1, hy = y2 & 1;
    int x0 = clampi(x, 0, FW - 1), x1 = clampi(x + hx, 0, FW - 1);
    int y0 = clampi(y, 0, FH - 1), y1 = clampi(y + hy, 0, FH - 1);
    const uint8_t (*p)[FW] = ref_frame[ref];
    return (p[y0][x0] + p[y0][x1] + p[y1][x0] + p[y1][x1] + 2) >> 2;
}

static void motion_compensate(const macroblock *mb, int mbx, int mby)
{
    int x, y, s;
    for (y = 0; y < 16; y++)
        for (x = 0; x < 16; x++) {
            int px = mbx * 16 + x, py = mby * 16 + y, sum = 0, n = 0;
            if (mb->kind == MB_INTRA) { cur_frame[py][px] = (uint8_t)(128 + ((px ^ py) & 15)); continue; }
            for (s = 0; s < 2; s++) {
                int r;
                if (!(mb->kind & (1 << s))) continue;
                r = mb->field ? (y & 1) : 0;
                sum += fetch_halfpel(s, px * 2 + mb->mv[r][s][0],
                                     py * 2 + mb->mv[r][s][1] + (mb->field ? mb->field_sel[r][s] * 2 - 1 : 0));
                n++;
            }
            cur_frame[py][px] = (uint8_t)(n == 2 ? (sum + 1) >> 1 : sum);
        }
}

static void make_reference_frames(void)
{
    int x, y;
    for (y = 0; y < FH; y++)
        for (x = 0; x < FW; x++) {
            ref_frame[0][y][x] = (uint8_t)((x * 3 + y * 5 + ((x / 8 + y / 8) & 1) * 64) & 255);
            ref_frame[1][y][x] = (uint8_t)(((x * x + y * y) / 16 + (x ^ y)) & 255);
        }
}

int main(void)
{
    bit_stream enc = { stream_words, 0 }, dec = { stream_words, 0 };
    uint32_t seed = 0xC0FFEEu, h = 2166136261u;
    int pic, i, errors = 0, r, s, t, x, y;
    build_vlc_table();
    make_reference_frames();
    memset(stream_words, 0, sizeof stream_words);
    for (pic = 0; pic < NPICS; pic++) {
        int f_code[2][2];
        for (s = 0; s < 2; s++)
            for (t = 0; t < 2; t++) f_code[s][t] = 1 + (pic + s + 2 * t) % 4;
        for (i = 0; i < MBW * MBH; i++) {
            macroblock *mb = &enc_mbs[i];
            memset(mb, 0, sizeof *mb);
            seed = seed * 1664525u + 1013904223u;
            mb->kind = (int)(seed >> 30);
            mb->field = (int)((seed >> 29) & 1);
            for (r = 0; r < 2; r++)
                for (s = 0; s < 2; s++) {
                    mb->field_sel[r][s] = (int)((seed >> (r * 2 + s)) & 1);
                    for (t = 0; t < 2; t++) {
                        int f = 1 << (f_code[s][t] - 1);
                        seed = seed * 1664525u + 1013904223u;
                        mb->mv[r][s][t] = (int)((seed >> 8) % (uint32_t)(32 * f)) - 16 * f;
                    }
                }
            if (!mb->field) memcpy(mb->mv[1], mb->mv[0], sizeof mb->mv[0]);
        }
        enc.bitpos = dec.bitpos;
        code_picture(&enc, enc_mbs, (const int (*)[2])f_code, 0);
        code_picture(&dec, dec_mbs, (const int (*)[2])f_code, 1);
        for (i = 0; i < MBW * MBH; i++) {
            const macroblock *a = &enc_mbs[i], *b = &dec_mbs[i];
            if (a->kind != b->kind || a->field != b->field) { errors++; continue; }
            if (a->kind == MB_INTRA) continue;
            for (r = 0; r < (a->field ? 2 : 1); r++)
                for (s = 0; s < 2; s++)
                    if (a->kind & (1 << s))
                        for (t = 0; t < 2; t++) errors += a->mv[r][s][t] != b->mv[r][s][t];
            motion_compensate(b, i % MBW, i / MBW);
        }
        for (i = 0; i < MBW * MBH; i++)
            if (dec_mbs[i].kind == MB_INTRA) motion_compensate(&dec_mbs[i], i % MBW, i / MBW);
        for (y = 0; y < FH; y++)
            for (x = 0; x < FW; x++) h = (h ^ cur_frame[y][x]) * 16777619u;
        memcpy(ref_frame[pic & 1], cur_frame, sizeof cur_frame);
    }
    printf("bits %lu errors %d\n", (unsigned long)dec.bitpos, errors);
    printf("checksum %08x\n", h);
    return 0;
}
