/* SUSAN-style low level image processing on a synthetic 8-bit image:
 * brightness-similarity lookup table, USAN area over a 37-pixel circular
 * mask, centroid test, corner response and 5x5 non-maximum suppression,
 * plus USAN-weighted smoothing. Modelled on the MiBench/cBench "susan" code. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

#define W 96
#define H 96
#define MAX_CORNERS 1024

typedef struct {
    int x, y, r;
    int dx, dy;
} corner_t;

static uint8_t img[H][W];
static uint8_t smooth[H][W];
static int response[H][W];
static unsigned char bp_table[516]; /* indexed by (diff + 258) */
static corner_t corners[MAX_CORNERS];

/* offsets of the 37-pixel circular mask (radius ~3.4) */
static const signed char mask_dx[37] = {-1, 0, 1, -2, -1, 0, 1, 2, -3, -2, -1, 0, 1,
                                        2,  3, -3, -2, -1, 1, 2, 3, -3, -2, -1, 0,
                                        1,  2, 3,  -2, -1, 0, 1, 2, -1, 0,  1, 0};
static const signed char mask_dy[37] = {-3, -3, -3, -2, -2, -2, -2, -2, -1, -1, -1, -1, -1,
                                        -1, -1, 0,  0,  0,  0,  0,  0,  1,  1,  1,  1,
                                        1,  1,  1,  2,  2,  2,  2,  2,  3,  3,  3,  0};

static void setup_brightness_lut(int thresh, int form)
{
    for (int k = -256; k < 258; k++) {
        double t = (double)k / (double)thresh;
        t = t * t;
        if (form == 6)
            t = t * t * t;
        bp_table[k + 258] = (unsigned char)(100.0 * exp(-t));
    }
}

static uint32_t prng = 99u;

static int noise(int amp)
{
    prng = prng * 1664525u + 1013904223u;
    return (int)((prng >> 24) % (unsigned)(2 * amp + 1)) - amp;
}

static void draw_scene(int frame)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int v = 40 + (x + y) / 8;
            int cx = x - 60 - frame, cy = y - 30;
            if (x >= 10 + frame && x < 40 + frame && y >= 12 && y < 50)
                v = 200; /* rectangle */
            else if (y > 55 && y < 90 && x > 15 && x - 15 < (y - 55) * 2)
                v = 150; /* triangle */
            else if (cx * cx + cy * cy < 14 * 14)
                v = 90; /* disc */
            if ((x / 6 + y / 6) % 2 == 0 && x > 60 && y > 60)
                v += 60; /* checkerboard patch */
            v += noise(3);
            img[y][x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
}

static int usan_at(int x, int y, int *sx, int *sy)
{
    const unsigned char *cp = bp_table + 258 + img[y][x];
    int n = 100, cxs = 0, cys = 0;
    for (int k = 0; k < 36; k++) {
        int px = x + mask_dx[k], py = y + mask_dy[k];
        int c = cp[-(int)img[py][px]];
        n += c;
        cxs += c * mask_dx[k];
        cys += c * mask_dy[k];
    }
    *sx = cxs;
    *sy = cys;
    return n;
}

static int detect_corners(int max_no)
{
    int ncorn = 0;
    memset(response, 0, sizeof response);
    for (int y = 3; y < H - 3; y++)
        for (int x = 3; x < W - 3; x++) {
            int sx, sy, n = usan_at(x, y, &sx, &sy);
            if (n >= max_no)
                continue;
            /* centroid must be far enough from the nucleus */
            int dist2 = (sx * sx + sy * sy);
            int nn = n * n;
            if (dist2 * 4 <= nn / 4)
                continue;
            /* check pixels along the direction to the centroid are in the USAN */
            int dx = sx * 3 > n ? 1 : (sx * 3 < -n ? -1 : 0);
            int dy = sy * 3 > n ? 1 : (sy * 3 < -n ? -1 : 0);
            const unsigned char *cp = bp_table + 258 + img[y][x];
            if (cp[-(int)img[y + dy][x + dx]] < 50 || cp[-(int)img[y + 2 * dy][x + 2 * dx]] < 50)
                continue;
            response[y][x] = max_no - n;
        }
    /* 5x5 non maximum suppression */
    for (int y = 5; y < H - 5; y++)
        for (int x = 5; x < W - 5; x++) {
            int r = response[y][x];
            if (r <= 0)
                continue;
            int is_max = 1;
            for (int j = -2; j <= 2 && is_max; j++)
                for (int i = -2; i <= 2; i++) {
                    if (i == 0 && j == 0)
                        continue;
                    int o = response[y + j][x + i];
                    /* ties resolved towards the earlier pixel in raster order */
                    if (o > r || (o == r && (j < 0 || (j == 0 && i < 0)))) {
                        is_max = 0;
                        break;
                    }
                }
            if (is_max && ncorn < MAX_CORNERS) {
                corner_t *c = &corners[ncorn++];
                c->x = x;
                c->y = y;
                c->r = r;
                (void)usan_at(x, y, &c->dx, &c->dy);
            }
        }
    return ncorn;
}

/* USAN smoothing: brightness-similarity weighted mean over a 5x5 window */
static void susan_smooth(void)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            if (y < 2 || y >= H - 2 || x < 2 || x >= W - 2) {
                smooth[y][x] = img[y][x];
                continue;
            }
            const unsigned char *cp = bp_table + 258 + img[y][x];
            int total = 0, area = 0;
            for (int j = -2; j <= 2; j++)
                for (int i = -2; i <= 2; i++) {
                    if (i == 0 && j == 0)
                        continue;
                    int p = img[y + j][x + i];
                    int wgt = cp[-p] * (j * j + i * i <= 4 ? 2 : 1);
                    area += wgt;
                    total += wgt * p;
                }
            if (area == 0)
                smooth[y][x] = img[y][x]; /* no similar neighbours: keep the original pixel */
            else
                smooth[y][x] = (uint8_t)((total + area / 2) / area);
        }
}

int main(void)
{
    uint32_t h = 0x811c9dc5u;
    int total_corners = 0;

    setup_brightness_lut(20, 6);
    for (int frame = 0; frame < 14; frame++) {
        draw_scene(frame);
        susan_smooth();
        memcpy(img, smooth, sizeof img);
        int n = detect_corners(1850);
        total_corners += n;
        for (int i = 0; i < n; i++) {
            const corner_t *c = &corners[i];
            h = (h ^ (uint32_t)(c->y * W + c->x)) * 16777619u;
            h = (h ^ (uint32_t)c->r ^ ((uint32_t)c->dx << 12) ^ ((uint32_t)c->dy << 20)) * 16777619u;
        }
        for (int y = 0; y < H; y += 3)
            for (int x = 0; x < W; x += 3)
                h = (h ^ smooth[y][x]) * 16777619u;
    }
    printf("corners %d\n", total_corners);
    printf("checksum %08x\n", h);
    return 0;
}
