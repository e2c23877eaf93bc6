/* Int8 MobileNet-style block: per-channel quantized depthwise 3x3 conv followed
 * by a 1x1 pointwise conv, with TFLite-style fixed-point requantization
 * (SaturatingRoundingDoublingHighMul + RoundingDivideByPOT), calibration of
 * output ranges from a float reference, and a specialised 3x3 interior path. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <math.h>
#include <limits.h>

#define MAXC 32
#define IN_H 40
#define IN_W 40
#define IN_C 16
#define MID_C 32

typedef struct {
    float scale;
    int32_t zero_point;
} QuantParams;

typedef struct {
    int channels;
    float scale[MAXC];
    int32_t multiplier[MAXC];
    int shift[MAXC];
} PerChannelQuant;

typedef struct {
    int h, w, c;
    int8_t *q;
    float *f;
    QuantParams qp;
} QTensor;

typedef struct {
    int kh, kw, in_c, out_c, stride, depthwise;
    float wf[MAXC * MAXC * 9];
    int8_t wq[MAXC * MAXC * 9];
    float bias_f[MAXC];
    int32_t bias_q[MAXC];
    PerChannelQuant pc;
} QLayer;

static int8_t g_q[4][IN_H * IN_W * MAXC];
static float g_f[4][IN_H * IN_W * MAXC];
static int8_t g_qspec[IN_H * IN_W * MAXC];
static QLayer g_layers[4];

static uint64_t g_state = 0x9E3779B97F4A7C15ull;

static uint32_t xorshift32(void)
{
    g_state ^= g_state << 13;
    g_state ^= g_state >> 7;
    g_state ^= g_state << 17;
    return (uint32_t)(g_state >> 32);
}

static float rand_sym(float a)
{
    return a * ((float)(xorshift32() & 0xFFFFFF) / 8388608.0f - 1.0f);
}

/* ---- TFLite-style fixed point helpers ---- */
static int32_t srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    int64_t ab = (int64_t)a * (int64_t)b;
    int64_t nudge = ab >= 0 ? (1ll << 30) : (1 - (1ll << 30));
    return (int32_t)((ab + nudge) / (1ll << 31));
}

static int32_t rounding_divide_by_pot(int32_t x, int exponent)
{
    if (exponent == 0)
        return x;
    int32_t mask = (int32_t)((1u << exponent) - 1u);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

static int32_t multiply_by_quantized_multiplier(int32_t x, int32_t mult, int shift)
{
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    int64_t scaled = (int64_t)x * ((int64_t)1 << left);
    if (scaled > INT32_MAX) scaled = INT32_MAX;
    if (scaled < INT32_MIN) scaled = INT32_MIN;
    return rounding_divide_by_pot(srdhm((int32_t)scaled, mult), right);
}

static void quantize_multiplier(double m, int32_t *qm, int *shift)
{
    if (m == 0.0) {
        *qm = 0; *shift = 0;
        return;
    }
    double q = frexp(m, shift);
    int64_t qfixed = (int64_t)round(q * (double)(1ll << 31));
    if (qfixed == (1ll << 31)) {
        qfixed /= 2;
        ++*shift;
    }
    if (*shift < -31) {
        *shift = 0;
        qfixed = 0;
    }
    *qm = (int32_t)qfixed;
}

static QuantParams choose_qparams(float rmin, float rmax)
{
    QuantParams p;
    if (rmin > 0.0f) rmin = 0.0f;
    if (rmax < 0.0f) rmax = 0.0f;
    p.scale = (rmax - rmin) / 255.0f;
    if (p.scale <= 0.0f) p.scale = 1.0f;
    float zp = -128.0f - rmin / p.scale;
    int32_t z = (int32_t)lroundf(zp);
    p.zero_point = z < -128 ? -128 : (z > 127 ? 127 : z);
    return p;
}

static int8_t quantize_value(float v, QuantParams qp)
{
    long q = lroundf(v / qp.scale) + qp.zero_point;
    return (int8_t)(q < -128 ? -128 : (q > 127 ? 127 : q));
}

/* ---- layer construction (what a converter would do) ---- */
static void build_layer(QLayer *L, int depthwise, int in_c, int out_c, int k, int stride)
{
    L->kh = L->kw = k; L->in_c = in_c; L->out_c = out_c;
    L->stride = stride; L->depthwise = depthwise;
    int per_oc = depthwise ? k * k : k * k * in_c;
    float amp = 1.5f / sqrtf((float)per_oc);
    for (int oc = 0; oc < out_c; oc++) {
        float wmax = 1e-6f;
        for (int i = 0; i < per_oc; i++) {
            float w = rand_sym(amp * (1.0f + 0.1f * (float)(oc % 5)));
            L->wf[oc * per_oc + i] = w;
            if (fabsf(w) > wmax) wmax = fabsf(w);
        }
        L->pc.scale[oc] = wmax / 127.0f;
        for (int i = 0; i < per_oc; i++) {
            long q = lroundf(L->wf[oc * per_oc + i] / L->pc.scale[oc]);
            L->wq[oc * per_oc + i] = (int8_t)(q > 127 ? 127 : (q < -127 ? -127 : q));
        }
        L->bias_f[oc] = rand_sym(0.1f);
    }
    L->pc.channels = out_c;
}

static void finalize_layer(QLayer *L, QuantParams in, QuantParams out)
{
    for (int oc = 0; oc < L->out_c; oc++) {
        double s = (double)in.scale * (double)L->pc.scale[oc];
        L->bias_q[oc] = (int32_t)lround((double)L->bias_f[oc] / s);
        quantize_multiplier(s / (double)out.scale, &L->pc.multiplier[oc], &L->pc.shift[oc]);
    }
}

static int out_dim(int in, int stride)
{
    return (in + stride - 1) / stride; /* SAME padding */
}

/* float reference, returns min/max of the result for calibration */
static void conv_float(const QLayer *L, const QTensor *in, QTensor *out, float *mn, float *mx)
{
    int oh = out_dim(in->h, L->stride), ow = out_dim(in->w, L->stride);
    int pad = ((oh - 1) * L->stride + L->kh - in->h) / 2;
    if (pad < 0) pad = 0;
    out->h = oh; out->w = ow; out->c = L->out_c;
    *mn = 0.0f; *mx = 0.0f;
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++)
            for (int oc = 0; oc < L->out_c; oc++) {
                float acc = L->bias_f[oc];
                for (int ky = 0; ky < L->kh; ky++)
                    for (int kx = 0; kx < L->kw; kx++) {
                        int iy = y * L->stride - pad + ky, ix = x * L->stride - pad + kx;
                        if (iy < 0 || iy >= in->h || ix < 0 || ix >= in->w)
                            continue;
                        const float *src = in->f + (iy * in->w + ix) * in->c;
                        if (L->depthwise) {
                            acc += src[oc] * L->wf[oc * 9 + ky * 3 + kx];
                        } else {
                            const float *w = L->wf + ((oc * L->kh + ky) * L->kw + kx) * L->in_c;
                            for (int ic = 0; ic < L->in_c; ic++)
                                acc += src[ic] * w[ic];
                        }
                    }
                if (acc < 0.0f) acc = 0.0f;
                if (acc > 6.0f) acc = 6.0f;
                out->f[(y * ow + x) * L->out_c + oc] = acc;
                if (acc < *mn) *mn = acc;
                if (acc > *mx) *mx = acc;
            }
}

