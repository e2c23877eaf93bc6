/* Normalization layers on an NHWC activation tensor: batch, layer, instance and
 * group norm through one Welford statistics kernel, batch-norm training steps
 * with running statistics and the backward pass, then folding the learned BN
 * into a per-channel affine for inference (as TF/TFLite graph transforms do). */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

#define NB 8
#define HH 16
#define WW 16
#define CC 32
#define GROUPS 8
#define TOTAL (NB * HH * WW * CC)
#define MAX_STATS (NB * CC)

typedef enum { NORM_BATCH, NORM_LAYER, NORM_INSTANCE, NORM_GROUP, NORM_KINDS } NormKind;

typedef struct {
    double mean, m2;
    long count;
} Welford;

typedef struct {
    float gamma[CC], beta[CC];
    float running_mean[CC], running_var[CC];
    float momentum, eps;
    float dgamma[CC], dbeta[CC];
} BatchNorm;

static float g_x[TOTAL], g_y[TOTAL], g_dy[TOTAL], g_dx[TOTAL];
static float g_mean[MAX_STATS], g_rstd[MAX_STATS];
static Welford g_acc[MAX_STATS];
static float g_scratch[TOTAL];

static uint64_t g_s = 88172645463325252ull;

static uint64_t xs64(void)
{
    g_s ^= g_s << 13;
    g_s ^= g_s >> 7;
    g_s ^= g_s << 17;
    return g_s;
}

/* approx. normal via sum of 4 uniforms */
static float gauss(void)
{
    float s = 0.0f;
    for (int i = 0; i < 4; i++)
        s += (float)(xs64() >> 40) * (1.0f / 16777216.0f);
    return (s - 2.0f) * 1.7320508f;
}

static int num_groups(NormKind k)
{
    switch (k) {
    case NORM_BATCH: return CC;
    case NORM_LAYER: return NB;
    case NORM_INSTANCE: return NB * CC;
    case NORM_GROUP: return NB * GROUPS;
    default: return 0;
    }
}

static int group_of(NormKind k, int n, int c)
{
    switch (k) {
    case NORM_BATCH: return c;
    case NORM_LAYER: return n;
    case NORM_INSTANCE: return n * CC + c;
    case NORM_GROUP: return n * GROUPS + c / (CC / GROUPS);
    default: return 0;
    }
}

static void welford_push(Welford *w, float v)
{
    w->count++;
    double d = (double)v - w->mean;
    w->mean += d / (double)w->count;
    w->m2 += d * ((double)v - w->mean);
}

static void compute_stats(NormKind k, const float *x, float eps)
{
    int g = num_groups(k);
    memset(g_acc, 0, sizeof(Welford) * (size_t)g);
    for (int n = 0; n < NB; n++)
        for (int p = 0; p < HH * WW; p++) {
            const float *px = x + (n * HH * WW + p) * CC;
            for (int c = 0; c < CC; c++)
                welford_push(&g_acc[group_of(k, n, c)], px[c]);
        }
    for (int i = 0; i < g; i++) {
        double var = g_acc[i].m2 / (double)g_acc[i].count;
        g_mean[i] = (float)g_acc[i].mean;
        g_rstd[i] = 1.0f / sqrtf((float)var + eps);
    }
}

static void normalize(NormKind k, const float *x, float *y, const float *gamma, const float *beta)
{
    for (int n = 0; n < NB; n++)
        for (int p = 0; p < HH * WW; p++) {
            int base = (n * HH * WW + p) * CC;
            for (int c = 0; c < CC; c++) {
                int g = group_of(k, n, c);
                y[base + c] = gamma[c] * ((x[base + c] - g_mean[g]) * g_rstd[g]) + beta[c];
            }
        }
}

/* recursive pairwise summation (as used by numerically careful reductions) */
static double pairwise_sum(const float *v, int n)
{
    if (n <= 8) {
        double s = 0.0;
        for (int i = 0; i < n; i++)
            s += v[i];
        return s;
    }
    int h = n / 2;
    return pairwise_sum(v, h) + pairwise_sum(v + h, n - h);
}

/* Gathers channel c into scratch and returns its mean via pairwise summation. */
static double channel_mean(const float *t, int c, int *count)
{
    int m = 0;
    for (int i = c; i < TOTAL; i += CC)
        g_scratch[m++] = t[i];
    *count = m;
    return pairwise_sum(g_scratch, m) / (double)m;
}

static void bn_train_step(BatchNorm *bn, const float *x, float *y)
{
    compute_stats(NORM_BATCH, x, bn->eps);
    normalize(NORM_BATCH, x, y, bn->gamma, bn->beta);
    double unbias = (double)(NB * HH * WW) / (double)(NB * HH * WW - 1);
    for (int c = 0; c < CC; c++) {
        float var = 1.0f / (g_rstd[c] * g_rstd[c]) - bn->eps;
        bn->running_mean[c] = (1.0f - bn->momentum) * bn->running_mean[c] + bn->momentum * g_mean[c];
        bn->running_var[c] = (1.0f - bn->momentum) * bn->running_var[c] +
                             bn->momentum * (float)((double)var * unbias);
    }
}

