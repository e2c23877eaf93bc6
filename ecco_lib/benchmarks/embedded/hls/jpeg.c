/* jpeg.c - Baseline-JPEG-style codec core: a synthetic RGB image is converted
 * to YCbCr, forward DCT'd, quantised and Huffman coded with optimal tables built
 * from symbol statistics; the bitstream is then Huffman decoded, dequantised,
 * inverse DCT'd (even/odd integer IDCT) and colour converted back to RGB.
 * Modelled on the CHStone "jpeg" HLS decoder kernel. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define W 320
#define H 240
#define BW (W / 8)
#define BH (H / 8)
#define NBLOCKS (BW * BH)
#define STREAM_MAX (1 << 18)

typedef struct {
    uint8_t bits[17];        /* number of codes of each length */
    uint8_t huffval[256];
    int nsyms;
    uint16_t code[256];      /* encoder: code per symbol */
    uint8_t size[256];
    int32_t mincode[17], maxcode[18], valptr[17];
} huff_table;

typedef struct {
    uint8_t *buf;
    size_t pos;
    uint32_t acc;
    int nbits;
} bit_writer;

typedef struct {
    const uint8_t *buf;
    size_t pos, len;
    uint32_t acc;
    int nbits;
} bit_reader;

static const int16_t dct_m[8][8] = {
    { 2896, 2896, 2896, 2896, 2896, 2896, 2896, 2896 },
    { 4017, 3406, 2276, 799, -799, -2276, -3406, -4017 },
    { 3784, 1567, -1567, -3784, -3784, -1567, 1567, 3784 },
    { 3406, -799, -4017, -2276, 2276, 4017, 799, -3406 },
    { 2896, -2896, -2896, 2896, 2896, -2896, -2896, 2896 },
    { 2276, -4017, 799, 3406, -3406, -799, 4017, -2276 },
    { 1567, -3784, 3784, -1567, -1567, 3784, -3784, 1567 },
    { 799, -2276, 3406, -4017, 4017, -3406, 2276, -799 },
};

static uint8_t rgb[3][H][W], decoded[3][H][W];
static int16_t planes[3][H][W];
static int16_t coefs[3][NBLOCKS][64];
static uint8_t stream[STREAM_MAX];
static int zigzag[64];
static uint16_t qtab[2][64];
static huff_table dc_tab[2], ac_tab[2];
static long freq_dc[2][257], freq_ac[2][257];

static void build_zigzag(void)
{
    int i = 0, j = 0, k;
    for (k = 0; k < 64; k++) {
        zigzag[k] = i * 8 + j;
        if (((i + j) & 1) == 0) {
            if (j == 7) i++;
            else if (i == 0) j++;
            else { i--; j++; }
        } else {
            if (i == 7) j++;
            else if (j == 0) i++;
            else { i++; j--; }
        }
    }
}

static void build_quant(void)
{
    int i, j;
    for (i = 0; i < 8; i++)
        for (j = 0; j < 8; j++) {
            qtab[0][i * 8 + j] = (uint16_t)(4 + 2 * (i + j) + (i * j) / 2);
            qtab[1][i * 8 + j] = (uint16_t)(8 + 3 * (i + j));
        }
}

static int clamp255(int v) { return v < 0 ? 0 : (v > 255 ? 255 : v); }

static void make_image(void)
{
    int x, y;
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++) {
            int dx = x - W / 2, dy = y - H / 3, r2 = dx * dx + dy * dy;
            int ring = (r2 / 150) & 1;
            int tex = ((x * 7) ^ (y * 13)) & 31;
            rgb[0][y][x] = (uint8_t)clamp255(x * 220 / W + (ring ? 40 : 0) + tex / 4);
            rgb[1][y][x] = (uint8_t)clamp255(255 - y * 200 / H + (r2 < 3000 ? -90 : 0));
            rgb[2][y][x] = (uint8_t)clamp255((x + y) * 160 / (W + H) + ((x / 24 + y / 24) & 1) * 60 + tex);
        }
}

