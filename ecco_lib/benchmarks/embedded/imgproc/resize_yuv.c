/* resize_yuv.c - RGB->YUV420 conversion, bilinear plane resizing and
 * YUV420->RGB reconstruction with saturation.
 * Modelled on OpenCV's cvtColor (BT.601 integer coefficients) and
 * resize(INTER_LINEAR) for 8-bit data: precomputed source offsets and Q11
 * interpolation weights, a horizontal pass into cached integer rows and a
 * vertical blend with rounding. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#define SW 320
#define SH 240
#define COEF_BITS 11
#define COEF_SCALE (1 << COEF_BITS)
#define MAXD 640
#define NFRAMES 3

typedef struct {
    int w, h;
    uint8_t *p;
} plane_t;

typedef struct {
    int dw, dh;
    int xofs[MAXD], yofs[MAXD];
    int16_t alpha[MAXD][2], beta[MAXD][2];
} resize_plan_t;

static uint8_t src_rgb[SH][SW][3];
static uint8_t ybuf[SH * SW], ubuf[(SH / 2) * (SW / 2)], vbuf[(SH / 2) * (SW / 2)];
static int32_t rowbuf[2][MAXD];

static uint8_t sat_u8(int v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static void synth(int frame)
{
    uint32_t s = 2463534242u + (uint32_t)frame * 7919u;
    int x, y;
    for (y = 0; y < SH; y++)
        for (x = 0; x < SW; x++) {
            s ^= s << 13; s ^= s >> 17; s ^= s << 5;
            src_rgb[y][x][0] = sat_u8((x * 255) / SW + (int)(s & 15u) - 8);
            src_rgb[y][x][1] = sat_u8((y * 255) / SH + (int)((s >> 4) & 15u) - 8);
            src_rgb[y][x][2] = (uint8_t)((((x + 7 * frame) / 20 + (y + 3 * frame) / 20) & 1) ? 220 : 35);
        }
}

/* BT.601 studio-swing RGB -> YUV 4:2:0 (chroma averaged over 2x2) */
static void rgb_to_yuv420(void)
{
    int x, y;
    for (y = 0; y < SH; y++)
        for (x = 0; x < SW; x++) {
            int r = src_rgb[y][x][0], g = src_rgb[y][x][1], b = src_rgb[y][x][2];
            ybuf[y * SW + x] = (uint8_t)(((66 * r + 129 * g + 25 * b + 128) >> 8) + 16);
        }
    for (y = 0; y < SH / 2; y++)
        for (x = 0; x < SW / 2; x++) {
            int r = 0, g = 0, b = 0, dy, dx;
            for (dy = 0; dy < 2; dy++)
                for (dx = 0; dx < 2; dx++) {
                    r += src_rgb[2 * y + dy][2 * x + dx][0];
                    g += src_rgb[2 * y + dy][2 * x + dx][1];
                    b += src_rgb[2 * y + dy][2 * x + dx][2];
                }
            r = (r + 2) / 4; g = (g + 2) / 4; b = (b + 2) / 4;
            /* add 128<<8 bias before shifting so operands stay non-negative */
            ubuf[y * (SW / 2) + x] = sat_u8((-38 * r - 74 * g + 112 * b + 128 + (128 << 8)) >> 8);
            vbuf[y * (SW / 2) + x] = sat_u8((112 * r - 94 * g - 18 * b + 128 + (128 << 8)) >> 8);
        }
}

static void compute_axis(int ssize, int dsize, int *ofs, int16_t (*w)[2])
{
    double scale = (double)ssize / (double)dsize;
    int d;
    for (d = 0; d < dsize; d++) {
        double f = (d + 0.5) * scale - 0.5;
        int s = (int)floor(f);
        int a0;
        f -= s;
        if (s < 0) {
            s = 0;
            f = 0.0;
        }
        if (s >= ssize - 1) {
            s = ssize - 1;
            f = 0.0;
        }
        ofs[d] = s;
        a0 = (int)lrint((1.0 - f) * COEF_SCALE);
        w[d][0] = (int16_t)a0;
        w[d][1] = (int16_t)(COEF_SCALE - a0);
    }
}

static void hresize_row(const uint8_t *srow, int sw, const resize_plan_t *pl, int32_t *out)
{
    int x;
    for (x = 0; x < pl->dw; x++) {
        int sx = pl->xofs[x];
        int sx1 = sx + 1 < sw ? sx + 1 : sx;
        out[x] = srow[sx] * pl->alpha[x][0] + srow[sx1] * pl->alpha[x][1];
    }
}

