/* Asymmetric uint8 quantized fully-connected network (gemmlowp / TFLite uint8
 * scheme): a recursive blocked uint8 GEMM with int32 accumulators, zero-point
 * correction via row/column sums, fixed-point requantization with positive and
 * negative shifts, fused ReLU and a 256-entry LUT logistic activation. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <math.h>
#include <limits.h>

#define BATCH 64
#define D0 256
#define D1 128
#define D2 64
#define D3 10
#define LEAF_WORK 2048

typedef enum { FUSED_NONE, FUSED_RELU, FUSED_LUT_LOGISTIC } FusedAct;

typedef struct {
    float scale;
    int32_t zero_point;
} QParams;

typedef struct {
    int in, out;
    const uint8_t *w;      /* [out][in] */
    const int32_t *bias;   /* scale = in_scale * w_scale, zero point 0 */
    QParams wq;
    int32_t w_row_sum[D1]; /* sum over k of w[n][k] */
    FusedAct act;
} FCLayer;

static uint8_t g_w1[D1 * D0], g_w2[D2 * D1], g_w3[D3 * D2];
static int32_t g_b1[D1], g_b2[D2], g_b3[D3];
static uint8_t g_x[BATCH * D0], g_h1[BATCH * D1], g_h2[BATCH * D2], g_out[BATCH * D3];
static int32_t g_acc[BATCH * D1];
static uint8_t g_logistic_lut[256];

static uint32_t g_rng = 12345u;

static uint32_t rng_next(void)
{
    g_rng = g_rng * 1103515245u + 12345u;
    return (g_rng >> 16) & 0x7FFFu;
}

/* ---------- fixed-point arithmetic ---------- */
static int32_t sat_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    int64_t ab = (int64_t)a * b;
    int64_t nudge = ab >= 0 ? (1ll << 30) : (1 - (1ll << 30));
    return (int32_t)((ab + nudge) / (1ll << 31));
}

static int32_t rounding_shift_right(int32_t x, int exponent)
{
    int32_t mask = (int32_t)((1ll << exponent) - 1);
    int32_t rem = x & mask;
    int32_t thr = (mask >> 1) + (x < 0);
    return (x >> exponent) + (rem > thr);
}

static int32_t saturating_left_shift(int32_t x, int shift)
{
    int64_t v = (int64_t)x * ((int64_t)1 << shift);
    if (v > INT32_MAX) return INT32_MAX;
    if (v < INT32_MIN) return INT32_MIN;
    return (int32_t)v;
}

static int32_t apply_multiplier(int32_t x, int32_t mult, int shift)
{
    if (shift > 0)
        return sat_rounding_doubling_high_mul(saturating_left_shift(x, shift), mult);
    return rounding_shift_right(sat_rounding_doubling_high_mul(x, mult), -shift);
}

static void quantize_multiplier(double m, int32_t *qm, int *shift)
{
    int e = 0;
    double frac = frexp(m, &e);
    int64_t q = (int64_t)round(frac * 2147483648.0);
    if (q == (1ll << 31)) {
        q >>= 1;
        e++;
    }
    if (e < -31) { q = 0; e = 0; }
    if (e > 30) { q = INT32_MAX; e = 30; }
    *qm = (int32_t)q;
    *shift = e;
}

/* ---------- recursive uint8 GEMM: C[m][n] += sum_k A[m][k] * B[n][k] ---------- */
static void gemm_leaf(const uint8_t *a, int lda, const uint8_t *b, int ldb,
                      int32_t *c, int ldc, int m, int n, int k)
{
    for (int i = 0; i < m; i++) {
        const uint8_t *ar = a + i * lda;
        for (int j = 0; j < n; j++) {
            const uint8_t *br = b + j * ldb;
            uint32_t s0 = 0, s1 = 0;
            int kk = 0;
            for (; kk + 1 < k; kk += 2) {
                s0 += (uint32_t)ar[kk] * br[kk];
                s1 += (uint32_t)ar[kk + 1] * br[kk + 1];
            }
            if (kk < k)
                s0 += (uint32_t)ar[kk] * br[kk];
            c[i * ldc + j] += (int32_t)(s0 + s1);
        }
    }
}

static int gemm_rec(const uint8_t *a, int lda, const uint8_t *b, int ldb,
                    int32_t *c, int ldc, int m, int n, int k)
{
    if (m * n * k <= LEAF_WORK || (m == 1 && n == 1)) {
        gemm_leaf(a, lda, b, ldb, c, ldc, m, n, k);
        return 1;
    }
    int leaves = 0;
    if (m >= n && m >= k / 8) {
        int h = m / 2;
        leaves += gemm_rec(a, lda, b, ldb, c, ldc, h, n, k);
        leaves += gemm_rec(a + h * lda, lda, b, ldb, c + h * ldc, ldc, m - h, n, k);
    } else if (n >= k / 8) {
        int h = n / 2;
        leaves += gemm_rec(a, lda, b, ldb, c, ldc, m, h, k);
        leaves += gemm_rec(a, lda, b + h * ldb, ldb, c + h, ldc, m, n - h, k);
    } else {
        int h = k / 2;
        leaves += gemm_rec(a, lda, b, ldb, c, ldc, m, n, h);
        leaves += gemm_rec(a + h, lda, b + h, ldb, c, ldc, m, n, k - h);
    }
    return leaves;
}