static void rgb_to_ycc(void)
{
    int x, y;
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++) {
            int r = rgb[0][y][x], g = rgb[1][y][x], b = rgb[2][y][x];
            int yy = (19595 * r + 38470 * g + 7471 * b + 32768) >> 16;
            int cb = ((-11059 * r - 21709 * g + 32768 * b + 32768) >> 16) + 128;
            int cr = ((32768 * r - 27439 * g - 5329 * b + 32768) >> 16) + 128;
            planes[0][y][x] = (int16_t)(yy - 128);
            planes[1][y][x] = (int16_t)(clamp255(cb) - 128);
            planes[2][y][x] = (int16_t)(clamp255(cr) - 128);
        }
}

static void forward_dct(const int16_t in[64], int32_t out[64])
{
    int32_t tmp[64];
    int k, n, r;
    for (r = 0; r < 8; r++)
        for (k = 0; k < 8; k++) {
            int32_t s = 0;
            for (n = 0; n < 8; n++)
                s += dct_m[k][n] * in[r * 8 + n];
            tmp[r * 8 + k] = (s + (1 << 10)) >> 11;
        }
    for (r = 0; r < 8; r++)
        for (k = 0; k < 8; k++) {
            int32_t s = 0;
            for (n = 0; n < 8; n++)
                s += dct_m[k][n] * tmp[n * 8 + r];
            out[k * 8 + r] = (s + (1 << 14)) >> 15;
        }
}

/* 1-D IDCT using the even/odd symmetry of the basis; 'shift' removes fraction bits */
static void idct_1d(const int32_t *in, int stride, int32_t *out, int ostride, int shift)
{
    int32_t e[4], o[4];
    int n;
    for (n = 0; n < 4; n++) {
        e[n] = dct_m[0][n] * in[0] + dct_m[2][n] * in[2 * stride] + dct_m[4][n] * in[4 * stride] +
               dct_m[6][n] * in[6 * stride];
        o[n] = dct_m[1][n] * in[stride] + dct_m[3][n] * in[3 * stride] + dct_m[5][n] * in[5 * stride] +
               dct_m[7][n] * in[7 * stride];
    }
    for (n = 0; n < 4; n++) {
        out[n * ostride] = (e[n] + o[n] + (1 << (shift - 1))) >> shift;
        out[(7 - n) * ostride] = (e[n] - o[n] + (1 << (shift - 1))) >> shift;
    }
}

static void inverse_dct(const int32_t in[64], int32_t out[64])
{
    int32_t tmp[64];
    int i;
    for (i = 0; i < 8; i++)
        idct_1d(in + i, 8, tmp + i, 8, 11);   /* columns */
    for (i = 0; i < 8; i++)
        idct_1d(tmp + i * 8, 1, out + i * 8, 1, 15); /* rows */
}

static int bit_category(int v)
{
    int n = 0;
    if (v < 0) v = -v;
    while (v) { n++; v >>= 1; }
    return n;
}

/* Huffman code lengths from frequencies (two-least merge), limited to 16 bits */
static void build_huffman(huff_table *t, const long *freq_in)
{
    long freq[257];
    int codesize[257], others[257], bits[260], i, j, k;
    memcpy(freq, freq_in, sizeof freq);
    freq[256] = 1; /* reserved symbol keeps the all-ones code unused */
    for (i = 0; i < 257; i++) { codesize[i] = 0; others[i] = -1; }
    for (;;) {
        int v1 = -1, v2 = -1;
        for (i = 0; i < 257; i++)
            if (freq[i] > 0 && (v1 < 0 || freq[i] <= freq[v1])) v1 = i;
        for (i = 0; i < 257; i++)
            if (freq[i] > 0 && i != v1 && (v2 < 0 || freq[i] <= freq[v2])) v2 = i;
        if (v2 < 0) break;
        freq[v1] += freq[v2];
        freq[v2] = 0;
        for (;;) { codesize[v1]++; if (others[v1] < 0) break; v1 = others[v1]; }
        others[v1] = v2;
        for (;;) { codesize[v2]++; if (others[v2] < 0) break; v2 = others[v2]; }
    }
    memset(bits, 0, sizeof bits);
    for (i = 0; i < 257; i++)
        if (codesize[i]) bits[codesize[i]]++;
    for (i = 259; i > 16; i--)
        while (bits[i] > 0) {
            j = i - 2;
            while (bits[j] == 0) j--;
            bits[i] -= 2; bits[i - 1]++; bits[j + 1] += 2; bits[j]--;
        }
    for (i = 16; bits[i] == 0; i--) {}
    bits[i]--;
    t->nsyms = 0;
    for (i = 1; i < 260; i++)
        for (j = 0; j < 256; j++)
            if (codesize[j] == i) t->huffval[t->nsyms++] = (uint8_t)j;
    for (i = 0; i <= 16; i++) t->bits[i] = (uint8_t)bits[i];
    /* canonical codes, shared by encoder and decoder tables */
    {
        int code = 0, p = 0;
        memset(t->size, 0, sizeof t->size);
        for (i = 1; i <= 16; i++) {
            t->valptr[i] = p;
            t->mincode[i] = code;
            for (k = 0; k < t->bits[i]; k++) {
                t->code[t->huffval[p]] = (uint16_t)code;
                t->size[t->huffval[p]] = (uint8_t)i;
                p++; code++;
            }
            t->maxcode[i] = t->bits[i] ? code - 1 : -1;
            code <<= 1;
        }
        t->maxcode[17] = 0x7FFFFFFF;
    }
}

