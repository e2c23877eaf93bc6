/* sobel_canny.c - Sobel gradients and Canny edge detection on an 8-bit image.
 * Modelled on OpenCV's Sobel (CV_16S) and Canny: 3x3 derivative filters,
 * L1/L2 gradient magnitude, non-maximum suppression using the fixed-point
 * tan(22.5 deg) sector test, and stack-based hysteresis edge tracking. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

#define W 640
#define H 400

enum { NOT_EDGE = 0, CAND_EDGE = 1, EDGE = 2 };

typedef struct {
    int low, high;
    int l2gradient;
} canny_cfg_t;

typedef struct {
    int edges;
    int strong;
    uint32_t hash;
} canny_stats_t;

static uint8_t img[H][W];
static int16_t gx[H][W], gy[H][W];
static int32_t mag[H + 2][W + 2];          /* zero-padded magnitude */
static uint8_t emap[H + 2][W + 2];         /* padded edge classification */
static int32_t stack_buf[(H + 2) * (W + 2)];

static uint32_t seed = 12345u;

static uint32_t lcg(void)
{
    seed = seed * 1664525u + 1013904223u;
    return seed >> 8;
}

static void draw_scene(void)
{
    int x, y;
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++) {
            int v = 40 + (x + y) / 8;
            /* filled rectangle */
            if (x >= 30 && x < 130 && y >= 40 && y < 120)
                v = 200;
            /* ring */
            {
                int dx = x - 220, dy = y - 150;
                int r2 = dx * dx + dy * dy;
                if (r2 < 70 * 70 && r2 > 45 * 45)
                    v = 170;
            }
            /* triangle from three half planes */
            if (y > 140 && y < 230 && (x - 40) > (230 - y) / 2 && (x - 40) < (y - 140))
                v = 90;
            v += (int)(lcg() % 21u) - 10;
            img[y][x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
}

static inline int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void sobel3x3(void)
{
    int x, y;
    for (y = 0; y < H; y++) {
        int ym = clampi(y - 1, 0, H - 1), yp = clampi(y + 1, 0, H - 1);
        for (x = 0; x < W; x++) {
            int xm = clampi(x - 1, 0, W - 1), xp = clampi(x + 1, 0, W - 1);
            int dx = (img[ym][xp] + 2 * img[y][xp] + img[yp][xp]) -
                     (img[ym][xm] + 2 * img[y][xm] + img[yp][xm]);
            int dy = (img[yp][xm] + 2 * img[yp][x] + img[yp][xp]) -
                     (img[ym][xm] + 2 * img[ym][x] + img[ym][xp]);
            gx[y][x] = (int16_t)dx;
            gy[y][x] = (int16_t)dy;
        }
    }
}

static void magnitude(int l2)
{
    int x, y;
    memset(mag, 0, sizeof mag);
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++) {
            int dx = gx[y][x], dy = gy[y][x];
            mag[y + 1][x + 1] = l2 ? dx * dx + dy * dy : abs(dx) + abs(dy);
        }
}

/* classify each pixel after non-maximum suppression */
static void nonmax(int low, int high)
{
    const uint32_t TG22 = 13573u;   /* tan(22.5deg) * 2^15 */
    int x, y;
    memset(emap, NOT_EDGE, sizeof emap);
    for (y = 1; y <= H; y++)
        for (x = 1; x <= W; x++) {
            int32_t m = mag[y][x];
            int dx, dy, keep = 0;
            uint32_t ax, ay, tg22x, tg67x;
            if (m <= low)
                continue;
            dx = gx[y - 1][x - 1];
            dy = gy[y - 1][x - 1];
            ax = (uint32_t)abs(dx);
            ay = (uint32_t)abs(dy) << 15;
            tg22x = ax * TG22;
            tg67x = tg22x + (ax << 16);
            if (ay < tg22x) {
                keep = m > mag[y][x - 1] && m >= mag[y][x + 1];
            } else if (ay > tg67x) {
                keep = m > mag[y - 1][x] && m >= mag[y + 1][x];
            } else {
                int s = ((dx ^ dy) < 0) ? -1 : 1;
                keep = m > mag[y - 1][x - s] && m > mag[y + 1][x + s];
            }
            if (keep)
                emap[y][x] = (m > high) ? EDGE : CAND_EDGE;
        }
}

/* promote candidates connected (8-neighbourhood) to strong edges */
static int hysteresis(void)
{
    int sp = 0, x, y, promoted = 0;
    static const int off[8][2] = { { -1, -1 }, { -1, 0 }, { -1, 1 }, { 0, -1 },
                                   { 0, 1 }, { 1, -1 }, { 1, 0 }, { 1, 1 } };
    for (y = 1; y <= H; y++)
        for (x = 1; x <= W; x++)
            if (emap[y][x] == EDGE)
                stack_buf[sp++] = y * (W + 2) + x;
    while (sp > 0) {
        int p = stack_buf[--sp];
        int py = p / (W + 2), px = p % (W + 2), k;
        for (k = 0; k < 8; k++) {
            int ny = py + off[k][0], nx = px + off[k][1];
            if (emap[ny][nx] == CAND_EDGE) {
                emap[ny][nx] = EDGE;
                stack_buf[sp++] = ny * (W + 2) + nx;
                promoted++;
            }
        }
    }
    return promoted;
}

static canny_stats_t canny(const canny_cfg_t *cfg)
{
    canny_stats_t st;
    int x, y, low = cfg->low, high = cfg->high;
    if (cfg->l2gradient) {
        low = low * low;
        high = high * high;
    }
    magnitude(cfg->l2gradient);
    nonmax(low, high);
    st.strong = 0;
    for (y = 1; y <= H; y++)
        for (x = 1; x <= W; x++)
            st.strong += emap[y][x] == EDGE;
    hysteresis();
    st.edges = 0;
    st.hash = 2166136261u;
    for (y = 1; y <= H; y++)
        for (x = 1; x <= W; x++) {
            int e = emap[y][x] == EDGE;
            st.edges += e;
            st.hash = (st.hash ^ (uint32_t)(e ? (y * W + x) : 0)) * 16777619u;
        }
    return st;
}

static uint32_t gradient_hash(void)
{
    uint32_t h = 0;
    int x, y;
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++) {
            h = (h << 5) | (h >> 27);
            h ^= (uint32_t)(uint16_t)gx[y][x] * 31u + (uint32_t)(uint16_t)gy[y][x];
        }
    return h;
}

int main(void)
{
    static const canny_cfg_t cfgs[] = {
        { 40, 120, 0 }, { 60, 180, 0 }, { 30, 90, 1 }, { 50, 150, 1 },
    };
    uint32_t h;
    size_t i;

    draw_scene();
    sobel3x3();
    h = gradient_hash();
    printf("sobel hash %08x\n", h);
    for (i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++) {
        canny_stats_t st = canny(&cfgs[i]);
        printf("canny low=%d high=%d l2=%d strong=%d edges=%d hash=%08x\n",
               cfgs[i].low, cfgs[i].high, cfgs[i].l2gradient, st.strong, st.edges, st.hash);
        h = (h ^ st.hash) * 0x9E3779B1u + (uint32_t)st.edges;
    }
    printf("checksum %08x\n", h);
    return 0;
}
