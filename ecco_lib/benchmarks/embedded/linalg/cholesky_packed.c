/* Cholesky factorisation of symmetric positive definite matrices held in
 * packed upper-triangular storage (A = U'U), with packed symmetric
 * matrix-vector product (dspmv), triangular products/solves (dtpmv/dtpsv)
 * and a preconditioned refinement loop. Modelled on LAPACK dpptrf/dpptrs. */
#include <stdio.h>
#include <stdint.h>
#include <math.h>

#define NMAX 120
#define PACKED_LEN (NMAX * (NMAX + 1) / 2)

static double ap[PACKED_LEN];  /* original matrix, packed upper */
static double up[PACKED_LEN];  /* Cholesky factor, packed upper */
static double dense[NMAX][NMAX];
static double x[NMAX], b[NMAX], r[NMAX], w[NMAX];

/* column j starts at offset j*(j+1)/2 in packed upper storage */
static inline size_t pk(int i, int j)
{
    return (size_t)i + (size_t)j * (size_t)(j + 1) / 2;
}

static uint32_t lfsr = 0xACE1u;

static int next_bits(int nbits)
{
    int v = 0;
    for (int k = 0; k < nbits; k++) {
        unsigned bit = ((lfsr >> 0) ^ (lfsr >> 2) ^ (lfsr >> 3) ^ (lfsr >> 5)) & 1u;
        lfsr = (lfsr >> 1) | (bit << 15);
        v = (v << 1) | (int)(lfsr & 1u);
    }
    return v;
}

/* y := alpha*A*x + beta*y for symmetric packed A */
void dspmv(int n, double alpha, const double *a, const double *xv, double beta, double *y)
{
    for (int i = 0; i < n; i++)
        y[i] *= beta;
    size_t kk = 0;
    for (int j = 0; j < n; j++) {
        double t1 = alpha * xv[j], t2 = 0.0;
        size_t k = kk;
        for (int i = 0; i < j; i++, k++) {
            y[i] += t1 * a[k];
            t2 += a[k] * xv[i];
        }
        y[j] += t1 * a[kk + (size_t)j] + alpha * t2;
        kk += (size_t)j + 1;
    }
}

/* U'U factorisation, column by column; returns 0 or j+1 if not SPD */
int dpptrf(int n, double *a)
{
    size_t jj = 0;
    for (int j = 0; j < n; j++) {
        size_t jc = jj;
        jj += (size_t)j + 1;
        /* compute elements 0..j-1 of column j: solve U(0:j,0:j)' * u = a */
        size_t kc = 0;
        for (int i = 0; i < j; i++) {
            double s = a[jc + (size_t)i];
            for (int k = 0; k < i; k++)
                s -= a[kc + (size_t)k] * a[jc + (size_t)k];
            a[jc + (size_t)i] = s / a[kc + (size_t)i];
            kc += (size_t)i + 1;
        }
        double d = a[jj - 1];
        for (int k = 0; k < j; k++)
            d -= a[jc + (size_t)k] * a[jc + (size_t)k];
        if (d <= 0.0) {
            a[jj - 1] = d;
            return j + 1;
        }
        a[jj - 1] = sqrt(d);
    }
    return 0;
}

/* solve U' y = b then U x = y, overwriting b */
void dpptrs(int n, const double *u, double *bv)
{
    for (int j = 0; j < n; j++) { /* forward, U' is lower */
        double s = bv[j];
        size_t c = pk(0, j);
        for (int k = 0; k < j; k++)
            s -= u[c + (size_t)k] * bv[k];
        bv[j] = s / u[c + (size_t)j];
    }
    for (int j = n - 1; j >= 0; j--) { /* backward, column oriented */
        size_t c = pk(0, j);
        bv[j] /= u[c + (size_t)j];
        double t = bv[j];
        for (int k = 0; k < j; k++)
            bv[k] -= t * u[c + (size_t)k];
    }
}

/* x := U x (upper packed, non-unit) */
void dtpmv_upper(int n, const double *u, double *xv)
{
    for (int j = 0; j < n; j++) {
        double t = xv[j];
        size_t c = pk(0, j);
        for (int i = 0; i < j; i++)
            xv[i] += t * u[c + (size_t)i];
        xv[j] = t * u[c + (size_t)j];
    }
}

static void build_spd(int n, int variant)
{
    /* dense = G'G + shift*I with small-integer G: exactly representable */
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            dense[i][j] = 0.0;
    for (int k = 0; k < n / 2 + 4; k++) {
        for (int i = 0; i < n; i++)
            w[i] = (double)(next_bits(4) - 8);
        for (int j = 0; j < n; j++)
            for (int i = 0; i <= j; i++)
                dense[i][j] += w[i] * w[j];
    }
    for (int i = 0; i < n; i++)
        dense[i][i] += (double)(1 + variant);
    for (int j = 0; j < n; j++)
        for (int i = 0; i <= j; i++)
            ap[pk(i, j)] = up[pk(i, j)] = dense[i][j];
}

static double inf_norm(int n, const double *v)
{
    double m = 0.0;
    for (int i = 0; i < n; i++)
        if (fabs(v[i]) > m)
            m = fabs(v[i]);
    return m;
}

int main(void)
{
    static const int ns[] = {120, 75, 100, 33, 117};
    uint32_t h = 0x12345678u;
    double total_logdet = 0.0, worst_res = 0.0;
    int fails = 0;

    for (int t = 0; t < 30; t++) {
        int n = ns[t % 5];
        build_spd(n, t);
        int info = dpptrf(n, up);
        h = (h ^ (uint32_t)info) * 0x9E3779B1u;
        if (info != 0) {
            fails++;
            continue;
        }
        double ld = 0.0;
        for (int j = 0; j < n; j++)
            ld += 2.0 * log(up[pk(j, j)]);
        total_logdet += ld;

        /* b = A * xtrue, solve, then one step of iterative refinement */
        for (int i = 0; i < n; i++)
            x[i] = (double)((i * 13 + t) % 17) / 8.0 - 1.0;
        dspmv(n, 1.0, ap, x, 0.0, b);
        for (int i = 0; i < n; i++)
            r[i] = b[i];
        dpptrs(n, up, r);
        for (int i = 0; i < n; i++)
            w[i] = r[i];
        dspmv(n, -1.0, ap, w, 1.0, b); /* b := b - A*xhat */
        dpptrs(n, up, b);
        for (int i = 0; i < n; i++) {
            r[i] += b[i];
            worst_res = fmax(worst_res, fabs(r[i] - x[i]));
        }
        /* check ||U x||^2 == x' A x */
        for (int i = 0; i < n; i++)
            w[i] = x[i];
        dtpmv_upper(n, up, w);
        double q1 = 0.0;
        for (int i = 0; i < n; i++)
            q1 += w[i] * w[i];
        dspmv(n, 1.0, ap, x, 0.0, w);
        double q2 = 0.0;
        for (int i = 0; i < n; i++)
            q2 += x[i] * w[i];
        h = (h ^ (uint32_t)(fabs(q1 - q2) < 1e-6 * q2)) * 0x9E3779B1u;
        h = (h ^ (uint32_t)floor(inf_norm(n, w))) * 0x9E3779B1u;
        h = (h ^ (uint32_t)floor(ld * 16.0)) * 0x9E3779B1u;
    }
    printf("fails %d solve_ok %d\n", fails, worst_res < 1e-9);
    printf("logdet %.6f\n", total_logdet);
    printf("checksum %08x\n", h);
    return 0;
}