static void resize_plane(const plane_t *s, plane_t *d, resize_plan_t *pl)
{
    int y, x, cached[2] = { -1, -1 };
    pl->dw = d->w;
    pl->dh = d->h;
    compute_axis(s->w, d->w, pl->xofs, pl->alpha);
    compute_axis(s->h, d->h, pl->yofs, pl->beta);
    for (y = 0; y < d->h; y++) {
        int sy0 = pl->yofs[y];
        int sy1 = sy0 + 1 < s->h ? sy0 + 1 : sy0;
        int need[2], k;
        need[0] = sy0;
        need[1] = sy1;
        for (k = 0; k < 2; k++) {
            if (cached[k] == need[k])
                continue;
            /* reuse the other slot if it already holds the row */
            if (cached[1 - k] == need[k]) {
                memcpy(rowbuf[k], rowbuf[1 - k], sizeof(int32_t) * (size_t)d->w);
            } else {
                hresize_row(s->p + (size_t)need[k] * (size_t)s->w, s->w, pl, rowbuf[k]);
            }
            cached[k] = need[k];
        }
        for (x = 0; x < d->w; x++) {
            int64_t v = (int64_t)rowbuf[0][x] * pl->beta[y][0] +
                        (int64_t)rowbuf[1][x] * pl->beta[y][1];
            d->p[(size_t)y * (size_t)d->w + x] = sat_u8((int)((v + (1 << (2 * COEF_BITS - 1))) >> (2 * COEF_BITS)));
        }
    }
}

/* YUV420 -> RGB with floor-division emulated by a positive bias */
static uint32_t yuv420_to_rgb_hash(const plane_t *yp, const plane_t *up, const plane_t *vp)
{
    uint32_t h = 0x811C9DC5u;
    int x, y;
    for (y = 0; y < yp->h; y++)
        for (x = 0; x < yp->w; x++) {
            int cx = x / 2 < up->w ? x / 2 : up->w - 1;
            int cy = y / 2 < up->h ? y / 2 : up->h - 1;
            int C = yp->p[y * yp->w + x] - 16;
            int D = up->p[cy * up->w + cx] - 128;
            int E = vp->p[cy * vp->w + cx] - 128;
            int r = ((298 * C + 409 * E + 128 + (1 << 17)) >> 8) - 512;
            int g = ((298 * C - 100 * D - 208 * E + 128 + (1 << 17)) >> 8) - 512;
            int b = ((298 * C + 516 * D + 128 + (1 << 17)) >> 8) - 512;
            h = (h ^ sat_u8(r)) * 16777619u;
            h = (h ^ sat_u8(g)) * 16777619u;
            h = (h ^ sat_u8(b)) * 16777619u;
        }
    return h;
}

/* convert one frame and resize it to every target size; returns mixed hash */
static uint32_t process_frame(int frame, uint32_t h)
{
    static const int targets[][2] = { { 240, 180 }, { 160, 120 }, { 533, 400 }, { 100, 77 }, { 640, 480 } };
    static resize_plan_t plan;
    plane_t ys = { SW, SH, ybuf }, us = { SW / 2, SH / 2, ubuf }, vs = { SW / 2, SH / 2, vbuf };
    size_t t;

    synth(frame);
    rgb_to_yuv420();
    for (t = 0; t < sizeof targets / sizeof targets[0]; t++) {
        int dw = targets[t][0], dh = targets[t][1];
        int cw = (dw + 1) / 2, ch = (dh + 1) / 2;
        plane_t yd, ud, vd;
        uint32_t hh;
        yd.w = dw; yd.h = dh; yd.p = (uint8_t *)malloc((size_t)dw * (size_t)dh);
        ud.w = cw; ud.h = ch; ud.p = (uint8_t *)malloc((size_t)cw * (size_t)ch);
        vd.w = cw; vd.h = ch; vd.p = (uint8_t *)malloc((size_t)cw * (size_t)ch);
        if (yd.p && ud.p && vd.p) {
            resize_plane(&ys, &yd, &plan);
            resize_plane(&us, &ud, &plan);
            resize_plane(&vs, &vd, &plan);
            hh = yuv420_to_rgb_hash(&yd, &ud, &vd);
            printf("frame %d %3dx%3d -> %3dx%3d rgb hash %08x y[0]=%d y[mid]=%d\n", frame, SW, SH,
                   dw, dh, hh, yd.p[0], yd.p[(dh / 2) * dw + dw / 2]);
            h = (h * 0x9E3779B1u) ^ hh;
        } else {
            printf("alloc failed\n");
        }
        free(yd.p);
        free(ud.p);
        free(vd.p);
    }
    return h;
}

int main(void)
{
    uint32_t h = 0;
    int frame;

    for (frame = 0; frame < NFRAMES; frame++)
        h = process_frame(frame, h);
    printf("checksum %08x\n", h);
    return 0;
}
