/* mg.c - multigrid V-cycle for a 3D Poisson-like problem on a periodic grid.
 * Modelled on the NAS Parallel Benchmarks MG kernel: 27-point residual and
 * smoother stencils, full-weighting restriction, trilinear prolongation and a
 * recursive V-cycle over a hierarchy of grids (32^3 down to 2^3). */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

#define LT      5          /* number of levels */
#define NTOP    32
#define NIT     4
#define POOL    (34 * 34 * 34 + 18 * 18 * 18 + 10 * 10 * 10 + 6 * 6 * 6 + 4 * 4 * 4)

typedef struct {
    int n;        /* interior points per dimension */
    double *u;    /* correction / solution */
    double *r;    /* residual / right-hand side */
} level_t;

static double pool_u[POOL], pool_r[POOL];
static double vtop[34 * 34 * 34];
static level_t lev[LT];

/* stencil coefficients indexed by number of non-zero offsets (0..3) */
static const double acoef[4] = { -8.0 / 3.0, 0.0, 1.0 / 6.0, 1.0 / 12.0 };
static const double ccoef[4] = { -3.0 / 8.0, 1.0 / 32.0, -1.0 / 64.0, 0.0 };
static const double wrestr[4] = { 0.5, 0.25, 0.125, 0.0625 };

static inline int idx(int n, int i, int j, int k)
{
    int s = n + 2;
    return (i * s + j) * s + k;
}

static void setup_levels(void)
{
    int l, off = 0, n = NTOP;
    for (l = 0; l < LT; l++) {
        int sz = (n + 2) * (n + 2) * (n + 2);
        lev[l].n = n;
        lev[l].u = &pool_u[off];
        lev[l].r = &pool_r[off];
        off += sz;
        n /= 2;
    }
}

/* periodic ghost-cell exchange along each axis */
static void comm3(double *g, int n)
{
    int i, j, k;
    for (i = 1; i <= n; i++)
        for (j = 1; j <= n; j++) {
            g[idx(n, i, j, 0)] = g[idx(n, i, j, n)];
            g[idx(n, i, j, n + 1)] = g[idx(n, i, j, 1)];
        }
    for (i = 1; i <= n; i++)
        for (k = 0; k <= n + 1; k++) {
            g[idx(n, i, 0, k)] = g[idx(n, i, n, k)];
            g[idx(n, i, n + 1, k)] = g[idx(n, i, 1, k)];
        }
    for (j = 0; j <= n + 1; j++)
        for (k = 0; k <= n + 1; k++) {
            g[idx(n, 0, j, k)] = g[idx(n, n, j, k)];
            g[idx(n, n + 1, j, k)] = g[idx(n, 1, j, k)];
        }
}

/* generic 27-point application: out = base + sign * sum c[class] * in */
static void stencil27(double *out, const double *base, const double *in,
                      const double *c, double sign, int n)
{
    int i, j, k, di, dj, dk;
    for (i = 1; i <= n; i++)
        for (j = 1; j <= n; j++)
            for (k = 1; k <= n; k++) {
                double acc[4] = { 0.0, 0.0, 0.0, 0.0 };
                for (di = -1; di <= 1; di++)
                    for (dj = -1; dj <= 1; dj++)
                        for (dk = -1; dk <= 1; dk++) {
                            int cls = (di != 0) + (dj != 0) + (dk != 0);
                            acc[cls] += in[idx(n, i + di, j + dj, k + dk)];
                        }
                out[idx(n, i, j, k)] = base[idx(n, i, j, k)] +
                    sign * (c[0] * acc[0] + c[1] * acc[1] + c[2] * acc[2] + c[3] * acc[3]);
            }
    comm3(out, n);
}

static void resid(double *r, const double *v, const double *u, int n)
{
    stencil27(r, v, u, acoef, -1.0, n);
}

static void psinv(double *u, const double *r, int n)
{
    stencil27(u, u, r, ccoef, 1.0, n);
}

/* full-weighting restriction fine(n) -> coarse(n/2) */
static void rprj3(const double *fine, int n, double *coarse)
{
    int m = n / 2, i, j, k, di, dj, dk;
    for (i = 1; i <= m; i++)
        for (j = 1; j <= m; j++)
            for (k = 1; k <= m; k++) {
                double s = 0.0;
                for (di = -1; di <= 1; di++)
                    for (dj = -1; dj <= 1; dj++)
                        for (dk = -1; dk <= 1; dk++) {
                            int cls = (di != 0) + (dj != 0) + (dk != 0);
                            s += wrestr[cls] * fine[idx(n, 2 * i + di, 2 * j + dj, 2 * k + dk)];
                        }
                coarse[idx(m, i, j, k)] = s;
            }
    comm3(coarse, m);
}

