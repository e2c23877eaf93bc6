/* gaussian_blur.c - separable Gaussian blur of 8-bit images in fixed point.
 * Modelled on OpenCV's GaussianBlur/sepFilter2D for CV_8U: kernels are built
 * from sigma and quantised to Q8 integers, rows and columns are filtered in
 * two passes with selectable border modes (replicate/reflect/reflect101/wrap). */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

#define W        384
#define H        256
#define MAXK     31
#define QBITS    8

typedef enum { BORDER_REPLICATE, BORDER_REFLECT, BORDER_REFLECT101, BORDER_WRAP } border_t;

typedef struct {
    int ksize;
    int anchor;
    int32_t coef[MAXK];   /* Q8 weights, sum == 256 */
} kernel_t;

typedef struct {
    int w, h, stride;
    uint8_t *data;
} image_t;

static uint8_t src_pix[H * W], dst_pix[H * W];
static uint16_t tmp_row[H * W];   /* horizontal pass output, Q8 scaled */

static uint32_t rng = 0xC0FFEE11u;

static uint32_t xs32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* map an out-of-range coordinate back into [0, len) */
static int border_interp(int p, int len, border_t mode)
{
    if (p >= 0 && p < len)
        return p;
    switch (mode) {
    case BORDER_REPLICATE:
        return p < 0 ? 0 : len - 1;
    case BORDER_REFLECT:
        do {
            if (p < 0)
                p = -p - 1;
            else
                p = 2 * len - p - 1;
        } while (p < 0 || p >= len);
        return p;
    case BORDER_REFLECT101:
        if (len == 1)
            return 0;
        do {
            if (p < 0)
                p = -p;
            else
                p = 2 * len - p - 2;
        } while (p < 0 || p >= len);
        return p;
    case BORDER_WRAP:
    default:
        p %= len;
        if (p < 0)
            p += len;
        return p;
    }
}

static void make_gaussian(kernel_t *k, int ksize, double sigma)
{
    double w[MAXK], sum = 0.0;
    int i, isum = 0, c = ksize / 2;
    if (sigma <= 0.0)
        sigma = 0.3 * ((ksize - 1) * 0.5 - 1.0) + 0.8;
    for (i = 0; i < ksize; i++) {
        double x = (double)(i - c);
        w[i] = exp(-(x * x) / (2.0 * sigma * sigma));
        sum += w[i];
    }
    for (i = 0; i < ksize; i++) {
        k->coef[i] = (int32_t)floor(w[i] / sum * (1 << QBITS) + 0.5);
        isum += k->coef[i];
    }
    /* fix rounding so weights sum exactly to 1.0 in Q8: adjust centre tap */
    k->coef[c] += (1 << QBITS) - isum;
    k->ksize = ksize;
    k->anchor = c;
}

static void synth_image(image_t *im)
{
    int x, y;
    for (y = 0; y < im->h; y++)
        for (x = 0; x < im->w; x++) {
            int v = ((x * 3) ^ (y * 5)) & 0xff;
            int cx = x - im->w / 2, cy = y - im->h / 2;
            if (cx * cx + cy * cy < 60 * 60)
                v = 255 - v / 2;
            if ((x / 16 + y / 16) & 1)
                v = (v + 64) & 0xff;
            v += (int)(xs32() % 33u) - 16;
            if (v < 0) v = 0;
            if (v > 255) v = 255;
            im->data[y * im->stride + x] = (uint8_t)v;
        }
}

static void filter_rows(const image_t *s, const kernel_t *k, border_t mode)
{
    int x, y, i;
    int xofs[W + MAXK];
    for (i = 0; i < s->w + k->ksize - 1; i++)
        xofs[i] = border_interp(i - k->anchor, s->w, mode);
    for (y = 0; y < s->h; y++) {
        const uint8_t *row = s->data + y * s->stride;
        uint16_t *out = tmp_row + y * s->w;
        for (x = 0; x < s->w; x++) {
            int32_t acc = 0;
            for (i = 0; i < k->ksize; i++)
                acc += k->coef[i] * row[xofs[x + i]];
            out[x] = (uint16_t)acc;   /* max 255*256 fits in 16 bits */
        }
    }
}

static void filter_cols(image_t *d, const kernel_t *k, border_t mode)
{
    int x, y, i;
    const uint16_t *rows[MAXK];
    for (y = 0; y < d->h; y++) {
        uint8_t *out = d->data + y * d->stride;
        for (i = 0; i < k->ksize; i++)
            rows[i] = tmp_row + border_interp(y + i - k->anchor, d->h, mode) * d->w;
        for (x = 0; x < d->w; x++) {
            uint32_t acc = 1u << (2 * QBITS - 1);   /* rounding */
            for (i = 0; i < k->ksize; i++)
                acc += (uint32_t)k->coef[i] * rows[i][x];
            acc >>= 2 * QBITS;
            out[x] = (uint8_t)(acc > 255u ? 255u : acc);
        }
    }
}

static void gaussian_blur(const image_t *s, image_t *d, int ksize, double sigma, border_t mode)
{
    kernel_t k;
    make_gaussian(&k, ksize, sigma);
    filter_rows(s, &k, mode);
    filter_cols(d, &k, mode);
}

static uint32_t adler_image(const image_t *im)
{
    uint32_t a = 1, b = 0;
    int x, y;
    for (y = 0; y < im->h; y++)
        for (x = 0; x < im->w; x++) {
            a = (a + im->data[y * im->stride + x]) % 65521u;
            b = (b + a) % 65521u;
        }
    return (b << 16) | a;
}

static double mean_abs_diff(const image_t *a, const image_t *b)
{
    uint64_t s = 0;
    int i;
    for (i = 0; i < a->w * a->h; i++)
        s += (uint64_t)(a->data[i] > b->data[i] ? a->data[i] - b->data[i] : b->data[i] - a->data[i]);
    return (double)s / (double)(a->w * a->h);
}

int main(void)
{
    image_t src = { W, H, W, src_pix }, dst = { W, H, W, dst_pix };
    static const struct { int ksize; double sigma; border_t mode; } cfg[] = {
        { 3, 0.0, BORDER_REFLECT101 },
        { 5, 1.1, BORDER_REPLICATE },
        { 7, 0.0, BORDER_REFLECT },
        { 11, 2.5, BORDER_WRAP },
        { 15, 3.0, BORDER_REFLECT101 },
    };
    uint32_t h = 0;
    size_t c;

    synth_image(&src);
    for (c = 0; c < sizeof cfg / sizeof cfg[0]; c++) {
        uint32_t a;
        gaussian_blur(&src, &dst, cfg[c].ksize, cfg[c].sigma, cfg[c].mode);
        a = adler_image(&dst);
        h = (h ^ a) * 0x01000193u;
        printf("k=%2d sigma=%.2f border=%d adler=%08x mad=%.4f\n", cfg[c].ksize,
               cfg[c].sigma, (int)cfg[c].mode, a, mean_abs_diff(&src, &dst));
    }
    /* repeated blur converges towards a smooth image */
    memcpy(src_pix, dst_pix, sizeof src_pix);
    gaussian_blur(&src, &dst, 9, 0.0, BORDER_REFLECT101);
    h = (h ^ adler_image(&dst)) * 0x01000193u;
    printf("checksum %08x\n", h);
    return 0;
}
