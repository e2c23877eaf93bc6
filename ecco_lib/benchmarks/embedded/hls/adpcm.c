/* adpcm.c - Two-band sub-band ADPCM speech codec in the style of ITU G.722:
 * QMF analysis, per-band adaptive quantiser with log-domain step adaptation and
 * a 2-pole/6-zero sign-sign LMS predictor, decoder and QMF synthesis.
 * Modelled on the CHStone "adpcm" HLS kernel (own tables and filter design). */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

#define NSAMPLES 120000
#define QMF_TAPS 16
#define QMF_DELAY 15   /* end-to-end group delay of the analysis/synthesis pair */

typedef struct {
    int32_t nb;          /* log-domain scale factor */
    int32_t det;         /* linear step size */
    int32_t a[2];        /* pole coefficients, Q14 */
    int32_t b[6];        /* zero coefficients, Q14 */
    int32_t dq[6];       /* quantised difference history */
    int32_t p[2];        /* partial reconstruction history (dq + sz) */
    int32_t r[2];        /* reconstructed signal history */
    int32_t sz, se;
} band_state;

typedef struct {
    int nlevels;               /* number of magnitude levels */
    const int16_t *decision;   /* decision thresholds, Q8 of det */
    const int16_t *recon;      /* reconstruction levels, Q8 of det */
    const int16_t *wl;         /* log scale-factor multipliers */
    int32_t nb_max;
} quantiser;

static const int16_t low_decision[15] = { 35, 72, 110, 150, 190, 233, 276, 323, 371, 422, 478, 540, 612, 698, 811 };
static const int16_t low_recon[16] = { 17, 53, 91, 130, 170, 211, 254, 299, 347, 396, 450, 509, 576, 655, 754, 900 };
static const int16_t low_wl[16] = { -60, -30, -10, 10, 40, 80, 130, 190, 260, 340, 430, 530, 640, 760, 900, 1050 };
static const int16_t high_decision[1] = { 180 };
static const int16_t high_recon[2] = { 90, 330 };
static const int16_t high_wl[2] = { -200, 800 };
/* 16-tap linear-phase QMF prototype (Johnston 16A response), Q11 */
static const int16_t qmf_coef[QMF_TAPS] = { 6, -20, -4, 74, -33, -195, 219, 978, 978, 219, -195, -33, 74, -4, -20, 6 };

static const quantiser low_q = { 16, low_decision, low_recon, low_wl, 18432 };
static const quantiser high_q = { 2, high_decision, high_recon, high_wl, 22528 };

static int32_t ilb[32];
static int16_t input[NSAMPLES];
static int16_t output[NSAMPLES];
static uint8_t codes[NSAMPLES];

static int32_t clamp16(int64_t v)
{
    if (v > 32767) return 32767;
    if (v < -32768) return -32768;
    return (int32_t)v;
}

static int sgn(int32_t v) { return (v > 0) - (v < 0); }

static void init_tables(void)
{
    /* ilb[k] = 2048 * 2^(k/32) computed with a Q16 multiplier */
    int64_t v = 2048 << 16;
    int k;
    for (k = 0; k < 32; k++) {
        ilb[k] = (int32_t)((v + 32768) >> 16);
        v = (v * 66971) >> 16;
    }
}

static void band_reset(band_state *s)
{
    int i;
    s->nb = 0;
    s->det = 32;
    s->a[0] = s->a[1] = 0;
    for (i = 0; i < 6; i++) s->b[i] = s->dq[i] = 0;
    s->p[0] = s->p[1] = s->r[0] = s->r[1] = 0;
    s->sz = s->se = 0;
}

static void predict(band_state *s)
{
    int64_t zero = 0, pole;
    int i;
    for (i = 0; i < 6; i++)
        zero += (int64_t)s->b[i] * s->dq[i];
    s->sz = clamp16(zero >> 14);
    pole = (int64_t)s->a[0] * s->r[0] + (int64_t)s->a[1] * s->r[1];
    s->se = clamp16((pole >> 14) + s->sz);
}

