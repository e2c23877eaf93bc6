/* cg.c - inverse power iteration with an inner conjugate-gradient solver.
 * Modelled on the NAS Parallel Benchmarks CG kernel: a random sparse,
 * symmetric, diagonally dominant matrix is assembled in CSR form and the
 * smallest eigenvalue estimate (zeta) is refined by repeated CG solves. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

#define NA       1200
#define NONZER   6
#define MAXNNZ   (NA * (2 * NONZER + 1))
#define NITER    20
#define CGITMAX  25
#define SHIFT    12.0

typedef struct {
    int n;
    int nnz;
    int rowptr[NA + 1];
    int col[MAXNNZ];
    double val[MAXNNZ];
} csr_t;

typedef struct {
    int i, j;
    double v;
} triplet_t;

static csr_t A;
static triplet_t trip[MAXNNZ];
static int rowfill[NA];
static double x[NA], z[NA], p[NA], q[NA], r[NA];

static uint32_t rng_state = 0x2545F491u;

static uint32_t xorshift32(void)
{
    uint32_t s = rng_state;
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    rng_state = s;
    return s;
}

static double rand_unit(void)
{
    return (double)(xorshift32() >> 8) * (1.0 / 16777216.0);
}

/* insertion sort of one CSR row by column index, then merge duplicates */
static int sort_merge_row(int *c, double *v, int len)
{
    int a, b, out;
    for (a = 1; a < len; a++) {
        int kc = c[a];
        double kv = v[a];
        b = a - 1;
        while (b >= 0 && c[b] > kc) {
            c[b + 1] = c[b];
            v[b + 1] = v[b];
            b--;
        }
        c[b + 1] = kc;
        v[b + 1] = kv;
    }
    out = 0;
    for (a = 0; a < len; a++) {
        if (out > 0 && c[out - 1] == c[a]) {
            v[out - 1] += v[a];
        } else {
            c[out] = c[a];
            v[out] = v[a];
            out++;
        }
    }
    return out;
}

static void makea(csr_t *m)
{
    int nt = 0, i, k, t;
    double rowsum[NA];

    memset(rowsum, 0, sizeof rowsum);
    for (i = 0; i < NA; i++) {
        for (k = 0; k < NONZER; k++) {
            int j = (int)(xorshift32() % NA);
            double w;
            if (j == i)
                continue;
            w = rand_unit() - 0.5;
            trip[nt].i = i; trip[nt].j = j; trip[nt].v = w; nt++;
            trip[nt].i = j; trip[nt].j = i; trip[nt].v = w; nt++;
            rowsum[i] += fabs(w);
            rowsum[j] += fabs(w);
        }
    }
    for (i = 0; i < NA; i++) {
        trip[nt].i = i; trip[nt].j = i;
        trip[nt].v = rowsum[i] + 0.1 + 0.001 * (double)(i % 17);
        nt++;
    }

    /* counting pass, then scatter into rows */
    m->n = NA;
    memset(m->rowptr, 0, sizeof m->rowptr);
    for (t = 0; t < nt; t++)
        m->rowptr[trip[t].i + 1]++;
    for (i = 0; i < NA; i++)
        m->rowptr[i + 1] += m->rowptr[i];
    for (i = 0; i < NA; i++)
        rowfill[i] = m->rowptr[i];
    for (t = 0; t < nt; t++) {
        int dst = rowfill[trip[t].i]++;
        m->col[dst] = trip[t].j;
        m->val[dst] = trip[t].v;
    }

    /* sort and compact each row in place */
    {
        int wr = 0;
        for (i = 0; i < NA; i++) {
            int start = m->rowptr[i];
            int len = m->rowptr[i + 1] - start;
            int nl = sort_merge_row(&m->col[start], &m->val[start], len);
            if (wr != start) {
                memmove(&m->col[wr], &m->col[start], (size_t)nl * sizeof(int));
                memmove(&m->val[wr], &m->val[start], (size_t)nl * sizeof(double));
            }
            m->rowptr[i] = wr;
            wr += nl;
        }
        m->rowptr[NA] = wr;
        m->nnz = wr;
    }
}

static void spmv(const csr_t *m, const double *in, double *out)
{
    int i, k;
    for (i = 0; i < m->n; i++) {
        double s = 0.0;
        for (k = m->rowptr[i]; k < m->rowptr[i + 1]; k++)
            s += m->val[k] * in[m->col[k]];
        out[i] = s;
    }
}

static double dot(const double *a, const double *b, int n)
{
    double s = 0.0;
    int i;
    for (i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static void axpy(double alpha, const double *a, double *b, int n)
{
    int i;
    for (i = 0; i < n; i++)
        b[i] += alpha * a[i];
}

/* solve A z = x approximately; returns ||x - A z|| */
static double conj_grad(const csr_t *m, const double *rhs, double *sol)
{
    int n = m->n, it, i;
    double rho, rho0, alpha, beta, d;

    for (i = 0; i < n; i++) {
        sol[i] = 0.0;
        r[i] = rhs[i];
        p[i] = rhs[i];
    }
    rho = dot(r, r, n);
    for (it = 0; it < CGITMAX; it++) {
        spmv(m, p, q);
        d = dot(p, q, n);
        if (d == 0.0)
            break;
        alpha = rho / d;
        axpy(alpha, p, sol, n);
        axpy(-alpha, q, r, n);
        rho0 = rho;
        rho = dot(r, r, n);
        beta = rho / rho0;
        for (i = 0; i < n; i++)
            p[i] = r[i] + beta * p[i];
    }
    spmv(m, sol, q);
    for (i = 0; i < n; i++)
        r[i] = rhs[i] - q[i];
    return sqrt(dot(r, r, n));
}

static uint32_t mix_double(uint32_t h, double v)
{
    /* quantize to 1e-9 and hash the integer */
    double s = v * 1.0e9;
    int64_t iv = (int64_t)(s < 0 ? s - 0.5 : s + 0.5);
    uint64_t u = (uint64_t)iv;
    h ^= (uint32_t)u;
    h *= 0x9E3779B1u;
    h ^= (uint32_t)(u >> 32);
    h *= 0x85EBCA77u;
    return h ^ (h >> 15);
}

int main(void)
{
    int it, i;
    double zeta = 0.0, rnorm = 0.0, nrm;
    uint32_t h = 0x12345678u;

    makea(&A);
    for (i = 0; i < NA; i++)
        x[i] = 1.0;

    for (it = 1; it <= NITER; it++) {
        rnorm = conj_grad(&A, x, z);
        zeta = SHIFT + 1.0 / dot(x, z, NA);
        nrm = 1.0 / sqrt(dot(z, z, NA));
        for (i = 0; i < NA; i++)
            x[i] = nrm * z[i];
        h = mix_double(h, zeta);
        h = mix_double(h, rnorm);
    }
    for (i = 0; i < NA; i += 37)
        h = mix_double(h, x[i]);

    printf("nnz %d\n", A.nnz);
    printf("zeta %.6f converged %d\n", zeta, rnorm < 1.0e-8 ? 1 : 0);
    printf("checksum %08x\n", h);
    return 0;
}
