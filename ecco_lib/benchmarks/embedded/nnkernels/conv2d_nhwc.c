/* Float 2-D convolution over NHWC tensors with bias and fused activation,
 * computed both directly and through im2col + a blocked GEMM, followed by
 * 2x2 max pooling.  Modelled on the TensorFlow Lite reference/optimized
 * CONV_2D kernels (SAME/VALID padding, stride, dilation, OHWI filters). */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

typedef enum { PAD_SAME, PAD_VALID } Padding;
typedef enum { ACT_NONE, ACT_RELU, ACT_RELU6, ACT_RELU_N1_TO_1 } Activation;

typedef struct {
    int n, h, w, c;
    float *data;
} Tensor;

typedef struct {
    int stride_h, stride_w;
    int dil_h, dil_w;
    Padding padding;
    Activation act;
} ConvParams;

typedef struct {
    int out_c, kh, kw, in_c; /* OHWI layout */
    float *weights;
    float *bias;
} Filter;

#define BATCH 2
#define MAX_ACT (BATCH * 24 * 24 * 32)
#define MAX_W (32 * 3 * 3 * 32)
#define MAX_COLS (24 * 24 * 3 * 3 * 32)

static float g_act0[MAX_ACT], g_act1[MAX_ACT], g_act2[MAX_ACT], g_act3[MAX_ACT];
static float g_ref[MAX_ACT];
static float g_weights[3][MAX_W];
static float g_bias[3][32];
static float g_cols[MAX_COLS];

static uint32_t g_seed = 0x2545F491u;

static uint32_t lcg_next(void)
{
    g_seed = g_seed * 1664525u + 1013904223u;
    return g_seed;
}

/* uniform in [-1, 1) */
static float lcg_float(void)
{
    return (float)((lcg_next() >> 8) & 0xFFFFFFu) / 8388608.0f - 1.0f;
}

static int effective_size(int k, int dil)
{
    return (k - 1) * dil + 1;
}

static int out_size(Padding p, int in, int k, int stride, int dil)
{
    int ek = effective_size(k, dil);
    switch (p) {
    case PAD_SAME:
        return (in + stride - 1) / stride;
    case PAD_VALID:
        return (in - ek + stride) / stride;
    }
    return 0;
}

static int pad_before(Padding p, int in, int k, int stride, int dil, int out)
{
    int ek = effective_size(k, dil);
    int total = (out - 1) * stride + ek - in;
    if (p == PAD_VALID || total < 0)
        return 0;
    return total / 2;
}

static float activate(Activation a, float x)
{
    switch (a) {
    case ACT_RELU:
        return x < 0.0f ? 0.0f : x;
    case ACT_RELU6:
        return x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x);
    case ACT_RELU_N1_TO_1:
        return x < -1.0f ? -1.0f : (x > 1.0f ? 1.0f : x);
    case ACT_NONE:
    default:
        return x;
    }
}

static inline int idx4(const Tensor *t, int b, int y, int x, int c)
{
    return ((b * t->h + y) * t->w + x) * t->c + c;
}