static int32_t step_from_log(int32_t nb)
{
    int wd1 = (nb >> 6) & 31, wd2 = 8 - (nb >> 11);
    int32_t d = wd2 >= 0 ? (ilb[wd1] >> wd2) : (ilb[wd1] * (1 << -wd2));
    return d * 4;
}

/* shared by encoder and decoder: inverse quantise, adapt step size and predictor */
static int32_t update_band(band_state *s, const quantiser *q, int code)
{
    int mag = code >> 1, neg = code & 1, i;
    int32_t dq = (int32_t)(((int64_t)q->recon[mag] * s->det) >> 8);
    int32_t p, rec, lim;
    if (neg) dq = -dq;
    dq = clamp16(dq);
    rec = clamp16((int64_t)s->se + dq);
    p = clamp16((int64_t)dq + s->sz);

    s->nb = (int32_t)(((int64_t)s->nb * 32512) >> 15) + q->wl[mag];
    if (s->nb < 0) s->nb = 0;
    if (s->nb > q->nb_max) s->nb = q->nb_max;
    s->det = step_from_log(s->nb);

    for (i = 0; i < 6; i++) {
        int32_t g = 0;
        if (dq != 0)
            g = sgn(dq) == sgn(s->dq[i]) ? 128 : -128;
        s->b[i] = s->b[i] - (s->b[i] >> 8) + g;
    }
    s->a[1] = s->a[1] - (s->a[1] >> 7) + (sgn(p) * sgn(s->p[1]) >= 0 ? 128 : -128);
    if (s->a[1] > 12288) s->a[1] = 12288;
    if (s->a[1] < -12288) s->a[1] = -12288;
    s->a[0] = s->a[0] - (s->a[0] >> 8) + (sgn(p) * sgn(s->p[0]) >= 0 ? 192 : -192);
    lim = 15360 - s->a[1];
    if (s->a[0] > lim) s->a[0] = lim;
    if (s->a[0] < -lim) s->a[0] = -lim;

    for (i = 5; i > 0; i--) s->dq[i] = s->dq[i - 1];
    s->dq[0] = dq;
    s->p[1] = s->p[0]; s->p[0] = p;
    s->r[1] = s->r[0]; s->r[0] = rec;
    predict(s);
    return rec;
}

static int quantise(const band_state *s, const quantiser *q, int32_t x)
{
    int32_t e = x - s->se;
    int64_t mag = llabs((long long)e) * 256;
    int level = 0;
    while (level < q->nlevels - 1 && mag >= (int64_t)q->decision[level] * s->det)
        level++;
    return level * 2 + (e < 0);
}

typedef struct {
    int32_t delay[QMF_TAPS + 2];
} qmf_state;

/* delay[i] = x[t - i]; one low and one high band sample per input pair */
static void qmf_analysis(qmf_state *q, int32_t x0, int32_t x1, int32_t *lo, int32_t *hi)
{
    int64_t even = 0, odd = 0;
    int i;
    for (i = QMF_TAPS - 1; i >= 2; i--) q->delay[i] = q->delay[i - 2];
    q->delay[1] = x0;
    q->delay[0] = x1;
    for (i = 0; i < QMF_TAPS; i += 2) {
        even += (int64_t)qmf_coef[i] * q->delay[i];
        odd += (int64_t)qmf_coef[i + 1] * q->delay[i + 1];
    }
    *lo = clamp16((even + odd) >> 11);
    *hi = clamp16((even - odd) >> 11);
}

