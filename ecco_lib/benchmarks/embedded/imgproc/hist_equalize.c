/* hist_equalize.c - colour-to-gray conversion, global histogram equalization
 * and tile-based contrast-limited adaptive equalization (CLAHE).
 * Modelled on OpenCV's cvtColor(RGB2GRAY) fixed-point path, equalizeHist and
 * CLAHE (per-tile clipped histograms, bilinear blending of tile LUTs). */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#define W      384
#define H      320
#define TILES_X 8
#define TILES_Y 8
#define GRAY_SHIFT 14
#define NFRAMES 4

typedef struct {
    uint8_t r, g, b;
} rgb_t;

typedef struct {
    uint32_t bins[256];
    uint32_t total;
} hist_t;

static rgb_t rgb[H][W];
static uint8_t gray[H][W], eq[H][W], clahe_out[H][W];
static uint8_t tile_lut[TILES_Y][TILES_X][256];

/* BT.601 weights in Q14, as in fixed-point colour conversion */
static const int32_t CR = 4899, CG = 9617, CB = 1868;

static uint64_t st = 0x853c49e6748fea9bULL;

static uint32_t pcg32(void)
{
    uint64_t old = st;
    uint32_t xorshifted, rot;
    st = old * 6364136223846793005ULL + 1442695040888963407ULL;
    xorshifted = (uint32_t)(((old >> 18) ^ old) >> 27);
    rot = (uint32_t)(old >> 59);
    return (xorshifted >> rot) | (xorshifted << ((32u - rot) & 31u));
}

/* low-contrast synthetic scene: everything squeezed into [70, 150] */
static void synth_rgb(void)
{
    int x, y;
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++) {
            uint32_t n = pcg32();
            int base = 70 + ((x * x + 3 * y * y) >> 11) % 50;
            int bump = ((x - 100) * (x - 100) + (y - 90) * (y - 90) < 2500) ? 25 : 0;
            int shade = (y > 180) ? -15 : 0;
            int v = base + bump + shade + (int)(n & 7u);
            rgb[y][x].r = (uint8_t)(v + (int)((n >> 3) & 15u));
            rgb[y][x].g = (uint8_t)v;
            rgb[y][x].b = (uint8_t)(v - (int)((n >> 7) & 15u));
        }
}

static void rgb_to_gray(void)
{
    int x, y;
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++) {
            const rgb_t *p = &rgb[y][x];
            int32_t v = p->r * CR + p->g * CG + p->b * CB;
            gray[y][x] = (uint8_t)((v + (1 << (GRAY_SHIFT - 1))) >> GRAY_SHIFT);
        }
}

static void calc_hist(hist_t *h, int x0, int y0, int x1, int y1)
{
    int x, y;
    memset(h, 0, sizeof *h);
    for (y = y0; y < y1; y++)
        for (x = x0; x < x1; x++)
            h->bins[gray[y][x]]++;
    h->total = (uint32_t)((x1 - x0) * (y1 - y0));
}

/* classic equalizeHist: lut[i] = round(255 * (cdf[i]-cdf_min)/(total-cdf_min)) */
static void equalize_global(void)
{
    hist_t h;
    uint8_t lut[256];
    uint32_t cdf = 0, first = 0;
    int i, x, y;
    calc_hist(&h, 0, 0, W, H);
    for (i = 0; i < 256; i++)
        if (h.bins[i]) {
            first = h.bins[i];
            break;
        }
    if (first == h.total) {
        for (i = 0; i < 256; i++)
            lut[i] = (uint8_t)i;
    } else {
        uint32_t denom = h.total - first;
        for (i = 0; i < 256; i++) {
            cdf += h.bins[i];
            lut[i] = (uint8_t)(cdf <= first ? 0 : ((uint64_t)(cdf - first) * 255u + denom / 2) / denom);
        }
    }
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++)
            eq[y][x] = lut[gray[y][x]];
}

