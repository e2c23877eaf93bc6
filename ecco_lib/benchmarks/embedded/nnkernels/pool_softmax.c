/* Pooling and classifier head: NHWC max/average/L2 pooling with SAME/VALID
 * padding (TFLite counts only in-bounds taps for AVG), a projection to logits,
 * a numerically stable softmax built on a hand-written range-reduced exp,
 * log-softmax, a LUT-based uint8 softmax and a recursive top-k sort. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

#define N 2
#define H 32
#define W 32
#define C 24
#define CLASSES 100
#define TOPK 5

typedef enum { POOL_MAX, POOL_AVG, POOL_L2 } PoolType;

typedef struct {
    PoolType type;
    int fh, fw, stride;
    int same_padding;
} PoolSpec;

typedef struct {
    int n, h, w, c;
    float *d;
} Map;

static float g_in[N * H * W * C];
static float g_p1[N * H * W * C], g_p2[N * H * W * C], g_p3[N * H * W * C];
static float g_proj[CLASSES][C * 4];
static float g_logits[CLASSES];
static float g_prob[CLASSES], g_logprob[CLASSES];
static float g_exp_table[256];
static uint8_t g_qprob[CLASSES];

static uint32_t g_lcg = 77u;

static float frand(void)
{
    g_lcg = g_lcg * 22695477u + 1u;
    return (float)(g_lcg >> 9) * (1.0f / 8388608.0f); /* [0,1) */
}

/* exp(x) = 2^k * p(r), r in [-ln2/2, ln2/2]; valid for x in [-87, 88] */
static float fast_expf(float x)
{
    static const float ln2_hi = 0.693145752f, ln2_lo = 1.42860677e-6f;
    if (x < -87.0f)
        return 0.0f;
    if (x > 88.0f)
        x = 88.0f;
    float kf = floorf(x * 1.44269504f + 0.5f);
    int k = (int)kf;
    float r = (x - kf * ln2_hi) - kf * ln2_lo;
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666672f + r * (0.0416666418f +
                          r * (0.00833340024f + r * 0.00138866063f)))));
    /* scale by 2^k in two steps so the exponent field never overflows */
    int k1 = k / 2, k2 = k - k1;
    uint32_t b1 = (uint32_t)(k1 + 127) << 23, b2 = (uint32_t)(k2 + 127) << 23;
    float s1, s2;
    memcpy(&s1, &b1, sizeof s1);
    memcpy(&s2, &b2, sizeof s2);
    return p * s1 * s2;
}

static int pool_out(int in, int f, int stride, int same)
{
    return same ? (in + stride - 1) / stride : (in - f) / stride + 1;
}

static void pool2d(const PoolSpec *ps, const Map *in, Map *out)
{
    int oh = pool_out(in->h, ps->fh, ps->stride, ps->same_padding);
    int ow = pool_out(in->w, ps->fw, ps->stride, ps->same_padding);
    int ph = 0, pw = 0;
    if (ps->same_padding) {
        ph = ((oh - 1) * ps->stride + ps->fh - in->h) / 2;
        pw = ((ow - 1) * ps->stride + ps->fw - in->w) / 2;
        if (ph < 0) ph = 0;
        if (pw < 0) pw = 0;
    }
    out->n = in->n; out->h = oh; out->w = ow; out->c = in->c;
    for (int b = 0; b < in->n; b++)
        for (int y = 0; y < oh; y++) {
            int y0 = y * ps->stride - ph;
            int fy0 = y0 < 0 ? -y0 : 0;
            int fy1 = in->h - y0 < ps->fh ? in->h - y0 : ps->fh;
            for (int x = 0; x < ow; x++) {
                int x0 = x * ps->stride - pw;
                int fx0 = x0 < 0 ? -x0 : 0;
                int fx1 = in->w - x0 < ps->fw ? in->w - x0 : ps->fw;
                float *dst = out->d + ((b * oh + y) * ow + x) * in->c;
                for (int c = 0; c < in->c; c++) {
                    float acc = ps->type == POOL_MAX ? -INFINITY : 0.0f;
                    int count = 0;
                    for (int fy = fy0; fy < fy1; fy++)
                        for (int fx = fx0; fx < fx1; fx++) {
                            float v = in->d[((b * in->h + y0 + fy) * in->w + x0 + fx) * in->c + c];
                            switch (ps->type) {
                            case POOL_MAX:
                                acc = v > acc ? v : acc;
                                break;
                            case POOL_AVG:
                                acc += v;
                                break;
                            case POOL_L2:
                                acc += v * v;
                                break;
                            }
                            count++;
                        }
                    if (ps->type == POOL_AVG)
                        acc = count ? acc / (float)count : 0.0f;
                    else if (ps->type == POOL_L2)
                        acc = count ? sqrtf(acc / (float)count) : 0.0f;
                    dst[c] = acc;
                }
            }
        }
}