/* ---------- layers ---------- */
static void build_lut(QParams in, QParams out)
{
    for (int v = 0; v < 256; v++) {
        double x = (double)in.scale * (double)(v - in.zero_point);
        double y = 1.0 / (1.0 + exp(-x));
        long q = lround(y / (double)out.scale) + out.zero_point;
        g_logistic_lut[v] = (uint8_t)(q < 0 ? 0 : (q > 255 ? 255 : q));
    }
}

static void init_layer(FCLayer *L, uint8_t *w, int32_t *bias, int in, int out, FusedAct act)
{
    L->in = in; L->out = out; L->w = w; L->bias = bias; L->act = act;
    L->wq.scale = 0.6f / (float)in;
    int32_t total = 0;
    for (int n = 0; n < out; n++) {
        int32_t s = 0;
        for (int k = 0; k < in; k++) {
            uint32_t r = rng_next();
            r += rng_next();
            r += rng_next();
            r /= 3u; /* ~bell shaped */
            w[n * in + k] = (uint8_t)(r >> 7);
            s += w[n * in + k];
        }
        L->w_row_sum[n] = s;
        total += s;
        bias[n] = (int32_t)(rng_next() % 4001) - 2000;
    }
    /* the converter puts the zero point at the mean weight */
    L->wq.zero_point = (total + in * out / 2) / (in * out);
}

/* Chooses uint8 output parameters from the observed int32 accumulator range. */
static QParams calibrate(const int32_t *acc, int count, double acc_scale, FusedAct act)
{
    int32_t amin = acc[0], amax = acc[0];
    for (int i = 1; i < count; i++) {
        if (acc[i] < amin) amin = acc[i];
        if (acc[i] > amax) amax = acc[i];
    }
    double rmin = amin * acc_scale, rmax = amax * acc_scale;
    if (rmin > 0.0 || act == FUSED_RELU) rmin = 0.0;
    if (rmax < 0.0) rmax = 0.0;
    QParams q;
    q.scale = (float)((rmax - rmin) / 255.0);
    if (q.scale <= 0.0f) q.scale = 1.0f;
    long zp = lround(-rmin / (double)q.scale);
    q.zero_point = (int32_t)(zp < 0 ? 0 : (zp > 255 ? 255 : zp));
    return q;
}

/* Runs one FC layer; returns number of GEMM leaves used.  A zero yq->scale
 * means "calibrate the output quantization from this batch first". */
static int fc_forward(const FCLayer *L, const uint8_t *x, QParams xq, uint8_t *y, QParams *yq,
                      int rows, int *mismatch)
{
    int count = rows * L->out;
    memset(g_acc, 0, sizeof(int32_t) * (size_t)count);
    int leaves = gemm_rec(x, L->in, L->w, L->in, g_acc, L->out, rows, L->out, L->in);
    int32_t zx = xq.zero_point, zw = L->wq.zero_point;
    for (int r = 0; r < rows; r++) {
        const uint8_t *xr = x + r * L->in;
        int32_t xsum = 0;
        for (int k = 0; k < L->in; k++)
            xsum += xr[k];
        for (int n = 0; n < L->out; n++) {
            int32_t acc = g_acc[r * L->out + n] - zw * xsum - zx * L->w_row_sum[n]
                          + L->in * zx * zw;
            if (((unsigned)(r * 7 + n)) % 97u == 0) { /* spot-check the offset algebra */
                int32_t ref = 0;
                for (int k = 0; k < L->in; k++)
                    ref += ((int32_t)xr[k] - zx) * ((int32_t)L->w[n * L->in + k] - zw);
                *mismatch += ref != acc;
            }
            g_acc[r * L->out + n] = acc + L->bias[n];
        }
    }
    double acc_scale = (double)xq.scale * (double)L->wq.scale;
    if (yq->scale == 0.0f)
        *yq = calibrate(g_acc, count, acc_scale, L->act);
    int32_t mult;
    int shift;
    quantize_multiplier(acc_scale / (double)yq->scale, &mult, &shift);
    int32_t lo = 0, hi = 255;
    if (L->act == FUSED_RELU && yq->zero_point > lo)
        lo = yq->zero_point;
    for (int i = 0; i < count; i++) {
        int32_t v = apply_multiplier(g_acc[i], mult, shift) + yq->zero_point;
        if (v < lo) v = lo;
        if (v > hi) v = hi;
        switch (L->act) {
        case FUSED_LUT_LOGISTIC:
            y[i] = g_logistic_lut[v];
            break;
        case FUSED_RELU:
        case FUSED_NONE:
        default:
            y[i] = (uint8_t)v;
            break;
        }
    }
    return leaves;
}

