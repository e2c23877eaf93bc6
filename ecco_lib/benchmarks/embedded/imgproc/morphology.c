/* morphology.c - grayscale and bit-packed binary mathematical morphology.
 * Modelled on OpenCV's getStructuringElement/erode/dilate/morphologyEx:
 * rect, cross and ellipse kernels drive min/max filters with constant
 * borders; open/close/gradient/top-hat/black-hat are composed from them, and
 * a binary path works on 64-pixel words with shifts and masks. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#define W     192
#define H     160
#define WORDS ((W + 63) / 64)
#define MAXSE 9

typedef enum { SHAPE_RECT, SHAPE_CROSS, SHAPE_ELLIPSE } shape_t;
typedef enum { MORPH_ERODE, MORPH_DILATE, MORPH_OPEN, MORPH_CLOSE,
               MORPH_GRADIENT, MORPH_TOPHAT, MORPH_BLACKHAT } morph_op_t;

typedef struct {
    int n;
    int8_t dx[MAXSE * MAXSE], dy[MAXSE * MAXSE];
    uint8_t mask[MAXSE][MAXSE];
    int kw, kh;
} strel_t;

typedef uint8_t (*reduce_fn)(uint8_t, uint8_t);

static uint8_t img_a[H][W], img_b[H][W], img_c[H][W], img_d[H][W];
static uint64_t bin_a[H][WORDS], bin_b[H][WORDS], bin_t[H][WORDS];

static uint8_t min_u8(uint8_t a, uint8_t b) { return a < b ? a : b; }
static uint8_t max_u8(uint8_t a, uint8_t b) { return a > b ? a : b; }

static void make_strel(strel_t *se, shape_t shape, int kw, int kh)
{
    int r, c, cx = kw / 2, cy = kh / 2;
    se->n = 0;
    se->kw = kw;
    se->kh = kh;
    for (r = 0; r < kh; r++)
        for (c = 0; c < kw; c++) {
            int on;
            switch (shape) {
            case SHAPE_CROSS:
                on = (r == cy) || (c == cx);
                break;
            case SHAPE_ELLIPSE: {
                /* integer ellipse test: (dx/a)^2 + (dy/b)^2 <= 1 */
                int a = cx > 0 ? cx : 1, b = cy > 0 ? cy : 1;
                int ddx = c - cx, ddy = r - cy;
                on = ddx * ddx * b * b + ddy * ddy * a * a <= a * a * b * b;
                break;
            }
            case SHAPE_RECT:
            default:
                on = 1;
                break;
            }
            se->mask[r][c] = (uint8_t)on;
            if (on) {
                se->dx[se->n] = (int8_t)(c - cx);
                se->dy[se->n] = (int8_t)(r - cy);
                se->n++;
            }
        }
}

/* min/max filter with constant border value */
static void morph_basic(uint8_t (*dst)[W], uint8_t (*src)[W], const strel_t *se,
                        reduce_fn red, uint8_t border)
{
    int x, y, k;
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++) {
            uint8_t acc = border == 0 ? 0 : 255;   /* identity of the reduction */
            for (k = 0; k < se->n; k++) {
                int sx = x + se->dx[k], sy = y + se->dy[k];
                uint8_t v = (sx < 0 || sy < 0 || sx >= W || sy >= H) ? border : src[sy][sx];
                acc = red(acc, v);
            }
            dst[y][x] = acc;
        }
}

static void erode(uint8_t (*d)[W], uint8_t (*s)[W], const strel_t *se) { morph_basic(d, s, se, min_u8, 255); }
static void dilate(uint8_t (*d)[W], uint8_t (*s)[W], const strel_t *se) { morph_basic(d, s, se, max_u8, 0); }

static void sub_sat(uint8_t (*d)[W], uint8_t (*a)[W], uint8_t (*b)[W])
{
    int x, y;
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++)
            d[y][x] = (uint8_t)(a[y][x] > b[y][x] ? a[y][x] - b[y][x] : 0);
}

/* result always ends in img_c; img_a is the (unchanged) source */
static void morphology_ex(morph_op_t op, const strel_t *se)
{
    switch (op) {
    case MORPH_ERODE:   erode(img_c, img_a, se); break;
    case MORPH_DILATE:  dilate(img_c, img_a, se); break;
    case MORPH_OPEN:    erode(img_b, img_a, se); dilate(img_c, img_b, se); break;
    case MORPH_CLOSE:   dilate(img_b, img_a, se); erode(img_c, img_b, se); break;
    case MORPH_GRADIENT:
        dilate(img_b, img_a, se); erode(img_d, img_a, se); sub_sat(img_c, img_b, img_d);
        break;
    case MORPH_TOPHAT:
        erode(img_b, img_a, se); dilate(img_d, img_b, se); sub_sat(img_c, img_a, img_d);
        break;
    case MORPH_BLACKHAT:
        dilate(img_b, img_a, se); erode(img_d, img_b, se); sub_sat(img_c, img_d, img_a);
        break;
    }
}