static void conv_direct(const Tensor *in, const Filter *f, const ConvParams *p, Tensor *out)
{
    int oh = out_size(p->padding, in->h, f->kh, p->stride_h, p->dil_h);
    int ow = out_size(p->padding, in->w, f->kw, p->stride_w, p->dil_w);
    int ph = pad_before(p->padding, in->h, f->kh, p->stride_h, p->dil_h, oh);
    int pw = pad_before(p->padding, in->w, f->kw, p->stride_w, p->dil_w, ow);
    out->n = in->n; out->h = oh; out->w = ow; out->c = f->out_c;
    for (int b = 0; b < in->n; b++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                for (int oc = 0; oc < f->out_c; oc++) {
                    float acc = 0.0f;
                    const float *wp = f->weights + oc * f->kh * f->kw * f->in_c;
                    for (int ky = 0; ky < f->kh; ky++) {
                        int iy = oy * p->stride_h - ph + ky * p->dil_h;
                        for (int kx = 0; kx < f->kw; kx++) {
                            int ix = ox * p->stride_w - pw + kx * p->dil_w;
                            const float *w = wp + (ky * f->kw + kx) * f->in_c;
                            if (iy < 0 || iy >= in->h || ix < 0 || ix >= in->w)
                                continue;
                            const float *src = in->data + idx4(in, b, iy, ix, 0);
                            for (int ic = 0; ic < f->in_c; ic++)
                                acc += src[ic] * w[ic];
                        }
                    }
                    out->data[idx4(out, b, oy, ox, oc)] = activate(p->act, acc + f->bias[oc]);
                }
}

/* Builds the [oh*ow] x [kh*kw*in_c] patch matrix for one batch element. */
static int im2col(const Tensor *in, int b, const Filter *f, const ConvParams *p,
                  int oh, int ow, int ph, int pw, float *cols)
{
    int k = f->kh * f->kw * f->in_c;
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
            float *row = cols + (oy * ow + ox) * k;
            for (int ky = 0; ky < f->kh; ky++) {
                int iy = oy * p->stride_h - ph + ky * p->dil_h;
                for (int kx = 0; kx < f->kw; kx++) {
                    int ix = ox * p->stride_w - pw + kx * p->dil_w;
                    float *dst = row + (ky * f->kw + kx) * f->in_c;
                    if (iy < 0 || iy >= in->h || ix < 0 || ix >= in->w)
                        memset(dst, 0, sizeof(float) * (size_t)f->in_c);
                    else
                        memcpy(dst, in->data + idx4(in, b, iy, ix, 0),
                               sizeof(float) * (size_t)f->in_c);
                }
            }
        }
    return k;
}

#define TILE_M 16
#define TILE_N 8

/* C[m][n] = sum_k A[m][k] * B[n][k]; B is the OHWI filter viewed as N x K. */
static void gemm_nt(const float *a, const float *bm, float *c, int m, int n, int k, int ldc)
{
    for (int i0 = 0; i0 < m; i0 += TILE_M) {
        int i1 = i0 + TILE_M < m ? i0 + TILE_M : m;
        for (int j0 = 0; j0 < n; j0 += TILE_N) {
            int j1 = j0 + TILE_N < n ? j0 + TILE_N : n;
            for (int i = i0; i < i1; i++) {
                const float *ar = a + i * k;
                for (int j = j0; j < j1; j++) {
                    const float *br = bm + j * k;
                    float acc = 0.0f;
                    for (int kk = 0; kk < k; kk++)
                        acc += ar[kk] * br[kk];
                    c[i * ldc + j] = acc;
                }
            }
        }
    }
}

static void conv_im2col(const Tensor *in, const Filter *f, const ConvParams *p, Tensor *out)
{
    int oh = out_size(p->padding, in->h, f->kh, p->stride_h, p->dil_h);
    int ow = out_size(p->padding, in->w, f->kw, p->stride_w, p->dil_w);
    int ph = pad_before(p->padding, in->h, f->kh, p->stride_h, p->dil_h, oh);
    int pw = pad_before(p->padding, in->w, f->kw, p->stride_w, p->dil_w, ow);
    out->n = in->n; out->h = oh; out->w = ow; out->c = f->out_c;
    for (int b = 0; b < in->n; b++) {
        int k = im2col(in, b, f, p, oh, ow, ph, pw, g_cols);
        float *dst = out->data + idx4(out, b, 0, 0, 0);
        gemm_nt(g_cols, f->weights, dst, oh * ow, f->out_c, k, f->out_c);
        for (int i = 0; i < oh * ow; i++)
            for (int oc = 0; oc < f->out_c; oc++)
                dst[i * f->out_c + oc] = activate(p->act, dst[i * f->out_c + oc] + f->bias[oc]);
    }
}

