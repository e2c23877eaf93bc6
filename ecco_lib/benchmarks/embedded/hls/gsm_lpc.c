/* gsm_lpc.c - GSM full-rate style speech analysis in 16-bit saturating fixed
 * point: pre-emphasis, autocorrelation, Schur recursion to reflection
 * coefficients, log-area-ratio quantisation with interpolation, lattice
 * short-term analysis/synthesis filters and an open-loop long-term predictor
 * search. Modelled on the CHStone "gsm" kernel (own quantiser design). */
#include <stdio.h>
#include <stdint.h>

#define FRAME 160
#define NFRAMES 240
#define ORDER 8

typedef int16_t word;
typedef int32_t longword;

typedef struct {
    word z1;              /* offset compensation state */
    int64_t L_z2;
    word mp;              /* pre-emphasis memory */
    word LARpp_prev[ORDER];
    word u[ORDER];        /* analysis lattice memory */
    word v[ORDER + 1];    /* synthesis lattice memory */
    word dp[120 + FRAME]; /* residual history for the long-term predictor */
} gsm_state;

static const word lar_step[ORDER] = { 832, 832, 1664, 1664, 3328, 3328, 6656, 6656 };
static const longword lar_inv_step[ORDER] = { 1260, 1260, 630, 630, 315, 315, 158, 158 }; /* 2^20 / step */
static const word lar_bits[ORDER] = { 6, 6, 5, 5, 4, 4, 3, 3 };
static const word ltp_thresh[3] = { 6554, 16384, 26214 };
static const word ltp_level[4] = { 3277, 11469, 21299, 32767 };

static word speech[NFRAMES * FRAME];

static word sat(longword x) { return (word)(x > 32767 ? 32767 : (x < -32768 ? -32768 : x)); }
static word add(word a, word b) { return sat((longword)a + b); }
static word sub(word a, word b) { return sat((longword)a - b); }
static word mult_r(word a, word b) { return sat(((longword)a * b + 16384) >> 15); }
static word abs_s(word a) { return a == -32768 ? 32767 : (a < 0 ? (word)-a : a); }

/* num / denom in Q15 for 0 <= num <= denom, by restoring division */
static word div_q15(word num, word denom)
{
    longword L_num = num, L_denom = denom;
    word q = 0;
    int k;
    if (num == 0) return 0;
    for (k = 0; k < 15; k++) {
        q = (word)(q * 2);
        L_num *= 2;
        if (L_num >= L_denom) { L_num -= L_denom; q = (word)(q + 1); }
    }
    return q;
}

static void preprocess(gsm_state *st, const word *in, word *out)
{
    int k;
    for (k = 0; k < FRAME; k++) {
        word s1 = (word)(in[k] / 2 - st->z1), so;   /* offset compensation (high-pass) */
        st->z1 = (word)(in[k] / 2);
        st->L_z2 = (int64_t)s1 * 16384 + (st->L_z2 * 32735) / 32768;
        so = sat((longword)((st->L_z2 + 8192) / 16384));
        out[k] = add(so, mult_r(st->mp, -28180));  /* pre-emphasis */
        st->mp = so;
    }
}

static void autocorrelation(const word *s, int64_t *acf)
{
    int k, i;
    for (k = 0; k <= ORDER; k++) {
        int64_t sum = 0;
        for (i = k; i < FRAME; i++)
            sum += (longword)s[i] * s[i - k];
        acf[k] = sum;
    }
}

