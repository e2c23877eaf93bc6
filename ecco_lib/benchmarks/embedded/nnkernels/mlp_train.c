/* Training a small multilayer perceptron (2-32-32-3) on a synthetic spiral
 * classification set: dense forward/backward passes, softmax cross-entropy,
 * mini-batch SGD with momentum and weight decay, a step/cosine learning-rate
 * schedule and a finite-difference gradient check (tf.keras-style training). */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

#define NPTS 240
#define NCLS 3
#define HID 32
#define BATCH 24
#define EPOCHS 14
#define MAXW (HID * HID)

typedef enum { A_RELU, A_TANH, A_LINEAR } Act;
typedef enum { LR_CONST, LR_STEP, LR_COSINE } Schedule;

typedef struct {
    int in, out;
    Act act;
    float w[MAXW], b[HID];
    float dw[MAXW], db[HID];
    float vw[MAXW], vb[HID];
    float z[BATCH][HID], a[BATCH][HID]; /* cached pre/post activations */
} Dense;

typedef struct {
    Dense l[3];
    float lr, momentum, decay;
    Schedule sched;
} Net;

static float g_x[NPTS][2];
static int g_y[NPTS];
static int g_order[NPTS];
static Net g_net;
static float g_dbuf[2][BATCH][HID];

static uint32_t g_r = 2463534242u;

static uint32_t rnd(void)
{
    g_r ^= g_r << 13;
    g_r ^= g_r >> 17;
    g_r ^= g_r << 5;
    return g_r;
}

static float rndf(void) { return (float)(rnd() >> 8) / 16777216.0f; }

static void make_spiral(void)
{
    for (int i = 0; i < NPTS; i++) {
        int cls = i % NCLS, k = i / NCLS;
        float r = (float)k / (float)(NPTS / NCLS);
        float t = (float)cls * 4.18879f + 4.0f * r + 0.25f * (rndf() - 0.5f);
        g_x[i][0] = r * sinf(t);
        g_x[i][1] = r * cosf(t);
        g_y[i] = cls;
    }
}

static void init_dense(Dense *d, int in, int out, Act act)
{
    d->in = in; d->out = out; d->act = act;
    float lim = sqrtf(6.0f / (float)(in + out)); /* Glorot uniform */
    for (int i = 0; i < in * out; i++) {
        d->w[i] = (2.0f * rndf() - 1.0f) * lim;
        d->vw[i] = 0.0f;
    }
    for (int j = 0; j < out; j++)
        d->b[j] = d->vb[j] = 0.0f;
}

static float act_f(Act a, float z)
{
    switch (a) {
    case A_RELU: return z > 0.0f ? z : 0.0f;
    case A_TANH: return tanhf(z);
    default: return z;
    }
}

static float act_grad(Act a, float z, float y)
{
    switch (a) {
    case A_RELU: return z > 0.0f ? 1.0f : 0.0f;
    case A_TANH: return 1.0f - y * y;
    default: return 1.0f;
    }
}

static void dense_forward(Dense *d, float in[][HID], int n)
{
    for (int s = 0; s < n; s++)
        for (int j = 0; j < d->out; j++) {
            float acc = d->b[j];
            const float *wr = d->w + j * d->in;
            for (int i = 0; i < d->in; i++)
                acc += wr[i] * in[s][i];
            d->z[s][j] = acc;
            d->a[s][j] = act_f(d->act, acc);
        }
}

/* dout: dL/da of this layer; writes dL/d(input) into din (may be NULL) */
static void dense_backward(Dense *d, float in[][HID], float dout[][HID], float din[][HID], int n)
{
    memset(d->dw, 0, sizeof(float) * (size_t)(d->in * d->out));
    memset(d->db, 0, sizeof(float) * (size_t)d->out);
    if (din)
        for (int s = 0; s < n; s++)
            for (int i = 0; i < d->in; i++)
                din[s][i] = 0.0f;
    for (int s = 0; s < n; s++)
        for (int j = 0; j < d->out; j++) {
            float g = dout[s][j] * act_grad(d->act, d->z[s][j], d->a[s][j]);
            d->db[j] += g;
            float *dwr = d->dw + j * d->in;
            const float *wr = d->w + j * d->in;
            for (int i = 0; i < d->in; i++) {
                dwr[i] += g * in[s][i];
                if (din)
                    din[s][i] += g * wr[i];
            }
        }
}

static float g_inbuf[BATCH][HID];

/* forward over a batch; returns mean cross-entropy and fills dlogits */
static float net_loss(Net *net, const int *idx, int n, float dlogits[][HID], int *correct)
{
    for (int s = 0; s < n; s++) {
        g_inbuf[s][0] = g_x[idx[s]][0];
        g_inbuf[s][1] = g_x[idx[s]][1];
    }
    dense_forward(&net->l[0], g_inbuf, n);
    dense_forward(&net->l[1], net->l[0].a, n);
    dense_forward(&net->l[2], net->l[1].a, n);
    float loss = 0.0f;
    for (int s = 0; s < n; s++) {
        const float *lg = net->l[2].a[s];
        float mx = lg[0];
        int arg = 0;
        for (int k = 1; k < NCLS; k++)
            if (lg[k] > mx) { mx = lg[k]; arg = k; }
        float sum = 0.0f, p[NCLS];
        for (int k = 0; k < NCLS; k++) {
            p[k] = expf(lg[k] - mx);
            sum += p[k];
        }
        int y = g_y[idx[s]];
        loss += logf(sum) - (lg[y] - mx);
        if (correct)
            *correct += arg == y;
        if (dlogits)
            for (int k = 0; k < NCLS; k++)
                dlogits[s][k] = (p[k] / sum - (k == y ? 1.0f : 0.0f)) / (float)n;
    }
    return loss / (float)n;
}

