/* ep.c - "embarrassingly parallel" Gaussian deviate kernel.
 * Modelled on the NAS Parallel Benchmarks EP kernel: a 46-bit multiplicative
 * LCG produces uniform pairs, the Marsaglia polar method turns accepted pairs
 * into Gaussian deviates, which are tallied into square annuli per batch. */
#include <stdio.h>
#include <stdint.h>
#include <math.h>

#define LCG_MASK   ((UINT64_C(1) << 46) - 1)
#define LCG_MULT   UINT64_C(1220703125) /* 5^13 */
#define LCG_SEED   UINT64_C(271828183)
#define NBATCH     20
#define BATCH_LOG  13                   /* 2^13 pairs per batch */
#define NQ         10

typedef struct {
    uint64_t state;
} lcg46_t;

typedef struct {
    double sx, sy;
    uint32_t q[NQ];
    uint32_t accepted;
    uint32_t rejected;
} ep_tally_t;

static double batch_buf[2u << BATCH_LOG];
static ep_tally_t batch_tally[NBATCH];

/* (a*b) mod 2^46; unsigned wrap-around is harmless since 2^46 | 2^64 */
static uint64_t mulmod46(uint64_t a, uint64_t b)
{
    return (a * b) & LCG_MASK;
}

/* a^n mod 2^46 by recursive squaring: used to jump the stream ahead */
static uint64_t powmod46(uint64_t a, uint64_t n)
{
    uint64_t h;
    if (n == 0)
        return 1;
    h = powmod46(a, n >> 1);
    h = mulmod46(h, h);
    if (n & 1u)
        h = mulmod46(h, a);
    return h;
}

static double lcg_next(lcg46_t *g)
{
    g->state = mulmod46(g->state, LCG_MULT);
    return (double)g->state * (1.0 / 70368744177664.0); /* 2^-46 */
}

/* fill n uniforms in (0,1) */
static void vranlc(lcg46_t *g, double *out, int n)
{
    int i;
    for (i = 0; i < n; i++)
        out[i] = lcg_next(g);
}

static int annulus_index(double gx, double gy)
{
    double ax = fabs(gx), ay = fabs(gy);
    double m = ax > ay ? ax : ay;
    int l = (int)m;
    if (l >= NQ)
        l = NQ - 1;
    return l;
}

static void run_batch(int k, ep_tally_t *t)
{
    lcg46_t g;
    int i, npairs = 1 << BATCH_LOG;
    uint64_t skip = (uint64_t)k * (uint64_t)(2 * npairs);

    g.state = mulmod46(LCG_SEED, powmod46(LCG_MULT, skip));
    vranlc(&g, batch_buf, 2 * npairs);

    t->sx = 0.0;
    t->sy = 0.0;
    t->accepted = 0;
    t->rejected = 0;
    for (i = 0; i < NQ; i++)
        t->q[i] = 0;

    for (i = 0; i < npairs; i++) {
        double x1 = 2.0 * batch_buf[2 * i] - 1.0;
        double x2 = 2.0 * batch_buf[2 * i + 1] - 1.0;
        double r = x1 * x1 + x2 * x2;
        if (r <= 1.0 && r > 0.0) {
            double f = sqrt(-2.0 * log(r) / r);
            double gx = x1 * f, gy = x2 * f;
            t->q[annulus_index(gx, gy)]++;
            t->sx += gx;
            t->sy += gy;
            t->accepted++;
        } else {
            t->rejected++;
        }
    }
}

static uint32_t fnv_u64(uint32_t h, uint64_t v)
{
    int i;
    for (i = 0; i < 8; i++) {
        h ^= (uint32_t)(v & 0xffu);
        h *= 16777619u;
        v >>= 8;
    }
    return h;
}

static uint64_t quantize(double v)
{
    /* map to an integer grid; values are well within range */
    double s = v * 1048576.0;
    if (s < 0)
        return (uint64_t)(int64_t)(s - 0.5);
    return (uint64_t)(int64_t)(s + 0.5);
}

int main(void)
{
    ep_tally_t total;
    int k, rep, l;
    uint32_t h = 2166136261u;

    for (rep = 0; rep < 3; rep++) {
        total.sx = total.sy = 0.0;
        total.accepted = total.rejected = 0;
        for (l = 0; l < NQ; l++)
            total.q[l] = 0;

        for (k = 0; k < NBATCH; k++) {
            run_batch(k + rep * NBATCH, &batch_tally[k]);
        }
        /* reduce in a fixed order */
        for (k = 0; k < NBATCH; k++) {
            const ep_tally_t *t = &batch_tally[k];
            total.sx += t->sx;
            total.sy += t->sy;
            total.accepted += t->accepted;
            total.rejected += t->rejected;
            for (l = 0; l < NQ; l++)
                total.q[l] += t->q[l];
        }
        h = fnv_u64(h, quantize(total.sx));
        h = fnv_u64(h, quantize(total.sy));
        h = fnv_u64(h, total.accepted);
        for (l = 0; l < NQ; l++)
            h = fnv_u64(h, total.q[l]);
    }

    printf("pairs accepted %u rejected %u\n", total.accepted, total.rejected);
    printf("sx %.6f sy %.6f\n", total.sx, total.sy);
    for (l = 0; l < NQ; l++)
        printf("q[%d] %u\n", l, total.q[l]);
    printf("checksum %08x\n", h);
    return 0;
}
