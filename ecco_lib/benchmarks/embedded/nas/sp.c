/* sp.c - ADI time stepping with scalar pentadiagonal line solves.
 * Modelled on the NAS Parallel Benchmarks SP application: an explicit
 * right-hand side (advection + nonlinear diffusion) is followed by implicit
 * x-, y- and z-direction factors, each a set of pentadiagonal systems (second
 * difference plus fourth-order dissipation) solved along strided grid lines. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

#define N       20
#define NG      (N + 2)
#define NCOMP   3
#define NSTEP   10
#define DT      0.004
#define EPS4    0.05

enum { DIR_X = 0, DIR_Y = 1, DIR_Z = 2 };

typedef struct {
    double nu0;          /* base diffusivity */
    double cx, cy, cz;   /* advection velocity */
    double src;          /* source amplitude */
} comp_params_t;

static double fld[NCOMP][NG][NG][NG];
static double rhs[NCOMP][NG][NG][NG];
static double la[N], lb[N], lc[N], ld[N], le[N], lx[N];

static const double hinv2 = (double)(N + 1) * (double)(N + 1);

static comp_params_t params_for(int comp)
{
    comp_params_t p;
    switch (comp) {
    case 0:
        p.nu0 = 0.020; p.cx = 1.0; p.cy = 0.0; p.cz = 0.5; p.src = 1.0;
        break;
    case 1:
        p.nu0 = 0.012; p.cx = -0.5; p.cy = 0.8; p.cz = 0.0; p.src = 0.5;
        break;
    default:
        p.nu0 = 0.030; p.cx = 0.2; p.cy = -0.3; p.cz = 0.9; p.src = -0.8;
        break;
    }
    return p;
}

static double nonlin_nu(const comp_params_t *p, double v)
{
    return p->nu0 * (1.0 + v * v);
}

static void initialize(void)
{
    int c, i, j, k;
    memset(fld, 0, sizeof fld);
    for (c = 0; c < NCOMP; c++)
        for (i = 1; i <= N; i++)
            for (j = 1; j <= N; j++)
                for (k = 1; k <= N; k++) {
                    double x = (double)i / (N + 1), y = (double)j / (N + 1), z = (double)k / (N + 1);
                    fld[c][i][j][k] = sin(3.14159265358979 * x) * y * (1.0 - y) * (1.0 + z * (c + 1));
                }
}

static void compute_rhs(int step)
{
    int c, i, j, k;
    double hinv = (double)(N + 1);
    for (c = 0; c < NCOMP; c++) {
        comp_params_t p = params_for(c);
        double srcamp = p.src * (1.0 + 0.1 * step);
        for (i = 1; i <= N; i++)
            for (j = 1; j <= N; j++)
                for (k = 1; k <= N; k++) {
                    double v = fld[c][i][j][k];
                    double lap = (fld[c][i + 1][j][k] + fld[c][i - 1][j][k] +
                                  fld[c][i][j + 1][k] + fld[c][i][j - 1][k] +
                                  fld[c][i][j][k + 1] + fld[c][i][j][k - 1] - 6.0 * v) * hinv2;
                    double adv = p.cx * (fld[c][i + 1][j][k] - fld[c][i - 1][j][k]) +
                                 p.cy * (fld[c][i][j + 1][k] - fld[c][i][j - 1][k]) +
                                 p.cz * (fld[c][i][j][k + 1] - fld[c][i][j][k - 1]);
                    double s = (i == N / 2 && j == N / 3) ? srcamp : 0.0;
                    rhs[c][i][j][k] = DT * (nonlin_nu(&p, v) * lap - 0.5 * hinv * adv + s);
                }
    }
}

/* solve pentadiagonal system in place (no pivoting, diagonally dominant).
 * rows: la[i] x[i-2] + lb[i] x[i-1] + lc[i] x[i] + ld[i] x[i+1] + le[i] x[i+2] */