/* shift a packed row by s pixels (s>0: towards higher x), zero fill */
static void shift_row(uint64_t *out, const uint64_t *in, int s)
{
    int w;
    for (w = 0; w < WORDS; w++) {
        uint64_t v = 0;
        if (s == 0) {
            v = in[w];
        } else if (s > 0) {
            int ws = s / 64, bs = s % 64, src = w - ws;
            if (src >= 0) {
                v = bs ? in[src] << bs : in[src];
                if (bs && src - 1 >= 0)
                    v |= in[src - 1] >> (64 - bs);
            }
        } else {
            int t = -s, ws = t / 64, bs = t % 64, src = w + ws;
            if (src < WORDS) {
                v = bs ? in[src] >> bs : in[src];
                if (bs && src + 1 < WORDS)
                    v |= in[src + 1] << (64 - bs);
            }
        }
        out[w] = v;
    }
}

/* binary erosion (AND of shifted rows); outside the image counts as set */
static void binary_erode(uint64_t (*dst)[WORDS], uint64_t (*src)[WORDS], const strel_t *se)
{
    int y, k, w;
    uint64_t sh[WORDS];
    for (y = 0; y < H; y++) {
        for (w = 0; w < WORDS; w++)
            dst[y][w] = ~UINT64_C(0);
        for (k = 0; k < se->n; k++) {
            int sy = y + se->dy[k];
            if (sy < 0 || sy >= H)
                continue;
            /* dst(x) needs src(x+dx): shift row towards lower x by dx */
            shift_row(sh, src[sy], -se->dx[k]);
            if (se->dx[k] > 0) {
                /* bits shifted in from beyond the right edge are "outside": set them */
                int x;
                for (x = W - se->dx[k]; x < W; x++)
                    sh[x / 64] |= UINT64_C(1) << (x % 64);
            } else if (se->dx[k] < 0) {
                int x;
                for (x = 0; x < -se->dx[k]; x++)
                    sh[x / 64] |= UINT64_C(1) << (x % 64);
            }
            for (w = 0; w < WORDS; w++)
                dst[y][w] &= sh[w];
        }
    }
}

static int popcount64(uint64_t v)
{
    int c = 0;
    while (v) {
        v &= v - 1;
        c++;
    }
    return c;
}

static void synth(void)
{
    uint32_t s = 0xA5A5F00Du;
    int x, y;
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++) {
            int v = (x * 7 + y * 3) % 200;
            s ^= s << 13; s ^= s >> 17; s ^= s << 5;
            if ((s & 63u) == 0) v = 255;          /* salt */
            else if ((s & 63u) == 1) v = 0;       /* pepper */
            if ((x / 24 + y / 20) % 3 == 0) v = v / 3;
            img_a[y][x] = (uint8_t)v;
        }
    memset(bin_a, 0, sizeof bin_a);
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++)
            if (img_a[y][x] > 100)
                bin_a[y][x / 64] |= UINT64_C(1) << (x % 64);
}

static uint32_t hash_gray(uint8_t (*im)[W])
{
    uint32_t h = 0x811C9DC5u;
    int x, y;
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++)
            h = (h ^ im[y][x]) * 0x01000193u;
    return h;
}

int main(void)
{
    static const struct { shape_t shape; int kw, kh; } ses[] = {
        { SHAPE_RECT, 3, 3 }, { SHAPE_CROSS, 5, 5 }, { SHAPE_ELLIPSE, 7, 5 },
    };
    strel_t se;
    uint32_t h = 0;
    int s, op, y, w, ones;

    synth();
    for (s = 0; s < 3; s++) {
        make_strel(&se, ses[s].shape, ses[s].kw, ses[s].kh);
        for (op = MORPH_ERODE; op <= MORPH_BLACKHAT; op++) {
            uint32_t hh;
            morphology_ex((morph_op_t)op, &se);
            hh = hash_gray(img_c);
            h = (h * 31u) ^ hh;
            printf("se=%d(%dx%d,n=%d) op=%d hash=%08x\n", s, se.kw, se.kh, se.n, op, hh);
        }
        /* binary: erosion then dilation by duality (erode the complement) */
        binary_erode(bin_b, bin_a, &se);
        for (y = 0; y < H; y++)
            for (w = 0; w < WORDS; w++)
                bin_t[y][w] = ~bin_b[y][w];
        binary_erode(bin_b, bin_t, &se);
        ones = 0;
        for (y = 0; y < H; y++)
            for (w = 0; w < WORDS; w++) {
                uint64_t v = ~bin_b[y][w];
                ones += popcount64(v);
                h = (h ^ (uint32_t)v ^ (uint32_t)(v >> 32)) * 0x01000193u;
            }
        printf("se=%d binary open ones=%d\n", s, ones);
    }
    printf("checksum %08x\n", h);
    return 0;
}