/* for fine index f, produce coarse taps and weights; returns tap count */
static int taps(int f, int *ci, double *w)
{
    if ((f & 1) == 0) {
        ci[0] = f / 2; w[0] = 1.0;
        return 1;
    }
    ci[0] = (f - 1) / 2; w[0] = 0.5;
    ci[1] = (f + 1) / 2; w[1] = 0.5;
    return 2;
}

/* trilinear prolongation: fine += P coarse */
static void interp(const double *coarse, int m, double *fine)
{
    int n = 2 * m, i, j, k, a, b, c;
    int ti[2], tj[2], tk[2];
    double wi[2], wj[2], wk[2];
    for (i = 1; i <= n; i++) {
        int ni = taps(i, ti, wi);
        for (j = 1; j <= n; j++) {
            int nj = taps(j, tj, wj);
            for (k = 1; k <= n; k++) {
                int nk = taps(k, tk, wk);
                double s = 0.0;
                for (a = 0; a < ni; a++)
                    for (b = 0; b < nj; b++)
                        for (c = 0; c < nk; c++)
                            s += wi[a] * wj[b] * wk[c] * coarse[idx(m, ti[a], tj[b], tk[c])];
                fine[idx(n, i, j, k)] += s;
            }
        }
    }
    comm3(fine, n);
}

static void zero3(double *g, int n)
{
    memset(g, 0, sizeof(double) * (size_t)((n + 2) * (n + 2) * (n + 2)));
}

/* recursive V-cycle on level l (0 = finest) */
static void vcycle(int l)
{
    level_t *L = &lev[l];
    if (l == LT - 1) {
        zero3(L->u, L->n);
        psinv(L->u, L->r, L->n);
        return;
    }
    rprj3(L->r, L->n, lev[l + 1].r);
    vcycle(l + 1);
    if (l > 0) {
        zero3(L->u, L->n);
        interp(lev[l + 1].u, lev[l + 1].n, L->u);
        resid(L->r, L->r, L->u, L->n);
    } else {
        interp(lev[l + 1].u, lev[l + 1].n, L->u);
        resid(L->r, vtop, L->u, L->n);
    }
    psinv(L->u, L->r, L->n);
}

static double norm2(const double *g, int n, double *rmax)
{
    int i, j, k;
    double s = 0.0, mx = 0.0;
    for (i = 1; i <= n; i++)
        for (j = 1; j <= n; j++)
            for (k = 1; k <= n; k++) {
                double a = g[idx(n, i, j, k)];
                s += a * a;
                if (fabs(a) > mx)
                    mx = fabs(a);
            }
    *rmax = mx;
    return sqrt(s / ((double)n * n * n));
}

static void init_rhs(double *v, int n)
{
    uint64_t s = 314159265u;
    int p;
    zero3(v, n);
    for (p = 0; p < 20; p++) {
        int i, j, k;
        s = s * 6364136223846793005u + 1442695040888963407u;
        i = 1 + (int)((s >> 33) % (uint64_t)n);
        j = 1 + (int)((s >> 45) % (uint64_t)n);
        k = 1 + (int)((s >> 20) % (uint64_t)n);
        v[idx(n, i, j, k)] = (p < 10) ? 1.0 : -1.0;
    }
    comm3(v, n);
}

int main(void)
{
    int it;
    double rnm2 = 0.0, rmax = 0.0;
    uint64_t h = 1469598103934665603u;

    setup_levels();
    init_rhs(vtop, NTOP);
    zero3(lev[0].u, NTOP);
    resid(lev[0].r, vtop, lev[0].u, NTOP);
    for (it = 0; it < NIT; it++) {
        vcycle(0);
        resid(lev[0].r, vtop, lev[0].u, NTOP);
        rnm2 = norm2(lev[0].r, NTOP, &rmax);
        h ^= (uint64_t)(int64_t)(rnm2 * 1e12);
        h *= 1099511628211u;
        printf("iter %d rnm2 %.6e\n", it + 1, rnm2);
    }
    {
        int i;
        for (i = 0; i < 34 * 34 * 34; i += 97) {
            h ^= (uint64_t)(int64_t)(lev[0].u[i] * 1e9);
            h *= 1099511628211u;
        }
    }
    printf("rmax %.6e\n", rmax);
    printf("checksum %016llx\n", (unsigned long long)h);
    return 0;
}