static void softmax(const float *x, float *y, int n, float beta, double *max_rel_err)
{
    float mx = x[0];
    for (int i = 1; i < n; i++)
        if (x[i] > mx)
            mx = x[i];
    float sum = 0.0f;
    for (int i = 0; i < n; i++) {
        y[i] = fast_expf(beta * (x[i] - mx));
        float ref = expf(beta * (x[i] - mx));
        double e = fabs((double)y[i] - (double)ref) / ((double)ref + 1e-30);
        if (e > *max_rel_err)
            *max_rel_err = e;
        sum += y[i];
    }
    float inv = 1.0f / sum;
    for (int i = 0; i < n; i++)
        y[i] *= inv;
}

static void log_softmax(const float *x, float *y, int n, float beta)
{
    float mx = x[0];
    for (int i = 1; i < n; i++)
        if (x[i] > mx)
            mx = x[i];
    float sum = 0.0f;
    for (int i = 0; i < n; i++)
        sum += fast_expf(beta * (x[i] - mx));
    float lse = logf(sum);
    for (int i = 0; i < n; i++)
        y[i] = beta * (x[i] - mx) - lse;
}

/* uint8 softmax: input scale s, output scale 1/256 zero point 0 */
static void build_exp_table(float input_scale, float beta)
{
    for (int d = 0; d < 256; d++)
        g_exp_table[d] = fast_expf(-beta * input_scale * (float)d);
}

static void softmax_u8(const uint8_t *q, uint8_t *out, int n)
{
    uint8_t mx = 0;
    for (int i = 0; i < n; i++)
        if (q[i] > mx)
            mx = q[i];
    float sum = 0.0f;
    for (int i = 0; i < n; i++)
        sum += g_exp_table[mx - q[i]];
    float inv = 256.0f / sum;
    for (int i = 0; i < n; i++) {
        long v = lrintf(g_exp_table[mx - q[i]] * inv);
        out[i] = (uint8_t)(v > 255 ? 255 : v);
    }
}

/* recursive quicksort of indices by descending probability (ties by index) */
static int before(const float *p, int a, int b)
{
    return p[a] > p[b] || (p[a] == p[b] && a < b);
}

static void sort_idx(int *idx, int lo, int hi, const float *p, int k)
{
    if (lo >= hi)
        return;
    int pivot = idx[lo + (hi - lo) / 2], i = lo, j = hi;
    while (i <= j) {
        while (before(p, idx[i], pivot)) i++;
        while (before(p, pivot, idx[j])) j--;
        if (i <= j) {
            int t = idx[i]; idx[i] = idx[j]; idx[j] = t;
            i++; j--;
        }
    }
    sort_idx(idx, lo, j, p, k);
    if (i < k) /* only the first k positions need to be ordered */
        sort_idx(idx, i, hi, p, k);
}