static void schur(const int64_t *L_acf, word *r)
{
    word acf[ORDER + 1], P[ORDER + 1], K[ORDER + 1];
    int i, n, m;
    if (L_acf[0] == 0) {
        for (i = 0; i < ORDER; i++) r[i] = 0;
        return;
    }
    {
        /* scale all lags by the same power of two so that acf[0] lands in [2^14, 2^15) */
        int64_t a0 = L_acf[0];
        int down = 0, up = 0;
        while (a0 >= 32768) { a0 /= 2; down++; }
        while (a0 < 16384) { a0 *= 2; up++; }
        for (i = 0; i <= ORDER; i++) {
            int64_t v = L_acf[i];
            int j;
            for (j = 0; j < down; j++) v /= 2;
            for (j = 0; j < up; j++) v *= 2;
            acf[i] = sat((longword)v);
        }
    }
    for (i = 0; i <= ORDER; i++) P[i] = acf[i];
    for (i = 1; i < ORDER; i++) K[i] = acf[i];
    for (n = 1; n <= ORDER; n++) {
        word rn;
        if (P[0] < abs_s(P[1])) {
            for (i = n; i <= ORDER; i++) r[i - 1] = 0;
            return;
        }
        rn = div_q15(abs_s(P[1]), P[0]);
        if (P[1] > 0) rn = (word)-rn;
        r[n - 1] = rn;
        if (n == ORDER) return;
        P[0] = add(P[0], mult_r(P[1], rn));
        for (m = 1; m <= ORDER - n; m++) {
            word old = P[m + 1];
            P[m] = add(old, mult_r(K[m], rn));
            K[m] = add(K[m], mult_r(old, rn));
        }
    }
}

static word reflection_to_lar(word r)
{
    word a = abs_s(r), lar;
    if (a < 22118) lar = (word)(a / 2);
    else if (a < 31130) lar = (word)(a - 11059);
    else lar = (word)((a - 26112) * 4);
    return r < 0 ? (word)-lar : lar;
}

static word lar_to_reflection(word lar)
{
    word a = abs_s(lar), r;
    if (a < 11059) r = (word)(a * 2);
    else if (a < 20070) r = (word)(a + 11059);
    else r = add((word)(a / 4), 26112);
    return lar < 0 ? (word)-r : r;
}

static void quantise_lars(const word *r, word *LARc)
{
    int i;
    for (i = 0; i < ORDER; i++) {
        longword q = ((longword)reflection_to_lar(r[i]) * lar_inv_step[i] + (1 << 19)) >> 20;
        longword lim = 1 << (lar_bits[i] - 1);
        if (q >= lim) q = lim - 1;
        if (q < -lim) q = -lim;
        LARc[i] = (word)q;
    }
}

static void lattice_filters(gsm_state *st, const word *rp, const word *s, word *d, word *rec, int n)
{
    int k, i;
    for (k = 0; k < n; k++) {
        word di = s[k], sav = di, sri;
        for (i = 0; i < ORDER; i++) {
            word zzz = st->u[i];
            st->u[i] = sav;
            sav = add(zzz, mult_r(rp[i], di));
            di = add(di, mult_r(rp[i], zzz));
        }
        d[k] = di;
        sri = di;
        for (i = ORDER - 1; i >= 0; i--) {
            sri = sub(sri, mult_r(rp[i], st->v[i]));
            st->v[i + 1] = add(st->v[i], mult_r(rp[i], sri));
        }
        st->v[0] = sri;
        rec[k] = sri;
    }
}

/* open-loop long-term predictor: best lag 40..120 and quantised gain per sub-frame */
static int64_t ltp_search(gsm_state *st, const word *d, int *lags, int *gains)
{
    int64_t resid_energy = 0;
    int sub_fr, lag, k;
    for (k = 0; k < 120; k++) st->dp[k] = st->dp[k + FRAME];
    for (k = 0; k < FRAME; k++) st->dp[120 + k] = d[k];
    for (sub_fr = 0; sub_fr < 4; sub_fr++) {
        const word *cur = st->dp + 120 + sub_fr * 40;
        int64_t best = -1, energy = 0;
        int best_lag = 40, g;
        for (lag = 40; lag <= 120; lag++) {
            int64_t cc = 0;
            for (k = 0; k < 40; k++) cc += (longword)cur[k] * cur[k - lag];
            if (cc > best) { best = cc; best_lag = lag; }
        }
        for (k = 0; k < 40; k++) energy += (longword)cur[k - best_lag] * cur[k - best_lag];
        g = 0;
        if (best > 0 && energy > 0) {
            int64_t ratio = (best * 32768) / energy;
            while (g < 3 && ratio > ltp_thresh[g]) g++;
        }
        for (k = 0; k < 40; k++) {
            longword e = (longword)cur[k] - mult_r(ltp_level[g], cur[k - best_lag]);
            resid_energy += (int64_t)e * e;
        }
        lags[sub_fr] = best_lag;
        gains[sub_fr] = g;
    }
    return resid_energy;
}