static void put_bits(bit_writer *w, uint32_t value, int n)
{
    w->acc = (w->acc << n) | (value & ((1u << n) - 1));
    w->nbits += n;
    while (w->nbits >= 8) {
        uint8_t byte = (uint8_t)(w->acc >> (w->nbits - 8));
        w->nbits -= 8;
        w->buf[w->pos++] = byte;
        if (byte == 0xFF) w->buf[w->pos++] = 0;   /* byte stuffing */
    }
}

static void emit_value(bit_writer *w, int v, int cat)
{
    if (cat == 0) return;
    put_bits(w, (uint32_t)(v < 0 ? v - 1 : v), cat);
}

/* pass 0: gather statistics, pass 1: write bits */
static void entropy_code_block(const int16_t *c, int *pred, int tab, int pass, bit_writer *w)
{
    int diff = c[0] - *pred, cat = bit_category(diff), run = 0, k;
    *pred = c[0];
    if (pass == 0) freq_dc[tab][cat]++;
    else { put_bits(w, dc_tab[tab].code[cat], dc_tab[tab].size[cat]); emit_value(w, diff, cat); }
    for (k = 1; k < 64; k++) {
        int v = c[zigzag[k]];
        if (v == 0) { run++; continue; }
        while (run > 15) {
            if (pass == 0) freq_ac[tab][0xF0]++;
            else put_bits(w, ac_tab[tab].code[0xF0], ac_tab[tab].size[0xF0]);
            run -= 16;
        }
        cat = bit_category(v);
        if (pass == 0) freq_ac[tab][(run << 4) | cat]++;
        else {
            put_bits(w, ac_tab[tab].code[(run << 4) | cat], ac_tab[tab].size[(run << 4) | cat]);
            emit_value(w, v, cat);
        }
        run = 0;
    }
    if (run > 0) {
        if (pass == 0) freq_ac[tab][0]++;
        else put_bits(w, ac_tab[tab].code[0], ac_tab[tab].size[0]);
    }
}

static int get_bit(bit_reader *r)
{
    if (r->nbits == 0) {
        uint8_t byte = r->pos < r->len ? r->buf[r->pos++] : 0;
        if (byte == 0xFF && r->pos < r->len) r->pos++;   /* skip stuffed zero */
        r->acc = byte;
        r->nbits = 8;
    }
    r->nbits--;
    return (int)((r->acc >> r->nbits) & 1);
}

static int get_bits(bit_reader *r, int n)
{
    int v = 0;
    while (n-- > 0) v = (v << 1) | get_bit(r);
    return v;
}

static int decode_symbol(bit_reader *r, const huff_table *t)
{
    int32_t code = get_bit(r);
    int len = 1;
    while (len <= 16 && code > t->maxcode[len]) {
        code = (code << 1) | get_bit(r);
        len++;
    }
    if (len > 16) return 0;
    return t->huffval[t->valptr[len] + code - t->mincode[len]];
}

static int extend(int v, int cat)
{
    return v < (1 << (cat - 1)) ? v - (1 << cat) + 1 : v;
}

