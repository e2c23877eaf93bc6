/* BLAS level-1 kernels in single precision with arbitrary (also negative)
 * strides: dot, axpy, scal, nrm2, asum, iamax, rot/rotg, swap, copy.
 * Modelled on the reference BLAS level-1 routines and the strided loop
 * handling used throughout LINPACK/BLAS-style numerical libraries. */
#include <stdio.h>
#include <stdint.h>
#include <math.h>

#define VEC_LEN 4096

static float xbuf[VEC_LEN];
static float ybuf[VEC_LEN];
static float zbuf[VEC_LEN];

static uint32_t rng_state = 0x2545F491u;

static uint32_t xorshift32(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rng_state = x;
    return x;
}

static float frand(void)
{
    /* uniform in [-1, 1) with 24 bits of mantissa */
    return (float)(xorshift32() >> 8) * (1.0f / 8388608.0f) - 1.0f;
}

/* BLAS convention: for a negative increment the first element is at (1-n)*inc */
static int start_index(int n, int inc)
{
    return inc >= 0 ? 0 : (1 - n) * inc;
}

float sdot(int n, const float *x, int incx, const float *y, int incy)
{
    float acc = 0.0f;
    int i, ix, iy;
    if (n <= 0)
        return 0.0f;
    if (incx == 1 && incy == 1) {
        int m = n % 5;
        for (i = 0; i < m; i++)
            acc += x[i] * y[i];
        for (i = m; i < n; i += 5)
            acc = acc + x[i] * y[i] + x[i + 1] * y[i + 1] + x[i + 2] * y[i + 2] +
                  x[i + 3] * y[i + 3] + x[i + 4] * y[i + 4];
        return acc;
    }
    ix = start_index(n, incx);
    iy = start_index(n, incy);
    for (i = 0; i < n; i++) {
        acc += x[ix] * y[iy];
        ix += incx;
        iy += incy;
    }
    return acc;
}

void saxpy(int n, float a, const float *x, int incx, float *y, int incy)
{
    int i, ix, iy;
    if (n <= 0 || a == 0.0f)
        return;
    if (incx == 1 && incy == 1) {
        for (i = 0; i < n; i++)
            y[i] += a * x[i];
        return;
    }
    ix = start_index(n, incx);
    iy = start_index(n, incy);
    for (i = 0; i < n; i++) {
        y[iy] += a * x[ix];
        ix += incx;
        iy += incy;
    }
}

void sscal(int n, float a, float *x, int incx)
{
    int i;
    if (n <= 0 || incx <= 0)
        return;
    for (i = 0; i < n * incx; i += incx)
        x[i] *= a;
}

float sasum(int n, const float *x, int incx)
{
    float s = 0.0f;
    int i;
    if (n <= 0 || incx <= 0)
        return 0.0f;
    for (i = 0; i < n * incx; i += incx)
        s += fabsf(x[i]);
    return s;
}

/* scaled sum of squares, avoids overflow like the reference snrm2 */
float snrm2(int n, const float *x, int incx)
{
    float scale = 0.0f, ssq = 1.0f;
    int i;
    if (n < 1 || incx < 1)
        return 0.0f;
    if (n == 1)
        return fabsf(x[0]);
    for (i = 0; i < n * incx; i += incx) {
        if (x[i] != 0.0f) {
            float a = fabsf(x[i]);
            if (scale < a) {
                float r = scale / a;
                ssq = 1.0f + ssq * r * r;
                scale = a;
            } else {
                float r = a / scale;
                ssq += r * r;
            }
        }
    }
    return scale * sqrtf(ssq);
}

int isamax(int n, const float *x, int incx)
{
    int i, best = 0, ix;
    float bmax;
    if (n < 1 || incx <= 0)
        return -1;
    bmax = fabsf(x[0]);
    ix = incx;
    for (i = 1; i < n; i++) {
        float v = fabsf(x[ix]);
        if (v > bmax) {
            bmax = v;
            best = i;
        }
        ix += incx;
    }
    return best;
}

void scopy(int n, const float *x, int incx, float *y, int incy)
{
    int i, ix = start_index(n, incx), iy = start_index(n, incy);
    for (i = 0; i < n; i++) {
        y[iy] = x[ix];
        ix += incx;
        iy += incy;
    }
}

void sswap(int n, float *x, int incx, float *y, int incy)
{
    int i, ix = start_index(n, incx), iy = start_index(n, incy);
    for (i = 0; i < n; i++) {
        float t = x[ix];
        x[ix] = y[iy];
        y[iy] = t;
        ix += incx;
        iy += incy;
    }
}

void srot(int n, float *x, int incx, float *y, int incy, float c, float s)
{
    int i, ix = start_index(n, incx), iy = start_index(n, incy);
    for (i = 0; i < n; i++) {
        float t = c * x[ix] + s * y[iy];
        y[iy] = c * y[iy] - s * x[ix];
        x[ix] = t;
        ix += incx;
        iy += incy;
    }
}