static void penta_solve(int n)
{
    int i;
    for (i = 0; i < n - 1; i++) {
        double f = lb[i + 1] / lc[i];
        lc[i + 1] -= f * ld[i];
        ld[i + 1] -= f * le[i];
        lx[i + 1] -= f * lx[i];
        if (i + 2 < n) {
            double g = la[i + 2] / lc[i];
            lb[i + 2] -= g * ld[i];
            lc[i + 2] -= g * le[i];
            lx[i + 2] -= g * lx[i];
        }
    }
    lx[n - 1] /= lc[n - 1];
    lx[n - 2] = (lx[n - 2] - ld[n - 2] * lx[n - 1]) / lc[n - 2];
    for (i = n - 3; i >= 0; i--)
        lx[i] = (lx[i] - ld[i] * lx[i + 1] - le[i] * lx[i + 2]) / lc[i];
}

/* build the implicit factor along one line with stride and solve it */
static void line_solve(double *r, const double *f, int stride, const comp_params_t *p)
{
    int i;
    double e = DT * EPS4 * hinv2 * 0.01;
    for (i = 0; i < N; i++) {
        double kn = DT * nonlin_nu(p, f[i * stride]) * hinv2;
        la[i] = (i >= 2) ? e : 0.0;
        lb[i] = (i >= 1) ? -kn - 4.0 * e : 0.0;
        lc[i] = 1.0 + 2.0 * kn + 6.0 * e;
        ld[i] = (i + 1 < N) ? -kn - 4.0 * e : 0.0;
        le[i] = (i + 2 < N) ? e : 0.0;
        lx[i] = r[i * stride];
    }
    penta_solve(N);
    for (i = 0; i < N; i++)
        r[i * stride] = lx[i];
}

static void dir_solve(int dir)
{
    int c, a, b;
    int stride;
    switch (dir) {
    case DIR_X: stride = NG * NG; break;
    case DIR_Y: stride = NG; break;
    default:    stride = 1; break;
    }
    for (c = 0; c < NCOMP; c++) {
        comp_params_t p = params_for(c);
        for (a = 1; a <= N; a++)
            for (b = 1; b <= N; b++) {
                double *r;
                const double *f;
                switch (dir) {
                case DIR_X: r = &rhs[c][1][a][b]; f = &fld[c][1][a][b]; break;
                case DIR_Y: r = &rhs[c][a][1][b]; f = &fld[c][a][1][b]; break;
                default:    r = &rhs[c][a][b][1]; f = &fld[c][a][b][1]; break;
                }
                line_solve(r, f, stride, &p);
            }
    }
}

static void add_update(void)
{
    int c, i, j, k;
    for (c = 0; c < NCOMP; c++)
        for (i = 1; i <= N; i++)
            for (j = 1; j <= N; j++)
                for (k = 1; k <= N; k++)
                    fld[c][i][j][k] += rhs[c][i][j][k];
}

static void norms(double *out)
{
    int c, i, j, k;
    for (c = 0; c < NCOMP; c++) {
        double s = 0.0;
        for (i = 1; i <= N; i++)
            for (j = 1; j <= N; j++)
                for (k = 1; k <= N; k++)
                    s += fld[c][i][j][k] * fld[c][i][j][k];
        out[c] = sqrt(s / (N * N * N));
    }
}

int main(void)
{
    int step, c;
    double nm[NCOMP];
    uint32_t h = 0x9747b28cu;

    initialize();
    for (step = 1; step <= NSTEP; step++) {
        compute_rhs(step);
        dir_solve(DIR_X);
        dir_solve(DIR_Y);
        dir_solve(DIR_Z);
        add_update();
        norms(nm);
        for (c = 0; c < NCOMP; c++) {
            uint64_t q = (uint64_t)(int64_t)(nm[c] * 1.0e10);
            h = (h ^ (uint32_t)q ^ (uint32_t)(q >> 32)) * 0x5bd1e995u;
            h ^= h >> 13;
        }
    }
    for (c = 0; c < NCOMP; c++)
        printf("rms[%d] %.6e\n", c, nm[c]);
    printf("center %.6f\n", fld[0][N / 2][N / 2][N / 2]);
    printf("checksum %08x\n", h);
    return 0;
}