static void decode_block(bit_reader *r, int tab, int *pred, int32_t out[64])
{
    int cat = decode_symbol(r, &dc_tab[tab]), k;
    memset(out, 0, 64 * sizeof out[0]);
    if (cat) *pred += extend(get_bits(r, cat), cat);
    out[0] = *pred * qtab[tab][0];
    for (k = 1; k < 64;) {
        int sym = decode_symbol(r, &ac_tab[tab]), run = sym >> 4, size = sym & 15;
        if (size == 0) {
            if (run != 15) break;  /* end of block */
            k += 16;
            continue;
        }
        k += run;
        if (k > 63) break;
        out[zigzag[k]] = extend(get_bits(r, size), size) * qtab[tab][zigzag[k]];
        k++;
    }
}

int main(void)
{
    bit_writer w = { stream, 0, 0, 0 };
    bit_reader rd;
    int comp, b, i, pass, pred[3];
    uint32_t h = 2166136261u;
    long sqerr = 0;
    build_zigzag();
    build_quant();
    make_image();
    rgb_to_ycc();
    for (comp = 0; comp < 3; comp++)
        for (b = 0; b < NBLOCKS; b++) {
            int16_t blk[64];
            int32_t dct[64];
            int bx = (b % BW) * 8, by = (b / BW) * 8, y, x;
            for (y = 0; y < 8; y++)
                for (x = 0; x < 8; x++) blk[y * 8 + x] = planes[comp][by + y][bx + x];
            forward_dct(blk, dct);
            for (i = 0; i < 64; i++) {
                int q = qtab[comp > 0][i];
                coefs[comp][b][i] = (int16_t)(dct[i] >= 0 ? (dct[i] + q / 2) / q : -((-dct[i] + q / 2) / q));
            }
        }
    for (pass = 0; pass < 2; pass++) {
        if (pass == 1)
            for (i = 0; i < 2; i++) { build_huffman(&dc_tab[i], freq_dc[i]); build_huffman(&ac_tab[i], freq_ac[i]); }
        pred[0] = pred[1] = pred[2] = 0;
        for (b = 0; b < NBLOCKS; b++)       /* interleaved MCU order: Y Cb Cr */
            for (comp = 0; comp < 3; comp++)
                entropy_code_block(coefs[comp][b], &pred[comp], comp > 0, pass, &w);
    }
    if (w.nbits > 0) put_bits(&w, 0x7F, 8 - w.nbits);
    rd.buf = stream; rd.pos = 0; rd.len = w.pos; rd.acc = 0; rd.nbits = 0;
    pred[0] = pred[1] = pred[2] = 0;
    for (b = 0; b < NBLOCKS; b++) {
        int32_t pix[3][64];
        int bx = (b % BW) * 8, by = (b / BW) * 8, y, x;
        for (comp = 0; comp < 3; comp++) {
            int32_t c[64];
            decode_block(&rd, comp > 0, &pred[comp], c);
            inverse_dct(c, pix[comp]);
        }
        for (y = 0; y < 8; y++)
            for (x = 0; x < 8; x++) {
                int yy = pix[0][y * 8 + x] + 128, cb = pix[1][y * 8 + x], cr = pix[2][y * 8 + x];
                int rgbv[3], ch;
                rgbv[0] = clamp255(yy + ((91881 * cr + 32768) >> 16));
                rgbv[1] = clamp255(yy - ((22554 * cb + 46802 * cr + 32768) >> 16));
                rgbv[2] = clamp255(yy + ((116130 * cb + 32768) >> 16));
                for (ch = 0; ch < 3; ch++) {
                    int d = rgbv[ch] - rgb[ch][by + y][bx + x];
                    decoded[ch][by + y][bx + x] = (uint8_t)rgbv[ch];
                    sqerr += d * d;
                }
            }
    }
    for (comp = 0; comp < 3; comp++)
        for (i = 0; i < H * W; i++) h = (h ^ decoded[comp][i / W][i % W]) * 16777619u;
    printf("stream bytes %lu consumed %lu\n", (unsigned long)w.pos, (unsigned long)rd.pos);
    printf("squared error %ld (per pixel x1000: %ld)\n", sqerr, sqerr * 1000 / (3L * W * H));
    printf("checksum %08x\n", h);
    return 0;
}