/* Unit-test style sweep of the requantization helper against double math. */
static uint32_t selftest_requant(int *bad, int diffs[3])
{
    static const double mults[] = {0.0003, 0.071, 0.5, 0.999, 1.0, 1.7, 3.3, 100.0};
    uint32_t h = 0x1234567u;
    for (unsigned mi = 0; mi < sizeof mults / sizeof mults[0]; mi++) {
        int32_t qm;
        int sh;
        quantize_multiplier(mults[mi], &qm, &sh);
        int32_t range = mults[mi] > 1.0 ? (1 << 20) : (1 << 28);
        for (int t = 0; t < 600; t++) {
            uint32_t hi = rng_next(), lo = rng_next();
            int32_t x = (int32_t)((hi << 15 | lo) % (uint32_t)(2 * range)) - range;
            int32_t got = apply_multiplier(x, qm, sh);
            double want = round((double)x * mults[mi]);
            double d = (double)got - want;
            if (d < -1.0 || d > 1.0)
                (*bad)++;
            else
                diffs[(int)d + 1]++;
            h = (h ^ (uint32_t)got) * 0x01000193u;
        }
    }
    return h;
}

int main(void)
{
    static FCLayer layers[3];
    QParams xq = {1.0f / 64.0f, 128};
    QParams h1q = {0.0f, 0};                /* calibrated on the first batch */
    QParams pre2q = {1.0f / 16.0f, 128};    /* logistic input clipped to [-8, 8) */
    QParams h2q = {1.0f / 256.0f, 0};       /* logistic output (TFLite fixes this) */
    QParams outq = {0.0f, 0};

    init_layer(&layers[0], g_w1, g_b1, D0, D1, FUSED_RELU);
    init_layer(&layers[1], g_w2, g_b2, D1, D2, FUSED_LUT_LOGISTIC);
    init_layer(&layers[2], g_w3, g_b3, D2, D3, FUSED_NONE);
    build_lut(pre2q, h2q);

    for (int i = 0; i < BATCH * D0; i++) {
        int cls = (i / D0) % D3, col = i % D0;
        int base = 128 + (int)((col * (cls + 3) * 37 + cls * 11) % 61) - 30;
        int v = base + (int)(rng_next() % 41) - 20;
        g_x[i] = (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
    }

    int bad = 0, diffs[3] = {0, 0, 0};
    uint32_t h = selftest_requant(&bad, diffs);
    printf("requant selftest: off-by -1/0/+1 %d %d %d, bad %d\n", diffs[0], diffs[1], diffs[2], bad);
    int mismatch = 0, leaves = 0;
    for (int rep = 0; rep < 6; rep++) {
        leaves += fc_forward(&layers[0], g_x, xq, g_h1, &h1q, BATCH, &mismatch);
        leaves += fc_forward(&layers[1], g_h1, h1q, g_h2, &pre2q, BATCH, &mismatch);
        leaves += fc_forward(&layers[2], g_h2, h2q, g_out, &outq, BATCH, &mismatch);
        for (int i = 0; i < BATCH * D3; i++)
            h = (h ^ g_out[i]) * 16777619u;
        /* perturb input for the next repetition */
        for (int i = rep; i < BATCH * D0; i += 5)
            g_x[i] = (uint8_t)(g_x[i] ^ (uint8_t)(1u << (rep % 6 + 2)));
    }

    int hist[D3] = {0};
    double mean_logit = 0.0;
    for (int r = 0; r < BATCH; r++) {
        int best = 0;
        for (int n = 1; n < D3; n++)
            if (g_out[r * D3 + n] > g_out[r * D3 + best])
                best = n;
        hist[best]++;
        for (int n = 0; n < D3; n++)
            mean_logit += outq.scale * (double)(g_out[r * D3 + n] - outq.zero_point);
    }
    printf("argmax histogram:");
    for (int n = 0; n < D3; n++)
        printf(" %d", hist[n]);
    printf("\nmean logit %.6f gemm leaves %d offset mismatches %d\n",
           mean_logit / (BATCH * D3), leaves, mismatch);
    printf("h1 scale %.6f zp %d, out scale %.6f zp %d\n", (double)h1q.scale, (int)h1q.zero_point,
           (double)outq.scale, (int)outq.zero_point);
    printf("checksum %08x\n", h);
    return 0;
}