static void max_pool_2x2(const Tensor *in, Tensor *out)
{
    out->n = in->n; out->h = in->h / 2; out->w = in->w / 2; out->c = in->c;
    for (int b = 0; b < in->n; b++)
        for (int y = 0; y < out->h; y++)
            for (int x = 0; x < out->w; x++)
                for (int c = 0; c < in->c; c++) {
                    float m = in->data[idx4(in, b, 2 * y, 2 * x, c)];
                    for (int dy = 0; dy < 2; dy++)
                        for (int dx = 0; dx < 2; dx++) {
                            float v = in->data[idx4(in, b, 2 * y + dy, 2 * x + dx, c)];
                            if (v > m)
                                m = v;
                        }
                    out->data[idx4(out, b, y, x, c)] = m;
                }
}

static uint32_t hash_tensor(uint32_t h, const Tensor *t)
{
    int total = t->n * t->h * t->w * t->c;
    for (int i = 0; i < total; i++) {
        uint32_t bits;
        memcpy(&bits, &t->data[i], sizeof bits);
        h ^= bits;
        h *= 16777619u;
    }
    return h;
}

static int compare(const Tensor *a, const float *ref, float *max_err)
{
    int total = a->n * a->h * a->w * a->c, bad = 0;
    for (int i = 0; i < total; i++) {
        float e = fabsf(a->data[i] - ref[i]);
        if (e > *max_err)
            *max_err = e;
        if (e > 1e-4f * (1.0f + fabsf(ref[i])))
            bad++;
    }
    return bad;
}

static void init_filter(Filter *f, int layer, int oc, int k, int ic)
{
    f->out_c = oc; f->kh = k; f->kw = k; f->in_c = ic;
    f->weights = g_weights[layer];
    f->bias = g_bias[layer];
    float scale = sqrtf(2.0f / (float)(k * k * ic));
    for (int i = 0; i < oc * k * k * ic; i++)
        f->weights[i] = lcg_float() * scale;
    for (int i = 0; i < oc; i++)
        f->bias[i] = 0.05f * lcg_float();
}

int main(void)
{
    Filter filt[3];
    ConvParams prm[3] = {
        {1, 1, 1, 1, PAD_SAME, ACT_RELU},
        {2, 2, 1, 1, PAD_SAME, ACT_RELU6},
        {1, 1, 2, 2, PAD_VALID, ACT_RELU_N1_TO_1},
    };
    init_filter(&filt[0], 0, 16, 3, 3);
    init_filter(&filt[1], 1, 32, 3, 16);
    init_filter(&filt[2], 2, 32, 3, 32);

    Tensor x = {BATCH, 24, 24, 3, g_act0};
    for (int i = 0; i < BATCH * 24 * 24 * 3; i++)
        g_act0[i] = 0.5f * (lcg_float() + 1.0f);

    uint32_t h = 2166136261u;
    int mismatches = 0;
    float max_err = 0.0f;
    float *bufs[2] = {g_act1, g_act2};
    Tensor cur = x;
    for (int l = 0; l < 3; l++) {
        Tensor direct = {0, 0, 0, 0, g_ref};
        Tensor viagemm = {0, 0, 0, 0, bufs[l & 1]};
        conv_direct(&cur, &filt[l], &prm[l], &direct);
        conv_im2col(&cur, &filt[l], &prm[l], &viagemm);
        mismatches += compare(&viagemm, g_ref, &max_err);
        h = hash_tensor(h, &direct);
        printf("layer %d: %dx%dx%dx%d\n", l, viagemm.n, viagemm.h, viagemm.w, viagemm.c);
        cur = viagemm;
    }
    Tensor pooled = {0, 0, 0, 0, g_act3};
    max_pool_2x2(&cur, &pooled);
    h = hash_tensor(h, &pooled);

    double sum = 0.0;
    int total = pooled.n * pooled.h * pooled.w * pooled.c;
    for (int i = 0; i < total; i++)
        sum += pooled.data[i];
    printf("pooled %dx%dx%dx%d sum %.6f\n", pooled.n, pooled.h, pooled.w, pooled.c, sum);
    printf("mismatches %d max_err %.6f\n", mismatches, (double)max_err);
    printf("checksum %08x\n", h);
    return 0;
}