static int8_t requant(const QLayer *L, int oc, int32_t acc, const QuantParams *oq, int amin, int amax)
{
    acc += L->bias_q[oc];
    acc = multiply_by_quantized_multiplier(acc, L->pc.multiplier[oc], L->pc.shift[oc]);
    acc += oq->zero_point;
    if (acc < amin) acc = amin;
    if (acc > amax) acc = amax;
    return (int8_t)acc;
}

static void act_range(QuantParams q, int *amin, int *amax)
{
    int lo = q.zero_point + (int)lroundf(0.0f / q.scale);
    int hi = q.zero_point + (int)lroundf(6.0f / q.scale);
    *amin = lo > -128 ? lo : -128;
    *amax = hi < 127 ? hi : 127;
}

/* generic int8 conv (depthwise or dense), TFLite reference style */
static void conv_int8(const QLayer *L, const QTensor *in, QTensor *out, int8_t *dst)
{
    int oh = out->h, ow = out->w;
    int pad = ((oh - 1) * L->stride + L->kh - in->h) / 2;
    int amin, amax;
    if (pad < 0) pad = 0;
    act_range(out->qp, &amin, &amax);
    int32_t in_off = -in->qp.zero_point;
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++)
            for (int oc = 0; oc < L->out_c; oc++) {
                int32_t acc = 0;
                for (int ky = 0; ky < L->kh; ky++)
                    for (int kx = 0; kx < L->kw; kx++) {
                        int iy = y * L->stride - pad + ky, ix = x * L->stride - pad + kx;
                        if (iy < 0 || iy >= in->h || ix < 0 || ix >= in->w)
                            continue;
                        const int8_t *src = in->q + (iy * in->w + ix) * in->c;
                        if (L->depthwise) {
                            acc += (src[oc] + in_off) * L->wq[oc * 9 + ky * 3 + kx];
                        } else {
                            const int8_t *w = L->wq + ((oc * L->kh + ky) * L->kw + kx) * L->in_c;
                            for (int ic = 0; ic < L->in_c; ic++)
                                acc += (src[ic] + in_off) * w[ic];
                        }
                    }
                dst[(y * ow + x) * L->out_c + oc] = requant(L, oc, acc, &out->qp, amin, amax);
            }
}