int main(void)
{
    for (int i = 0; i < N * H * W * C; i++) {
        int c = i % C, x = (i / C) % W, y = (i / (C * W)) % H;
        g_in[i] = 2.0f * frand() - 1.0f + 0.8f * sinf(0.3f * (float)(x * (c % 5 + 1)) + 0.2f * (float)y);
    }
    for (int k = 0; k < CLASSES; k++)
        for (int j = 0; j < C * 4; j++)
            g_proj[k][j] = (frand() - 0.5f) * 0.6f;

    static const PoolSpec specs[3] = {
        {POOL_MAX, 3, 3, 2, 1},
        {POOL_AVG, 3, 3, 2, 1},
        {POOL_L2, 2, 2, 2, 0},
    };
    uint32_t h = 0xcbf29ce4u;
    double max_rel = 0.0, ent_sum = 0.0, nll_sum = 0.0;
    int top_hist[CLASSES] = {0};
    Map in = {N, H, W, C, g_in};
    for (int iter = 0; iter < 24; iter++) {
        Map a = {0, 0, 0, 0, g_p1}, b = {0, 0, 0, 0, g_p2}, c = {0, 0, 0, 0, g_p3};
        pool2d(&specs[iter % 2], &in, &a);  /* alternate max / avg on the first stage */
        pool2d(&specs[1], &a, &b);
        pool2d(&specs[2], &b, &c);          /* 32 -> 16 -> 8 -> 4 */
        for (int bi = 0; bi < c.n; bi++) {
            /* 2x2 quadrant means of the 4x4 map -> 4*C features */
            float feat[C * 4];
            for (int q = 0; q < 4; q++)
                for (int ch = 0; ch < C; ch++) {
                    float s = 0.0f;
                    for (int dy = 0; dy < 2; dy++)
                        for (int dx = 0; dx < 2; dx++) {
                            int y = (q / 2) * 2 + dy, x = (q % 2) * 2 + dx;
                            s += c.d[((bi * c.h + y) * c.w + x) * C + ch];
                        }
                    feat[q * C + ch] = 0.25f * s;
                }
            for (int k = 0; k < CLASSES; k++) {
                float s = 0.0f;
                for (int j = 0; j < C * 4; j++)
                    s += g_proj[k][j] * feat[j];
                g_logits[k] = s;
            }
            float beta = 1.0f + 0.25f * (float)(iter % 4);
            softmax(g_logits, g_prob, CLASSES, beta, &max_rel);
            log_softmax(g_logits, g_logprob, CLASSES, beta);
            int idx[CLASSES];
            for (int k = 0; k < CLASSES; k++)
                idx[k] = k;
            sort_idx(idx, 0, CLASSES - 1, g_prob, TOPK);
            top_hist[idx[0]]++;
            for (int k = 0; k < CLASSES; k++)
                ent_sum -= (double)g_prob[k] * (double)g_logprob[k];
            nll_sum -= (double)g_logprob[(iter * 7 + bi) % CLASSES];
            /* quantize logits (scale 1/32, zero point 128) and run the uint8 path */
            uint8_t ql[CLASSES];
            for (int k = 0; k < CLASSES; k++) {
                long q = lrintf(g_logits[k] * 32.0f) + 128;
                ql[k] = (uint8_t)(q < 0 ? 0 : (q > 255 ? 255 : q));
            }
            build_exp_table(1.0f / 32.0f, beta);
            softmax_u8(ql, g_qprob, CLASSES);
            for (int k = 0; k < CLASSES; k++)
                h = (h ^ g_qprob[k]) * 16777619u;
            for (int t = 0; t < TOPK; t++)
                h = (h ^ (uint32_t)idx[t]) * 16777619u;
        }
        /* feed back: shift the input slightly for the next iter */
        for (int i = iter; i < N * H * W * C; i += 24)
            g_in[i] = 0.5f * g_in[i] + 0.25f * g_p3[i % (N * 4 * 4 * C)];
    }
    int distinct = 0;
    for (int k = 0; k < CLASSES; k++)
        distinct += top_hist[k] != 0;
    printf("mean entropy %.6f mean nll %.6f\n", ent_sum / 48.0, nll_sum / 48.0);
    printf("distinct top-1 classes %d, exp max rel err < 1e-6: %s\n", distinct,
           max_rel < 1e-6 ? "yes" : "no");
    printf("checksum %08x\n", h);
    return 0;
}