static void net_backward(Net *net, int n)
{
    dense_backward(&net->l[2], net->l[1].a, g_dbuf[0], g_dbuf[1], n);
    dense_backward(&net->l[1], net->l[0].a, g_dbuf[1], g_dbuf[0], n);
    dense_backward(&net->l[0], g_inbuf, g_dbuf[0], NULL, n);
}

static float lr_at(const Net *net, int epoch)
{
    switch (net->sched) {
    case LR_STEP: return net->lr * (epoch < EPOCHS / 2 ? 1.0f : (epoch < 3 * EPOCHS / 4 ? 0.3f : 0.1f));
    case LR_COSINE: return net->lr * 0.5f * (1.0f + cosf(3.14159265f * (float)epoch / (float)EPOCHS));
    default: return net->lr;
    }
}

static void sgd_update(Net *net, float lr)
{
    for (int li = 0; li < 3; li++) {
        Dense *d = &net->l[li];
        for (int i = 0; i < d->in * d->out; i++) {
            float g = d->dw[i] + net->decay * d->w[i];
            d->vw[i] = net->momentum * d->vw[i] - lr * g;
            d->w[i] += d->vw[i];
        }
        for (int j = 0; j < d->out; j++) {
            d->vb[j] = net->momentum * d->vb[j] - lr * d->db[j];
            d->b[j] += d->vb[j];
        }
    }
}

/* compares analytic dL/dw with central differences on a few weights */
static int grad_check(Net *net, const int *idx, int n)
{
    int ok = 0;
    net_loss(net, idx, n, g_dbuf[0], NULL);
    net_backward(net, n);
    for (int t = 0; t < 6; t++) {
        Dense *d = &net->l[t % 3];
        int wi = (int)(rnd() % (uint32_t)(d->in * d->out));
        float analytic = d->dw[wi], saved = d->w[wi], eps = 1e-2f;
        d->w[wi] = saved + eps;
        float lp = net_loss(net, idx, n, NULL, NULL);
        d->w[wi] = saved - eps;
        float lm = net_loss(net, idx, n, NULL, NULL);
        d->w[wi] = saved;
        float numeric = (lp - lm) / (2.0f * eps);
        ok += fabsf(numeric - analytic) <= 2e-3f + 0.05f * fabsf(analytic);
    }
    return ok;
}

int main(void)
{
    make_spiral();
    uint32_t h = 0x1b873593u;
    static const Schedule scheds[2] = {LR_STEP, LR_COSINE};
    for (int run = 0; run < 2; run++) {
        Net *net = &g_net;
        init_dense(&net->l[0], 2, HID, run ? A_TANH : A_RELU);
        init_dense(&net->l[1], HID, HID, A_RELU);
        init_dense(&net->l[2], HID, NCLS, A_LINEAR);
        net->lr = 0.3f; net->momentum = 0.9f; net->decay = 1e-4f;
        net->sched = scheds[run];
        for (int i = 0; i < NPTS; i++)
            g_order[i] = i;
        int gc = grad_check(net, g_order, BATCH);
        float loss = 0.0f;
        for (int ep = 0; ep < EPOCHS; ep++) {
            for (int i = NPTS - 1; i > 0; i--) { /* Fisher-Yates shuffle */
                int j = (int)(rnd() % (uint32_t)(i + 1));
                int t = g_order[i]; g_order[i] = g_order[j]; g_order[j] = t;
            }
            float lr = lr_at(net, ep);
            loss = 0.0f;
            for (int b0 = 0; b0 < NPTS; b0 += BATCH) {
                loss += net_loss(net, g_order + b0, BATCH, g_dbuf[0], NULL);
                net_backward(net, BATCH);
                sgd_update(net, lr);
            }
            loss /= (float)(NPTS / BATCH);
        }
        int correct = 0;
        for (int b0 = 0; b0 < NPTS; b0 += BATCH) {
            int idx[BATCH];
            for (int s = 0; s < BATCH; s++)
                idx[s] = b0 + s;
            net_loss(net, idx, BATCH, NULL, &correct);
        }
        for (int li = 0; li < 3; li++)
            for (int i = 0; i < net->l[li].in * net->l[li].out; i++) {
                uint32_t bits;
                memcpy(&bits, &net->l[li].w[i], sizeof bits);
                h = (h ^ bits) * 0x01000193u;
            }
        printf("run %d: grad-check %d/6 final loss %.5f train acc %d/%d\n", run, gc,
               (double)loss, correct, NPTS);
    }
    printf("checksum %08x\n", h);
    return 0;
}
