/* LU factorisation with partial pivoting of column-major double matrices:
 * an unblocked right-looking dgetf2, a recursive dgetrf2-style variant, row
 * interchanges (dlaswp), triangular solves (dgetrs) and determinant. Modelled
 * on the LAPACK/LINPACK dgefa/dgesl routines used by LINPACK-style benchmarks. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

#define NMAX 64

static double Aorig[NMAX * NMAX];
static double LU1[NMAX * NMAX];
static double LU2[NMAX * NMAX];
static double rhs[NMAX], sol[NMAX], tmp[NMAX];
static int piv1[NMAX], piv2[NMAX];

#define IDX(i, j, ld) ((size_t)(j) * (size_t)(ld) + (size_t)(i))

static uint64_t rs = 88172645463325252ULL;

static double rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (double)(rs >> 12) / 4503599627370496.0 - 0.5;
}

static int idamax(int n, const double *x)
{
    int best = 0;
    double m = fabs(x[0]);
    for (int i = 1; i < n; i++)
        if (fabs(x[i]) > m) {
            m = fabs(x[i]);
            best = i;
        }
    return best;
}

static void dswap_rows(double *a, int ld, int ncols, int r1, int r2)
{
    if (r1 == r2)
        return;
    for (int j = 0; j < ncols; j++) {
        double t = a[IDX(r1, j, ld)];
        a[IDX(r1, j, ld)] = a[IDX(r2, j, ld)];
        a[IDX(r2, j, ld)] = t;
    }
}

/* apply row interchanges k1..k2-1 recorded in ipiv (relative to a) */
static void dlaswp(double *a, int ld, int ncols, int k1, int k2, const int *ipiv)
{
    for (int k = k1; k < k2; k++)
        dswap_rows(a, ld, ncols, k, ipiv[k]);
}

/* unblocked right-looking LU: returns 0 or index+1 of a zero pivot */
int dgetf2(int m, int n, double *a, int ld, int *ipiv)
{
    int info = 0, mn = m < n ? m : n;
    for (int j = 0; j < mn; j++) {
        int p = j + idamax(m - j, &a[IDX(j, j, ld)]);
        ipiv[j] = p;
        if (a[IDX(p, j, ld)] == 0.0) {
            if (info == 0)
                info = j + 1;
            continue;
        }
        dswap_rows(a, ld, n, j, p);
        double rp = 1.0 / a[IDX(j, j, ld)];
        for (int i = j + 1; i < m; i++)
            a[IDX(i, j, ld)] *= rp;
        for (int c = j + 1; c < n; c++) {
            double t = a[IDX(j, c, ld)];
            if (t != 0.0)
                for (int i = j + 1; i < m; i++)
                    a[IDX(i, c, ld)] -= t * a[IDX(i, j, ld)];
        }
    }
    return info;
}

/* recursive LU on an m x n panel (m >= n); ipiv entries are panel-relative */
static int dgetrf_rec(int m, int n, double *a, int ld, int *ipiv)
{
    if (n == 1) {
        int p = idamax(m, a);
        ipiv[0] = p;
        if (a[p] == 0.0)
            return 1;
        double t = a[0];
        a[0] = a[p];
        a[p] = t;
        for (int i = 1; i < m; i++)
            a[i] /= a[0];
        return 0;
    }
    int n1 = n / 2, n2 = n - n1, info;
    double *a12 = &a[IDX(0, n1, ld)];
    double *a22 = &a[IDX(n1, n1, ld)];

    info = dgetrf_rec(m, n1, a, ld, ipiv);
    dlaswp(a12, ld, n2, 0, n1, ipiv);
    /* A12 := L11^{-1} A12 (unit lower) */
    for (int c = 0; c < n2; c++)
        for (int k = 0; k < n1; k++) {
            double t = a12[IDX(k, c, ld)];
            for (int i = k + 1; i < n1; i++)
                a12[IDX(i, c, ld)] -= t * a[IDX(i, k, ld)];
        }
    /* A22 := A22 - A21 * A12 */
    for (int c = 0; c < n2; c++)
        for (int k = 0; k < n1; k++) {
            double t = a12[IDX(k, c, ld)];
            for (int i = 0; i < m - n1; i++)
                a22[IDX(i, c, ld)] -= a[IDX(n1 + i, k, ld)] * t;
        }
    int info2 = dgetrf_rec(m - n1, n2, a22, ld, ipiv + n1);
    if (info == 0 && info2 > 0)
        info = info2 + n1;
    for (int k = n1; k < n; k++)
        ipiv[k] += n1;
    dlaswp(a, ld, n1, n1, n, ipiv);
    return info;
}