/* clip histogram at limit and redistribute the excess uniformly */
static void clip_histogram(hist_t *h, uint32_t limit)
{
    uint32_t excess = 0, per, residual;
    int i;
    for (i = 0; i < 256; i++)
        if (h->bins[i] > limit) {
            excess += h->bins[i] - limit;
            h->bins[i] = limit;
        }
    per = excess / 256u;
    residual = excess - per * 256u;
    for (i = 0; i < 256; i++)
        h->bins[i] += per;
    if (residual) {
        uint32_t step = 256u / residual;
        if (step == 0)
            step = 1;
        for (i = 0; i < 256 && residual > 0; i += (int)step, residual--)
            h->bins[i]++;
    }
}

static void build_tile_luts(double clip_limit)
{
    int tx, ty, i;
    int tw = W / TILES_X, th = H / TILES_Y;
    for (ty = 0; ty < TILES_Y; ty++)
        for (tx = 0; tx < TILES_X; tx++) {
            hist_t h;
            uint32_t limit, sum = 0;
            float scale;
            calc_hist(&h, tx * tw, ty * th, (tx + 1) * tw, (ty + 1) * th);
            limit = (uint32_t)(clip_limit * (double)h.total / 256.0);
            if (limit < 1)
                limit = 1;
            clip_histogram(&h, limit);
            scale = 255.0f / (float)h.total;
            for (i = 0; i < 256; i++) {
                int v;
                sum += h.bins[i];
                v = (int)((float)sum * scale + 0.5f);
                tile_lut[ty][tx][i] = (uint8_t)(v > 255 ? 255 : v);
            }
        }
}

static void apply_clahe(void)
{
    int x, y;
    float inv_tw = 1.0f / (float)(W / TILES_X), inv_th = 1.0f / (float)(H / TILES_Y);
    for (y = 0; y < H; y++) {
        float tyf = (float)y * inv_th - 0.5f;
        int ty1 = tyf < 0.0f ? -1 : (int)tyf;
        int ty2 = ty1 + 1;
        float ya = tyf - (float)ty1, ya1 = 1.0f - ya;
        if (ty1 < 0) ty1 = 0;
        if (ty2 >= TILES_Y) ty2 = TILES_Y - 1;
        for (x = 0; x < W; x++) {
            float txf = (float)x * inv_tw - 0.5f;
            int tx1 = txf < 0.0f ? -1 : (int)txf;
            int tx2 = tx1 + 1;
            float xa = txf - (float)tx1, xa1 = 1.0f - xa;
            uint8_t g = gray[y][x];
            float res;
            int v;
            if (tx1 < 0) tx1 = 0;
            if (tx2 >= TILES_X) tx2 = TILES_X - 1;
            res = (tile_lut[ty1][tx1][g] * xa1 + tile_lut[ty1][tx2][g] * xa) * ya1 +
                  (tile_lut[ty2][tx1][g] * xa1 + tile_lut[ty2][tx2][g] * xa) * ya;
            v = (int)(res + 0.5f);
            clahe_out[y][x] = (uint8_t)(v > 255 ? 255 : v);
        }
    }
}

static void stats(uint8_t (*im)[W], const char *name, uint32_t *h)
{
    uint64_t sum = 0, sq = 0;
    int x, y, lo = 255, hi = 0;
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++) {
            int v = im[y][x];
            sum += (uint64_t)v;
            sq += (uint64_t)(v * v);
            if (v < lo) lo = v;
            if (v > hi) hi = v;
            *h = ((*h << 7) | (*h >> 25)) ^ (uint32_t)v;
        }
    printf("%-8s min %3d max %3d sum %llu sumsq %llu\n", name, lo, hi,
           (unsigned long long)sum, (unsigned long long)sq);
}

int main(void)
{
    static const double clips[] = { 1.5, 2.5, 4.0 };
    static const char *const names[] = { "clahe1.5", "clahe2.5", "clahe4.0" };
    uint32_t h = 0x1234567u;
    int c, f;

    for (f = 0; f < NFRAMES; f++) {
        printf("frame %d\n", f);
        synth_rgb();
        rgb_to_gray();
        stats(gray, "gray", &h);
        equalize_global();
        stats(eq, "equalize", &h);
        for (c = 0; c < 3; c++) {
            build_tile_luts(clips[c]);
            apply_clahe();
            stats(clahe_out, names[c], &h);
        }
    }
    printf("checksum %08x\n", h);
    return 0;
}
