/* fft.c - Double precision radix-2 FFT of synthetic multi-tone signals: an
 * iterative in-place transform with bit reversal and precomputed twiddles, a
 * recursive decimation-in-time transform for cross-checking, peak picking on
 * the power spectrum and an inverse transform. Modelled on MiBench telecom/FFT. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <math.h>

#define LOG2N 12
#define N (1 << LOG2N)
#define NFRAMES 20
#define NPEAKS 4
#define PI 3.14159265358979323846

typedef struct { double re, im; } cplx;

static cplx signal_buf[N], spectrum[N], scratch[N], recur_out[N], recur_tmp[N];
static double twiddle_cos[N / 2], twiddle_sin[N / 2];
static double power[N / 2];

static uint32_t lcg_state = 1u;
static uint32_t lcg(void)
{
    lcg_state = lcg_state * 1103515245u + 12345u;
    return (lcg_state >> 8) & 0xFFFFFFu;
}
static double uniform(void) { return (double)lcg() / 16777216.0; }

static void init_twiddles(void)
{
    int k;
    for (k = 0; k < N / 2; k++) {
        double a = -2.0 * PI * (double)k / (double)N;
        twiddle_cos[k] = cos(a);
        twiddle_sin[k] = sin(a);
    }
}

static unsigned reverse_bits(unsigned x, int bits)
{
    unsigned r = 0;
    int i;
    for (i = 0; i < bits; i++) {
        r = (r << 1) | (x & 1u);
        x >>= 1;
    }
    return r;
}

/* in-place iterative FFT; inverse uses conjugated twiddles and 1/N scaling */
static void fft_iterative(cplx *x, int inverse)
{
    unsigned i, j;
    int size, half, step, k;
    for (i = 0; i < N; i++) {
        j = reverse_bits(i, LOG2N);
        if (j > i) { cplx t = x[i]; x[i] = x[j]; x[j] = t; }
    }
    for (size = 2; size <= N; size *= 2) {
        half = size / 2;
        step = N / size;
        for (i = 0; i < N; i += (unsigned)size)
            for (k = 0; k < half; k++) {
                double wr = twiddle_cos[k * step], wi = inverse ? -twiddle_sin[k * step] : twiddle_sin[k * step];
                cplx *a = &x[i + (unsigned)k], *b = &x[i + (unsigned)k + (unsigned)half];
                double tr = b->re * wr - b->im * wi, ti = b->re * wi + b->im * wr;
                b->re = a->re - tr; b->im = a->im - ti;
                a->re += tr; a->im += ti;
            }
    }
    if (inverse)
        for (i = 0; i < N; i++) { x[i].re /= N; x[i].im /= N; }
}

/* recursive radix-2 DIT: out[0..n) = DFT of in[0], in[stride], ... */
static void fft_recursive(const cplx *in, cplx *out, cplx *tmp, int n, int stride)
{
    int k, half = n / 2, tw_step;
    if (n == 1) { out[0] = in[0]; return; }
    fft_recursive(in, tmp, out, half, stride * 2);
    fft_recursive(in + stride, tmp + half, out + half, half, stride * 2);
    tw_step = N / n;
    for (k = 0; k < half; k++) {
        const cplx e = tmp[k], o = tmp[k + half];
        double wr = twiddle_cos[k * tw_step], wi = twiddle_sin[k * tw_step];
        double tr = o.re * wr - o.im * wi, ti = o.re * wi + o.im * wr;
        out[k].re = e.re + tr; out[k].im = e.im + ti;
        out[k + half].re = e.re - tr; out[k + half].im = e.im - ti;
    }
}

static void make_signal(cplx *x, int frame, double *freqs, double *amps)
{
    int t, w;
    for (w = 0; w < NPEAKS; w++) {
        freqs[w] = 20.0 + (double)(lcg() % 1900) + 0.25 * (double)(frame % 4);
        amps[w] = 0.5 + 4.0 * uniform();
    }
    for (t = 0; t < N; t++) {
        double v = 0.0;
        for (w = 0; w < NPEAKS; w++)
            v += amps[w] * sin(2.0 * PI * freqs[w] * (double)t / (double)N + (double)w);
        x[t].re = v + 0.05 * (uniform() - 0.5);
        x[t].im = 0.0;
    }
}

static int compare_desc(const void *pa, const void *pb)
{
    int a = *(const int *)pa, b = *(const int *)pb;
    if (power[a] > power[b]) return -1;
    if (power[a] < power[b]) return 1;
    return a - b;
}

static void find_peaks(const cplx *x, int *peaks)
{
    static int idx[N / 2];
    int k, n = 0;
    for (k = 0; k < N / 2; k++)
        power[k] = x[k].re * x[k].re + x[k].im * x[k].im;
    for (k = 1; k < N / 2 - 1; k++)
        if (power[k] > power[k - 1] && power[k] >= power[k + 1]) idx[n++] = k;
    qsort(idx, (size_t)n, sizeof idx[0], compare_desc);
    for (k = 0; k < NPEAKS; k++) peaks[k] = k < n ? idx[k] : -1;
}

int main(void)
{
    uint64_t h = 1469598103934665603ULL;
    double max_inv_err = 0.0, max_alg_diff = 0.0, total_energy = 0.0;
    int frame, k, peaks[NPEAKS];
    init_twiddles();
    for (frame = 0; frame < NFRAMES; frame++) {
        double freqs[NPEAKS], amps[NPEAKS];
        make_signal(signal_buf, frame, freqs, amps);
        for (k = 0; k < N; k++) spectrum[k] = signal_buf[k];
        fft_iterative(spectrum, 0);
        fft_recursive(signal_buf, recur_out, recur_tmp, N, 1);
        for (k = 0; k < N; k++) {
            double d = fabs(spectrum[k].re - recur_out[k].re) + fabs(spectrum[k].im - recur_out[k].im);
            if (d > max_alg_diff) max_alg_diff = d;
        }
        find_peaks(spectrum, peaks);
        for (k = 0; k < N / 2; k++) {
            total_energy += power[k];
            h = (h ^ (uint64_t)(int64_t)llround(sqrt(power[k]) * 64.0)) * 1099511628211ULL;
        }
        for (k = 0; k < NPEAKS; k++) h = (h ^ (uint64_t)(peaks[k] + 1)) * 1099511628211ULL;
        if (frame % 3 == 0)
            printf("frame %d peaks %d %d %d %d (tone0 %.2f amp %.4f |X| %.4f)\n", frame, peaks[0], peaks[1],
                   peaks[2], peaks[3], freqs[0], amps[0], sqrt(power[peaks[0]]) * 2.0 / N);
        for (k = 0; k < N; k++) scratch[k] = spectrum[k];
        fft_iterative(scratch, 1);
        for (k = 0; k < N; k++) {
            double e = fabs(scratch[k].re - signal_buf[k].re) + fabs(scratch[k].im);
            if (e > max_inv_err) max_inv_err = e;
        }
    }
    printf("energy %.6e\n", total_energy);
    printf("inverse error below 1e-9: %s, algorithms agree within 1e-8: %s\n",
           max_inv_err < 1e-9 ? "yes" : "no", max_alg_diff < 1e-8 ? "yes" : "no");
    printf("checksum %016llx\n", (unsigned long long)h);
    return 0;
}