static void encode_frame(gsm_state *st, const word *in, word *LARc, word *d, word *rec)
{
    static const int seg_start[5] = { 0, 13, 27, 40, FRAME };
    word s[FRAME], r[ORDER], LARpp[ORDER], LARp[ORDER], rp[ORDER];
    int64_t acf[ORDER + 1];
    int i, j;
    preprocess(st, in, s);
    autocorrelation(s, acf);
    schur(acf, r);
    quantise_lars(r, LARc);
    for (i = 0; i < ORDER; i++) LARpp[i] = (word)(LARc[i] * lar_step[i]);
    for (j = 0; j < 4; j++) {
        for (i = 0; i < ORDER; i++) {
            switch (j) {
            case 0: LARp[i] = add((word)(st->LARpp_prev[i] / 4 * 3), (word)(LARpp[i] / 4)); break;
            case 1: LARp[i] = add((word)(st->LARpp_prev[i] / 2), (word)(LARpp[i] / 2)); break;
            case 2: LARp[i] = add((word)(st->LARpp_prev[i] / 4), (word)(LARpp[i] / 4 * 3)); break;
            default: LARp[i] = LARpp[i]; break;
            }
            rp[i] = lar_to_reflection(LARp[i]);
        }
        lattice_filters(st, rp, s + seg_start[j], d + seg_start[j], rec + seg_start[j],
                        seg_start[j + 1] - seg_start[j]);
    }
    for (i = 0; i < ORDER; i++) st->LARpp_prev[i] = LARpp[i];
    for (i = 0; i < FRAME; i++) rec[i] = sub(rec[i], s[i]);
}

static void make_speech(void)
{
    uint32_t seed = 0x1234567u;
    int64_t y1 = 0, y2 = 0, z1 = 0, z2 = 0;
    int n, next_pulse = 0, pitch = 80;
    for (n = 0; n < NFRAMES * FRAME; n++) {
        int64_t x, y, z;
        seed = seed * 1103515245u + 12345u;
        x = (int64_t)((seed >> 16) & 0x3FF) - 512;
        if (n == next_pulse) {
            x += 12000;
            pitch = 60 + (int)((n / 1600) % 5) * 12;
            next_pulse = n + pitch;
        }
        /* two damped resonators in Q14 approximate the first two formants */
        y = x + ((29000 * y1 - 15400 * y2) >> 14);
        y2 = y1; y1 = y;
        z = y / 4 + ((19000 * z1 - 14800 * z2) >> 14);
        z2 = z1; z1 = z;
        speech[n] = sat((longword)(z > 2000000 ? 2000000 : (z < -2000000 ? -2000000 : z)) / 2);
    }
}

int main(void)
{
    static gsm_state st;
    word LARc[ORDER], d[FRAME], err[FRAME];
    int lags[4], gains[4], f, i;
    uint32_t h = 2166136261u;
    int64_t ltp_total = 0, synth_err = 0;
    make_speech();
    for (f = 0; f < NFRAMES; f++) {
        encode_frame(&st, speech + f * FRAME, LARc, d, err);
        ltp_total += ltp_search(&st, d, lags, gains);
        for (i = 0; i < ORDER; i++) h = (h ^ (uint16_t)LARc[i]) * 16777619u;
        for (i = 0; i < 4; i++) h = (h ^ (uint32_t)(lags[i] * 4 + gains[i])) * 16777619u;
        for (i = 0; i < FRAME; i++) {
            h = (h ^ (uint16_t)d[i]) * 16777619u;
            synth_err += (longword)err[i] * err[i];
        }
        if (f % 60 == 0)
            printf("frame %3d LARc %d %d %d %d lag %d gain %d\n", f, LARc[0], LARc[1], LARc[2], LARc[3],
                   lags[0], gains[0]);
    }
    printf("ltp residual energy %lld synthesis error %lld\n", (long long)ltp_total, (long long)synth_err);
    printf("checksum %08x\n", h);
    return 0;
}
