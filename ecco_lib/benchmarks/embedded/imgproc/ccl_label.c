/* ccl_label.c - connected-components labeling with statistics.
 * Modelled on OpenCV's connectedComponentsWithStats: a thresholded synthetic
 * blob image is labeled in two raster passes with a union-find equivalence
 * table (union by rank, recursive path compression) for 4- and 8-connectivity,
 * then per-component area, bounding box, centroid and perimeter are gathered. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#define W 640
#define H 480
#define MAXLAB (W * H / 2 + 2)

typedef struct {
    int left, top, right, bottom;
    uint32_t area;
    uint64_t sumx, sumy;
    uint32_t perimeter;
} comp_stats_t;

typedef struct {
    uint32_t parent[MAXLAB];
    uint8_t rank[MAXLAB];
    uint32_t count;
} uf_t;

static uint8_t gray[H][W], bin[H][W];
static uint32_t labels[H][W];
static uf_t uf;
static uint32_t remap[MAXLAB];
static comp_stats_t stats[MAXLAB];

static uint32_t seed = 99991u;

static uint32_t next_u32(void)
{
    seed = seed * 1103515245u + 12345u;
    return (seed >> 16) | (seed << 16);
}

static void draw_blobs(void)
{
    int b, x, y;
    memset(gray, 0, sizeof gray);
    for (b = 0; b < 240; b++) {
        int cx = (int)(next_u32() % W), cy = (int)(next_u32() % H);
        int rx = 3 + (int)(next_u32() % 18u), ry = 3 + (int)(next_u32() % 14u);
        int val = 80 + (int)(next_u32() % 176u);
        int hole = (next_u32() & 3u) == 0;
        for (y = cy - ry; y <= cy + ry; y++) {
            if (y < 0 || y >= H)
                continue;
            for (x = cx - rx; x <= cx + rx; x++) {
                int dx = x - cx, dy = y - cy;
                int64_t lhs, rhs;
                if (x < 0 || x >= W)
                    continue;
                lhs = (int64_t)dx * dx * ry * ry + (int64_t)dy * dy * rx * rx;
                rhs = (int64_t)rx * rx * ry * ry;
                if (lhs <= rhs) {
                    if (hole && 4 * lhs <= rhs)
                        gray[y][x] = 0;       /* ring-shaped blob */
                    else if (gray[y][x] < val)
                        gray[y][x] = (uint8_t)val;
                }
            }
        }
    }
    /* salt noise creates many tiny components */
    for (b = 0; b < 3600; b++) {
        uint32_t r = next_u32();
        gray[(r >> 9) % H][r % W] = 200;
    }
}

static void threshold(uint8_t t)
{
    int x, y;
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++)
            bin[y][x] = gray[y][x] > t;
}

static uint32_t uf_new(uf_t *u)
{
    uint32_t id = u->count++;
    u->parent[id] = id;
    u->rank[id] = 0;
    return id;
}

static uint32_t uf_find(uf_t *u, uint32_t a)
{
    if (u->parent[a] != a)
        u->parent[a] = uf_find(u, u->parent[a]);
    return u->parent[a];
}

static uint32_t uf_union(uf_t *u, uint32_t a, uint32_t b)
{
    a = uf_find(u, a);
    b = uf_find(u, b);
    if (a == b)
        return a;
    if (u->rank[a] < u->rank[b]) {
        uint32_t t = a; a = b; b = t;
    }
    u->parent[b] = a;
    if (u->rank[a] == u->rank[b])
        u->rank[a]++;
    return a;
}

