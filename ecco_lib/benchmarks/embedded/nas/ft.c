/* ft.c - spectral solution of a 3D diffusion equation with complex FFTs.
 * Modelled on the NAS Parallel Benchmarks FT kernel: random complex initial
 * data is transformed with a radix-2 3D FFT, evolved in Fourier space by an
 * exponential decay factor, inverse-transformed, and sampled for checksums. */
#include <stdio.h>
#include <stdint.h>
#include <math.h>

#define NX     32
#define NY     32
#define NZ     32
#define LOGMAX 5
#define NMAX   32
#define NITER  6
#define ALPHA  1.0e-6

typedef struct {
    double re, im;
} dcomplex;

typedef struct {
    int n, logn;
    int rev[NMAX];
    dcomplex tw[NMAX / 2];   /* exp(-2 pi i k / n) */
} fftplan_t;

static dcomplex u0[NZ][NY][NX];   /* spectral initial state */
static dcomplex u1[NZ][NY][NX];   /* work array */
static double twiddle[NZ][NY][NX];
static dcomplex line[NMAX];
static fftplan_t plans[LOGMAX + 1];

static inline dcomplex cmul(dcomplex a, dcomplex b)
{
    dcomplex c;
    c.re = a.re * b.re - a.im * b.im;
    c.im = a.re * b.im + a.im * b.re;
    return c;
}

static unsigned bitrev(unsigned v, int bits)
{
    unsigned r = 0;
    int b;
    for (b = 0; b < bits; b++) {
        r = (r << 1) | (v & 1u);
        v >>= 1;
    }
    return r;
}

static void make_plan(fftplan_t *p, int logn)
{
    int k;
    const double pi = 3.14159265358979323846;
    p->logn = logn;
    p->n = 1 << logn;
    for (k = 0; k < p->n; k++)
        p->rev[k] = (int)bitrev((unsigned)k, logn);
    for (k = 0; k < p->n / 2; k++) {
        double ang = -2.0 * pi * (double)k / (double)p->n;
        p->tw[k].re = cos(ang);
        p->tw[k].im = sin(ang);
    }
}

static const fftplan_t *plan_for(int n)
{
    int l = 0;
    while ((1 << l) < n)
        l++;
    return &plans[l];
}

/* in-place iterative radix-2 FFT; dir = +1 forward, -1 inverse (unscaled) */
static void fft1d(dcomplex *a, const fftplan_t *p, int dir)
{
    int n = p->n, len, i, k;
    for (i = 0; i < n; i++) {
        int j = p->rev[i];
        if (j > i) {
            dcomplex t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
    for (len = 2; len <= n; len <<= 1) {
        int half = len >> 1, step = n / len;
        for (i = 0; i < n; i += len) {
            for (k = 0; k < half; k++) {
                dcomplex w = p->tw[k * step];
                dcomplex t, x;
                if (dir < 0)
                    w.im = -w.im;
                t = cmul(w, a[i + k + half]);
                x = a[i + k];
                a[i + k].re = x.re + t.re;
                a[i + k].im = x.im + t.im;
                a[i + k + half].re = x.re - t.re;
                a[i + k + half].im = x.im - t.im;
            }
        }
    }
}

/* 3D FFT via gathered 1D transforms along x, then y, then z */
static void fft3d(dcomplex (*g)[NY][NX], int dir)
{
    int x, y, z;
    const fftplan_t *px = plan_for(NX), *py = plan_for(NY), *pz = plan_for(NZ);

    for (z = 0; z < NZ; z++)
        for (y = 0; y < NY; y++)
            fft1d(&g[z][y][0], px, dir);
    for (z = 0; z < NZ; z++)
        for (x = 0; x < NX; x++) {
            for (y = 0; y < NY; y++)
                line[y] = g[z][y][x];
            fft1d(line, py, dir);
            for (y = 0; y < NY; y++)
                g[z][y][x] = line[y];
        }
    for (y = 0; y < NY; y++)
        for (x = 0; x < NX; x++) {
            for (z = 0; z < NZ; z++)
                line[z] = g[z][y][x];
            fft1d(line, pz, dir);
            for (z = 0; z < NZ; z++)
                g[z][y][x] = line[z];
        }
}

static double lcg_state = 314159265.0;

/* NAS-style 46-bit LCG done in integer arithmetic */
static double randlc(void)
{
    uint64_t s = (uint64_t)lcg_state;
    s = (s * UINT64_C(1220703125)) & ((UINT64_C(1) << 46) - 1);
    lcg_state = (double)s;
    return (double)s / 70368744177664.0;
}

static void init_data(void)
{
    int x, y, z;
    for (z = 0; z < NZ; z++)
        for (y = 0; y < NY; y++)
            for (x = 0; x < NX; x++) {
                u1[z][y][x].re = randlc();
                u1[z][y][x].im = randlc();
            }
}

static int wrapfreq(int i, int n)
{
    return (i < n / 2) ? i : i - n;
}

static void init_twiddle(void)
{
    const double pi = 3.14159265358979323846;
    double ap = -4.0 * ALPHA * pi * pi;
    int x, y, z;
    for (z = 0; z < NZ; z++)
        for (y = 0; y < NY; y++)
            for (x = 0; x < NX; x++) {
                int kx = wrapfreq(x, NX), ky = wrapfreq(y, NY), kz = wrapfreq(z, NZ);
                twiddle[z][y][x] = exp(ap * (double)(kx * kx + ky * ky + kz * kz));
            }
}

static void evolve(int t)
{
    int x, y, z;
    for (z = 0; z < NZ; z++)
        for (y = 0; y < NY; y++)
            for (x = 0; x < NX; x++) {
                double f = pow(twiddle[z][y][x], (double)t);
                u1[z][y][x].re = u0[z][y][x].re * f;
                u1[z][y][x].im = u0[z][y][x].im * f;
            }
}

static dcomplex checksum_sample(void)
{
    dcomplex s = { 0.0, 0.0 };
    int j;
    double scale = 1.0 / ((double)NX * NY * NZ);
    for (j = 1; j <= 1024; j++) {
        int q = j % NX, r = (3 * j) % NY, c = (5 * j) % NZ;
        s.re += u1[c][r][q].re;
        s.im += u1[c][r][q].im;
    }
    s.re *= scale;
    s.im *= scale;
    return s;
}

int main(void)
{
    int l, t, x, y, z;
    uint32_t h = 0x811C9DC5u;

    for (l = 0; l <= LOGMAX; l++)
        make_plan(&plans[l], l);
    init_data();
    init_twiddle();
    fft3d(u1, 1);
    for (z = 0; z < NZ; z++)
        for (y = 0; y < NY; y++)
            for (x = 0; x < NX; x++)
                u0[z][y][x] = u1[z][y][x];

    for (t = 1; t <= NITER; t++) {
        dcomplex cs;
        evolve(t);
        fft3d(u1, -1);
        cs = checksum_sample();
        printf("T=%d checksum %.6e %.6e\n", t, cs.re, cs.im);
        h ^= (uint32_t)(int64_t)(cs.re * 1.0e6);
        h *= 16777619u;
        h ^= (uint32_t)(int64_t)(cs.im * 1.0e6);
        h *= 16777619u;
    }
    printf("checksum %08x\n", h);
    return 0;
}