/* specialised depthwise 3x3 stride 1: unrolled interior, generic border */
static void dw3x3_s1_int8(const QLayer *L, const QTensor *in, const QTensor *out, int8_t *dst)
{
    int amin, amax, C = L->out_c;
    act_range(out->qp, &amin, &amax);
    int32_t in_off = -in->qp.zero_point;
    for (int y = 0; y < out->h; y++) {
        int border_y = (y == 0 || y == out->h - 1);
        for (int x = 0; x < out->w; x++) {
            int border = border_y || x == 0 || x == out->w - 1;
            for (int c = 0; c < C; c++) {
                const int8_t *w = L->wq + c * 9;
                int32_t acc = 0;
                if (!border) {
                    const int8_t *r0 = in->q + ((y - 1) * in->w + (x - 1)) * C + c;
                    const int8_t *r1 = r0 + in->w * C;
                    const int8_t *r2 = r1 + in->w * C;
                    acc += (r0[0] + in_off) * w[0] + (r0[C] + in_off) * w[1] + (r0[2 * C] + in_off) * w[2];
                    acc += (r1[0] + in_off) * w[3] + (r1[C] + in_off) * w[4] + (r1[2 * C] + in_off) * w[5];
                    acc += (r2[0] + in_off) * w[6] + (r2[C] + in_off) * w[7] + (r2[2 * C] + in_off) * w[8];
                } else {
                    for (int k = 0; k < 9; k++) {
                        int iy = y - 1 + k / 3, ix = x - 1 + k % 3;
                        if (iy >= 0 && iy < in->h && ix >= 0 && ix < in->w)
                            acc += (in->q[(iy * in->w + ix) * C + c] + in_off) * w[k];
                    }
                }
                dst[(y * out->w + x) * C + c] = requant(L, c, acc, &out->qp, amin, amax);
            }
        }
    }
}

int main(void)
{
    static const int spec[4][5] = {
        /* depthwise, in_c, out_c, k, stride */
        {1, IN_C, IN_C, 3, 1},
        {0, IN_C, MID_C, 1, 1},
        {1, MID_C, MID_C, 3, 2},
        {0, MID_C, MID_C, 1, 1},
    };
    QTensor t[5];
    t[0].h = IN_H; t[0].w = IN_W; t[0].c = IN_C;
    t[0].f = g_f[3]; t[0].q = g_q[3];
    float mn = 0.0f, mx = 0.0f;
    for (int i = 0; i < IN_H * IN_W * IN_C; i++) {
        float v = rand_sym(2.0f) + 0.5f * sinf(0.05f * (float)i);
        t[0].f[i] = v;
        if (v < mn) mn = v;
        if (v > mx) mx = v;
    }
    t[0].qp = choose_qparams(mn, mx);
    for (int i = 0; i < IN_H * IN_W * IN_C; i++)
        t[0].q[i] = quantize_value(t[0].f[i], t[0].qp);

    uint32_t h = 0x811C9DC5u;
    int worst = 0, spec_diff = 0;
    for (int l = 0; l < 4; l++) {
        QLayer *L = &g_layers[l];
        build_layer(L, spec[l][0], spec[l][1], spec[l][2], spec[l][3], spec[l][4]);
        t[l + 1].f = g_f[l % 3];
        t[l + 1].q = g_q[l % 3];
        conv_float(L, &t[l], &t[l + 1], &mn, &mx);
        t[l + 1].qp = choose_qparams(mn, mx);
        finalize_layer(L, t[l].qp, t[l + 1].qp);
        conv_int8(L, &t[l], &t[l + 1], t[l + 1].q);
        if (L->depthwise && L->stride == 1) {
            dw3x3_s1_int8(L, &t[l], &t[l + 1], g_qspec);
            for (int i = 0; i < t[l + 1].h * t[l + 1].w * t[l + 1].c; i++)
                spec_diff += g_qspec[i] != t[l + 1].q[i];
        }
        int n = t[l + 1].h * t[l + 1].w * t[l + 1].c;
        int hist[4] = {0, 0, 0, 0};
        for (int i = 0; i < n; i++) {
            int ref = quantize_value(t[l + 1].f[i], t[l + 1].qp);
            int d = t[l + 1].q[i] - ref;
            if (d < 0) d = -d;
            if (d > worst) worst = d;
            hist[d > 3 ? 3 : d]++;
            h = (h ^ (uint8_t)t[l + 1].q[i]) * 16777619u;
        }
        printf("layer %d %s %dx%dx%d scale %.6f zp %d mult0 %d shift0 %d err0/1/2/3+ %d %d %d %d\n",
               l, L->depthwise ? "dw" : "pw", t[l + 1].h, t[l + 1].w, t[l + 1].c,
               (double)t[l + 1].qp.scale, (int)t[l + 1].qp.zero_point,
               (int)L->pc.multiplier[0], L->pc.shift[0], hist[0], hist[1], hist[2], hist[3]);
    }
    printf("worst quant error %d, specialised path diffs %d\n", worst, spec_diff);
    printf("checksum %08x\n", h);
    return 0;
}