/* construct a Givens rotation that zeroes b */
void srotg(float *a, float *b, float *c, float *s)
{
    float roe = fabsf(*a) > fabsf(*b) ? *a : *b;
    float scale = fabsf(*a) + fabsf(*b);
    float r, z;
    if (scale == 0.0f) {
        *c = 1.0f;
        *s = 0.0f;
        *a = 0.0f;
        *b = 0.0f;
        return;
    }
    r = scale * sqrtf((*a / scale) * (*a / scale) + (*b / scale) * (*b / scale));
    if (roe < 0.0f)
        r = -r;
    *c = *a / r;
    *s = *b / r;
    z = 1.0f;
    if (fabsf(*a) > fabsf(*b))
        z = *s;
    if (fabsf(*b) >= fabsf(*a) && *c != 0.0f)
        z = 1.0f / *c;
    *a = r;
    *b = z;
}

enum op { OP_DOT, OP_AXPY, OP_SCAL, OP_NRM2, OP_ASUM, OP_IAMAX, OP_ROT, OP_SWAP };

struct testcase {
    enum op op;
    int n;
    int incx;
    int incy;
};

static const struct testcase cases[] = {
    {OP_DOT, 1000, 1, 1},   {OP_DOT, 700, 3, -2},   {OP_AXPY, 1000, 1, 1},
    {OP_AXPY, 500, -4, 2},  {OP_SCAL, 1300, 3, 0},  {OP_NRM2, 900, 2, 0},
    {OP_ASUM, 1024, 4, 0},  {OP_IAMAX, 999, 3, 0},  {OP_ROT, 800, 2, -3},
    {OP_SWAP, 600, -5, 1},  {OP_DOT, 333, -7, -1},  {OP_AXPY, 1200, 2, 3},
    {OP_ROT, 1000, 1, 1},   {OP_NRM2, 4000, 1, 0},  {OP_IAMAX, 2048, 1, 0},
};

static uint32_t hash_u32(uint32_t h, uint32_t v)
{
    h ^= v;
    h *= 16777619u;
    return h;
}

/* fold a float into the hash through a coarse quantisation */
static uint32_t hash_float(uint32_t h, float f)
{
    double q = floor((double)f * 64.0 + 0.5);
    if (q > 2.0e9)
        q = 2.0e9;
    if (q < -2.0e9)
        q = -2.0e9;
    return hash_u32(h, (uint32_t)(int32_t)q);
}

int main(void)
{
    uint32_t h = 2166136261u;
    float total = 0.0f;
    int rep, k, i;
    int ncases = (int)(sizeof(cases) / sizeof(cases[0]));

    for (i = 0; i < VEC_LEN; i++) {
        xbuf[i] = frand();
        ybuf[i] = frand();
    }
    scopy(VEC_LEN, xbuf, 1, zbuf, 1);

    for (rep = 0; rep < 300; rep++) {
        for (k = 0; k < ncases; k++) {
            const struct testcase *tc = &cases[k];
            float r = 0.0f, a = 0.5f + 0.01f * (float)(rep % 7);
            float ga = frand(), gb = frand(), c, s;
            int idx;
            switch (tc->op) {
            case OP_DOT:
                r = sdot(tc->n, xbuf, tc->incx, ybuf, tc->incy);
                break;
            case OP_AXPY:
                saxpy(tc->n, (rep & 1) ? a : -a, xbuf, tc->incx, ybuf, tc->incy);
                r = ybuf[(rep * 37) % VEC_LEN];
                break;
            case OP_SCAL:
                sscal(tc->n, 1.0f / (1.0f + a), ybuf, tc->incx);
                r = ybuf[0];
                break;
            case OP_NRM2:
                r = snrm2(tc->n, ybuf, tc->incx);
                sscal(tc->n, 8.0f / (r + 1.0f), ybuf, tc->incx);
                break;
            case OP_ASUM:
                r = sasum(tc->n, xbuf, tc->incx) * 0.001f;
                break;
            case OP_IAMAX:
                idx = isamax(tc->n, ybuf, tc->incx);
                h = hash_u32(h, (uint32_t)idx);
                r = ybuf[idx * tc->incx];
                break;
            case OP_ROT:
                srotg(&ga, &gb, &c, &s);
                srot(tc->n, xbuf, tc->incx, ybuf, tc->incy, c, s);
                r = ga + gb;
                break;
            case OP_SWAP:
                sswap(tc->n, xbuf, tc->incx, ybuf, tc->incy);
                r = xbuf[1];
                break;
            }
            h = hash_float(h, r);
            total += r;
        }
        /* keep magnitudes bounded */
        {
            float nx = snrm2(VEC_LEN, xbuf, 1);
            float ny = snrm2(VEC_LEN, ybuf, 1);
            sscal(VEC_LEN, 40.0f / nx, xbuf, 1);
            sscal(VEC_LEN, 40.0f / ny, ybuf, 1);
            saxpy(VEC_LEN, 0.125f, zbuf, 1, xbuf, 1);
        }
    }
    printf("total %.6f\n", (double)total);
    printf("dot_final %.6f\n", (double)sdot(VEC_LEN, xbuf, 1, ybuf, 1));
    printf("checksum %08x\n", h);
    return 0;
}