/* first pass: provisional labels from already-visited neighbours */
static void first_pass(int connectivity)
{
    static const int nb8[4][2] = { { 0, -1 }, { -1, -1 }, { -1, 0 }, { -1, 1 } };
    int x, y, k, nnb = connectivity == 8 ? 4 : 2;
    uf.count = 0;
    uf_new(&uf);   /* label 0 = background */
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++) {
            uint32_t lab = 0;
            if (!bin[y][x]) {
                labels[y][x] = 0;
                continue;
            }
            for (k = 0; k < nnb; k++) {
                /* 4-connectivity uses left and up: entries 0 and 2 */
                int idx = (connectivity == 8) ? k : k * 2;
                int ny = y + nb8[idx][0], nx = x + nb8[idx][1];
                uint32_t nl;
                if (ny < 0 || nx < 0 || nx >= W)
                    continue;
                nl = labels[ny][nx];
                if (nl == 0)
                    continue;
                lab = lab == 0 ? nl : uf_union(&uf, lab, nl);
            }
            if (lab == 0)
                lab = uf_new(&uf);
            labels[y][x] = lab;
        }
}

static uint32_t second_pass(void)
{
    uint32_t i, n = 0;
    int x, y;
    remap[0] = 0;
    for (i = 1; i < uf.count; i++) {
        uint32_t r = uf_find(&uf, i);
        if (r == i)
            remap[i] = ++n;
    }
    for (i = 1; i < uf.count; i++)
        remap[i] = remap[uf_find(&uf, i)];
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++)
            labels[y][x] = remap[labels[y][x]];
    return n;
}

static void gather_stats(uint32_t n)
{
    uint32_t i;
    int x, y;
    for (i = 1; i <= n; i++) {
        stats[i].left = W; stats[i].top = H; stats[i].right = -1; stats[i].bottom = -1;
        stats[i].area = 0; stats[i].sumx = stats[i].sumy = 0; stats[i].perimeter = 0;
    }
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++) {
            uint32_t l = labels[y][x];
            comp_stats_t *s;
            if (l == 0)
                continue;
            s = &stats[l];
            s->area++;
            s->sumx += (uint64_t)x;
            s->sumy += (uint64_t)y;
            if (x < s->left) s->left = x;
            if (x > s->right) s->right = x;
            if (y < s->top) s->top = y;
            if (y > s->bottom) s->bottom = y;
            /* boundary pixel: any 4-neighbour outside or with another label */
            if (x == 0 || y == 0 || x == W - 1 || y == H - 1 || labels[y][x - 1] != l ||
                labels[y][x + 1] != l || labels[y - 1][x] != l || labels[y + 1][x] != l)
                s->perimeter++;
        }
}

static uint32_t summarize(uint32_t n, int connectivity, uint8_t t)
{
    uint32_t i, big = 0, maxarea = 0, h = 0x811C9DC5u;
    uint64_t cx_acc = 0;
    for (i = 1; i <= n; i++) {
        const comp_stats_t *s = &stats[i];
        if (s->area >= 50)
            big++;
        if (s->area > maxarea)
            maxarea = s->area;
        /* centroid x in 1/16 pixel, rounded */
        cx_acc += (s->sumx * 16u + s->area / 2) / s->area;
        h = (h ^ s->area) * 16777619u;
        h = (h ^ (uint32_t)(s->left | (s->top << 10) | (s->right << 20))) * 16777619u;
        h = (h ^ s->perimeter) * 16777619u;
    }
    printf("thr %3u conn %d: components %u big %u max area %u centroid acc %llu hash %08x\n",
           t, connectivity, n, big, maxarea, (unsigned long long)cx_acc, h);
    return h;
}

int main(void)
{
    static const uint8_t thresholds[] = { 60, 120, 180, 210 };
    uint32_t h = 0;
    size_t t;
    int conn;

    draw_blobs();
    for (t = 0; t < sizeof thresholds; t++) {
        threshold(thresholds[t]);
        for (conn = 4; conn <= 8; conn += 4) {
            uint32_t n;
            first_pass(conn);
            n = second_pass();
            gather_stats(n);
            h = (h * 0x9E3779B1u) ^ summarize(n, conn, thresholds[t]);
        }
    }
    printf("checksum %08x\n", h);
    return 0;
}