/* solve A x = b using the factorisation */
void dgetrs(int n, const double *lu, int ld, const int *ipiv, double *b)
{
    for (int k = 0; k < n; k++) {
        int p = ipiv[k];
        if (p != k) {
            double t = b[k];
            b[k] = b[p];
            b[p] = t;
        }
    }
    for (int j = 0; j < n; j++)
        for (int i = j + 1; i < n; i++)
            b[i] -= b[j] * lu[IDX(i, j, ld)];
    for (int j = n - 1; j >= 0; j--) {
        b[j] /= lu[IDX(j, j, ld)];
        for (int i = 0; i < j; i++)
            b[i] -= b[j] * lu[IDX(i, j, ld)];
    }
}

static double log_abs_det(int n, const double *lu, int ld, const int *ipiv, int *sign)
{
    double s = 0.0;
    int sg = 1;
    for (int i = 0; i < n; i++) {
        double d = lu[IDX(i, i, ld)];
        if (d < 0.0)
            sg = -sg;
        if (ipiv[i] != i)
            sg = -sg;
        s += log(fabs(d));
    }
    *sign = sg;
    return s;
}

int main(void)
{
    static const int sizes[] = {64, 37, 50, 16, 63, 29, 64, 48};
    uint32_t h = 0xdeadbeefu;
    double worst_res = 0.0, worst_diff = 0.0, detsum = 0.0;
    int nsizes = (int)(sizeof sizes / sizeof sizes[0]);

    for (int rep = 0; rep < 14; rep++) {
        for (int s = 0; s < nsizes; s++) {
            int n = sizes[s];
            for (int j = 0; j < n; j++)
                for (int i = 0; i < n; i++)
                    Aorig[IDX(i, j, NMAX)] = rnd() + (i == j ? 0.05 * (s + 1) : 0.0);
            memcpy(LU1, Aorig, sizeof Aorig);
            memcpy(LU2, Aorig, sizeof Aorig);
            int info1 = dgetf2(n, n, LU1, NMAX, piv1);
            int info2 = dgetrf_rec(n, n, LU2, NMAX, piv2);
            h = (h ^ (uint32_t)(info1 * 31 + info2)) * 16777619u;
            for (int i = 0; i < n; i++) {
                h = (h ^ (uint32_t)piv1[i]) * 16777619u;
                h = (h ^ (uint32_t)(piv1[i] == piv2[i])) * 16777619u;
            }
            for (int j = 0; j < n; j++)
                for (int i = 0; i < n; i++)
                    worst_diff = fmax(worst_diff, fabs(LU1[IDX(i, j, NMAX)] - LU2[IDX(i, j, NMAX)]));
            if (info1 != 0)
                continue;
            for (int i = 0; i < n; i++)
                sol[i] = rhs[i] = (double)((i * 7 + s) % 11) - 5.0;
            dgetrs(n, LU1, NMAX, piv1, sol);
            /* residual r = b - A x */
            for (int i = 0; i < n; i++)
                tmp[i] = rhs[i];
            for (int j = 0; j < n; j++)
                for (int i = 0; i < n; i++)
                    tmp[i] -= Aorig[IDX(i, j, NMAX)] * sol[j];
            for (int i = 0; i < n; i++)
                worst_res = fmax(worst_res, fabs(tmp[i]));
            int sign;
            double ld = log_abs_det(n, LU1, NMAX, piv1, &sign);
            detsum += sign * ld;
            h = (h ^ (uint32_t)(sign + 2)) * 16777619u;
        }
    }
    printf("residual_small %d lu_agree %d\n", worst_res < 1e-8, worst_diff < 1e-8);
    printf("logdet_sum %.6f\n", detsum);
    printf("checksum %08x\n", h);
    return 0;
}