/* delay[2j] = (lo - hi)[m - j], delay[2j + 1] = (lo + hi)[m - j]; output gain 2 */
static void qmf_synthesis(qmf_state *q, int32_t lo, int32_t hi, int32_t *y0, int32_t *y1)
{
    int64_t even = 0, odd = 0;
    int j;
    for (j = QMF_TAPS + 1; j >= 2; j--) q->delay[j] = q->delay[j - 2];
    q->delay[0] = lo - hi;
    q->delay[1] = lo + hi;
    for (j = 0; j < QMF_TAPS / 2; j++) {
        odd += (int64_t)qmf_coef[2 * j + 1] * q->delay[2 * j + 3];
        even += (int64_t)qmf_coef[2 * j] * q->delay[2 * j];
    }
    *y0 = clamp16(odd >> 10);
    *y1 = clamp16(even >> 10);
}

static void make_input(void)
{
    /* two resonators (integer recurrences) plus a noise burst every 1000 samples */
    int64_t s1a = 0, s1b = 1 << 28, s2a = 0, s2b = 1 << 27;
    const int64_t c1 = 2 * 1013505000LL, c2 = 2 * 884000000LL;
    uint32_t noise = 0xACE1u;
    int n;
    for (n = 0; n < NSAMPLES; n++) {
        int64_t t1 = ((c1 * s1b) >> 30) - s1a, t2 = ((c2 * s2b) >> 30) - s2a;
        int32_t v;
        s1a = s1b; s1b = t1;
        s2a = s2b; s2b = t2;
        noise = noise * 1664525u + 1013904223u;
        v = (int32_t)((s1b >> 16) + (s2b >> 16));
        if ((n / 1000) % 3 == 2)
            v += (int32_t)(noise >> 20) - 2048;
        input[n] = (int16_t)clamp16(v);
    }
}

int main(void)
{
    band_state enc_lo, enc_hi, dec_lo, dec_hi;
    qmf_state qa = { { 0 } }, qs = { { 0 } };
    uint32_t h = 0x811C9DC5u;
    int64_t err_energy = 0, sig_energy = 0;
    int n, desync = 0;
    init_tables();
    make_input();
    band_reset(&enc_lo); band_reset(&enc_hi);
    band_reset(&dec_lo); band_reset(&dec_hi);
    for (n = 0; n < NSAMPLES; n += 2) {
        int32_t lo, hi, rlo_e, rhi_e, rlo_d, rhi_d, y0, y1;
        int cl, ch;
        qmf_analysis(&qa, input[n], input[n + 1], &lo, &hi);
        cl = quantise(&enc_lo, &low_q, lo);
        ch = quantise(&enc_hi, &high_q, hi);
        rlo_e = update_band(&enc_lo, &low_q, cl);
        rhi_e = update_band(&enc_hi, &high_q, ch);
        codes[n / 2] = (uint8_t)((ch << 5) | cl);
        /* decoder side only sees the packed code */
        rlo_d = update_band(&dec_lo, &low_q, codes[n / 2] & 31);
        rhi_d = update_band(&dec_hi, &high_q, codes[n / 2] >> 5);
        desync += (rlo_d != rlo_e) + (rhi_d != rhi_e);
        qmf_synthesis(&qs, rlo_d, rhi_d, &y0, &y1);
        output[n] = (int16_t)y0;
        output[n + 1] = (int16_t)y1;
    }
    for (n = QMF_DELAY; n < NSAMPLES; n++) {
        int64_t d = (int64_t)input[n - QMF_DELAY] - output[n];
        sig_energy += (int64_t)input[n - QMF_DELAY] * input[n - QMF_DELAY];
        err_energy += d * d;
    }
    for (n = 0; n < NSAMPLES; n++)
        h = (h ^ (uint16_t)output[n]) * 16777619u;
    for (n = 0; n < NSAMPLES / 2; n++)
        h = (h ^ codes[n]) * 16777619u;
    printf("desync %d\n", desync);
    printf("signal energy %lld error energy %lld\n", (long long)sig_energy, (long long)err_energy);
    printf("final nb %d %d det %d %d\n", enc_lo.nb, enc_hi.nb, enc_lo.det, enc_hi.det);
    printf("checksum %08x\n", h);
    return 0;
}