/* dx = rstd/M * (M*dy - sum(dy) - xhat*sum(dy*xhat)) * gamma */
static void bn_backward(BatchNorm *bn, const float *x, const float *dy, float *dx)
{
    const int M = NB * HH * WW;
    double sdy[CC], sdyx[CC];
    for (int c = 0; c < CC; c++)
        sdy[c] = sdyx[c] = 0.0;
    for (int i = 0; i < TOTAL; i++) {
        int c = i % CC;
        float xhat = (x[i] - g_mean[c]) * g_rstd[c];
        sdy[c] += dy[i];
        sdyx[c] += (double)dy[i] * xhat;
    }
    for (int c = 0; c < CC; c++) {
        bn->dbeta[c] = (float)sdy[c];
        bn->dgamma[c] = (float)sdyx[c];
    }
    for (int i = 0; i < TOTAL; i++) {
        int c = i % CC;
        float xhat = (x[i] - g_mean[c]) * g_rstd[c];
        float t = (float)M * dy[i] - (float)sdy[c] - xhat * (float)sdyx[c];
        dx[i] = bn->gamma[c] * g_rstd[c] / (float)M * t;
    }
}

static uint32_t hash_floats(uint32_t h, const float *v, int n)
{
    for (int i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, &v[i], sizeof b);
        h = (h ^ b) * 0x01000193u;
        h ^= h >> 15;
    }
    return h;
}

static void fill_input(float *x, int step)
{
    for (int i = 0; i < TOTAL; i++) {
        int c = i % CC;
        float shift = 0.3f * (float)(c % 7) - 0.5f + 0.05f * (float)step;
        float scale = 0.5f + 0.1f * (float)(c % 5);
        x[i] = shift + scale * gauss();
    }
}

int main(void)
{
    static const char *names[NORM_KINDS] = {"batch", "layer", "instance", "group"};
    static BatchNorm bn;
    float ones[CC], zeros[CC];
    for (int c = 0; c < CC; c++) {
        ones[c] = 1.0f;
        zeros[c] = 0.0f;
        bn.gamma[c] = 1.0f + 0.02f * (float)(c % 3);
        bn.beta[c] = 0.01f * (float)c;
        bn.running_mean[c] = 0.0f;
        bn.running_var[c] = 1.0f;
    }
    bn.momentum = 0.1f;
    bn.eps = 1e-3f;

    uint32_t h = 0x9747b28cu;
    fill_input(g_x, 0);
    for (int k = 0; k < NORM_KINDS; k++) {
        compute_stats((NormKind)k, g_x, 1e-5f);
        normalize((NormKind)k, g_x, g_y, ones, zeros);
        h = hash_floats(h, g_y, TOTAL);
        int cnt;
        double m0 = channel_mean(g_y, 0, &cnt), m5 = channel_mean(g_y, 5, &cnt);
        printf("%-8s groups %3d  ch0 mean %+.4f ch5 mean %+.4f\n", names[k], num_groups((NormKind)k),
               m0, m5);
    }

    double max_dx_sum = 0.0;
    for (int step = 0; step < 8; step++) {
        fill_input(g_x, step);
        bn_train_step(&bn, g_x, g_y);
        for (int i = 0; i < TOTAL; i++)
            g_dy[i] = 0.01f * (g_y[i] - 0.5f * (float)(i % 3));
        bn_backward(&bn, g_x, g_dy, g_dx);
        for (int c = 0; c < CC; c++) {
            int cnt;
            double s = fabs(channel_mean(g_dx, c, &cnt));
            if (s > max_dx_sum)
                max_dx_sum = s;
            bn.gamma[c] -= 0.05f * bn.dgamma[c] / (float)(NB * HH * WW);
            bn.beta[c] -= 0.05f * bn.dbeta[c] / (float)(NB * HH * WW);
        }
        h = hash_floats(h, g_dx, TOTAL);
    }

    /* fold BN into an affine y = a*x + b and compare with the explicit formula */
    float a[CC], b[CC];
    for (int c = 0; c < CC; c++) {
        a[c] = bn.gamma[c] / sqrtf(bn.running_var[c] + bn.eps);
        b[c] = bn.beta[c] - a[c] * bn.running_mean[c];
    }
    fill_input(g_x, 9);
    float max_diff = 0.0f;
    for (int i = 0; i < TOTAL; i++) {
        int c = i % CC;
        float folded = a[c] * g_x[i] + b[c];
        float expl = bn.gamma[c] * (g_x[i] - bn.running_mean[c]) / sqrtf(bn.running_var[c] + bn.eps)
                     + bn.beta[c];
        float d = fabsf(folded - expl);
        if (d > max_diff)
            max_diff = d;
        g_y[i] = folded;
    }
    h = hash_floats(h, g_y, TOTAL);
    printf("running mean[3] %.5f var[3] %.5f gamma[3] %.5f beta[3] %.5f\n",
           (double)bn.running_mean[3], (double)bn.running_var[3], (double)bn.gamma[3],
           (double)bn.beta[3]);
    printf("max |mean dx| %.2e ok %d, fold max diff ok %d\n", max_dx_sum, max_dx_sum < 1e-6,
           max_diff < 1e-4f);
    printf("checksum %08x\n", h);
    return 0;
}
