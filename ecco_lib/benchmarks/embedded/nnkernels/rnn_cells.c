/* Recurrent cells over a batch of sequences: an LSTM layer (fused gate matrix,
 * optional peepholes and cell clipping, TFLite UNIDIRECTIONAL_SEQUENCE_LSTM
 * style) feeding a reverse-direction GRU layer (Keras reset_after variants),
 * with activations dispatched through a function-pointer table. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

#define BATCH 4
#define SEQ 32
#define IN 32
#define HID 48
#define MAXG (4 * HID)
#define MAXK (IN + HID)

typedef enum { ACT_SIGMOID, ACT_TANH, ACT_HARD_SIGMOID, ACT_COUNT } ActId;
typedef float (*ActFn)(float);

typedef enum { CELL_LSTM, CELL_GRU } CellType;

typedef struct {
    CellType type;
    int in, hid, gates;
    int reverse;
    int reset_after;   /* GRU only */
    int use_peephole;  /* LSTM only */
    float cell_clip;   /* LSTM only, 0 = off */
    ActId gate_act, cell_act;
    float w[MAXG * MAXK];     /* [gates*hid][in+hid], input part then recurrent part */
    float b[MAXG];
    float rb[MAXG];           /* recurrent bias (GRU reset_after) */
    float peep[3 * HID];      /* i, f, o peepholes */
} Cell;

typedef struct {
    float h[BATCH][HID];
    float c[BATCH][HID];
} State;

static Cell g_lstm, g_gru;
static float g_input[BATCH * SEQ * IN];
static float g_seq1[BATCH * SEQ * HID];
static float g_seq2[BATCH * SEQ * HID];

static uint32_t g_seed = 0xBADC0DEu;

static float urand(void)
{
    g_seed ^= g_seed << 13;
    g_seed ^= g_seed >> 17;
    g_seed ^= g_seed << 5;
    return (float)(g_seed & 0xFFFFFF) / 16777216.0f;
}

static float act_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }
static float act_tanh(float x) { return tanhf(x); }
static float act_hard_sigmoid(float x)
{
    float y = 0.2f * x + 0.5f;
    return y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
}

static const ActFn k_acts[ACT_COUNT] = {act_sigmoid, act_tanh, act_hard_sigmoid};

static void init_cell(Cell *c, CellType t, int in, int hid, int reverse)
{
    memset(c, 0, sizeof *c);
    c->type = t; c->in = in; c->hid = hid; c->reverse = reverse;
    c->gates = t == CELL_LSTM ? 4 : 3;
    c->gate_act = ACT_SIGMOID;
    c->cell_act = ACT_TANH;
    int k = in + hid;
    float scale = 1.0f / sqrtf((float)k);
    for (int i = 0; i < c->gates * hid * k; i++)
        c->w[i] = (2.0f * urand() - 1.0f) * scale;
    for (int i = 0; i < c->gates * hid; i++) {
        c->b[i] = 0.1f * (urand() - 0.5f);
        c->rb[i] = 0.1f * (urand() - 0.5f);
    }
    if (t == CELL_LSTM)
        for (int i = hid; i < 2 * hid; i++)
            c->b[i] += 1.0f; /* forget-gate bias, as Keras unit_forget_bias */
    for (int i = 0; i < 3 * hid; i++)
        c->peep[i] = 0.05f * (urand() - 0.5f);
}

/* out[g] = sum_j W[g][j] * x[j] for j in [off, off+len) of the fused matrix */
static void matvec(const float *w, int ld, int rows, int off, const float *x, int len, float *out)
{
    for (int r = 0; r < rows; r++) {
        const float *row = w + r * ld + off;
        float s = 0.0f;
        for (int j = 0; j < len; j++)
            s += row[j] * x[j];
        out[r] += s;
    }
}

static void lstm_step(const Cell *cl, const float *x, float *h, float *c)
{
    int H = cl->hid, K = cl->in + cl->hid;
    float g[MAXG];
    ActFn ga = k_acts[cl->gate_act], ca = k_acts[cl->cell_act];
    memcpy(g, cl->b, sizeof(float) * (size_t)(4 * H));
    matvec(cl->w, K, 4 * H, 0, x, cl->in, g);
    matvec(cl->w, K, 4 * H, cl->in, h, H, g);
    for (int j = 0; j < H; j++) {
        float ig = g[j], fg = g[H + j], cg = g[2 * H + j], og = g[3 * H + j];
        if (cl->use_peephole) {
            ig += cl->peep[j] * c[j];
            fg += cl->peep[H + j] * c[j];
        }
        ig = ga(ig);
        fg = ga(fg);
        float cn = fg * c[j] + ig * ca(cg);
        if (cl->cell_clip > 0.0f) {
            if (cn > cl->cell_clip) cn = cl->cell_clip;
            if (cn < -cl->cell_clip) cn = -cl->cell_clip;
        }
        if (cl->use_peephole)
            og += cl->peep[2 * H + j] * cn;
        c[j] = cn;
        h[j] = ga(og) * ca(cn);
    }
}

static void gru_step(const Cell *cl, const float *x, float *h)
{
    int H = cl->hid, K = cl->in + cl->hid;
    float gx[3 * HID], gh[3 * HID], hn[HID];
    ActFn ga = k_acts[cl->gate_act], ca = k_acts[cl->cell_act];
    memcpy(gx, cl->b, sizeof(float) * (size_t)(3 * H));
    memcpy(gh, cl->rb, sizeof(float) * (size_t)(3 * H));
    matvec(cl->w, K, 3 * H, 0, x, cl->in, gx);
    if (cl->reset_after) {
        matvec(cl->w, K, 3 * H, cl->in, h, H, gh);
        for (int j = 0; j < H; j++) {
            float z = ga(gx[j] + gh[j]);
            float r = ga(gx[H + j] + gh[H + j]);
            float n = ca(gx[2 * H + j] + r * gh[2 * H + j]);
            hn[j] = (1.0f - z) * n + z * h[j];
        }
    } else {
        /* reset applied before the recurrent matmul of the candidate */
        float rh[HID];
        matvec(cl->w, K, 2 * H, cl->in, h, H, gh);
        for (int j = 0; j < H; j++)
            rh[j] = ga(gx[H + j] + gh[H + j]) * h[j];
        matvec(cl->w + 2 * H * K, K, H, cl->in, rh, H, gh + 2 * H);
        for (int j = 0; j < H; j++) {
            float z = ga(gx[j] + gh[j]);
            float n = ca(gx[2 * H + j] + gh[2 * H + j]);
            hn[j] = (1.0f - z) * n + z * h[j];
        }
    }
    memcpy(h, hn, sizeof(float) * (size_t)H);
}

/* runs a whole layer over the sequence; returns the number of steps taken */
static int run_layer(const Cell *cl, const float *in, int in_ld, float *out, State *st)
{
    int steps = 0;
    for (int b = 0; b < BATCH; b++) {
        for (int t = 0; t < SEQ; t++) {
            int tt = cl->reverse ? SEQ - 1 - t : t;
            switch (cl->type) {
            case CELL_LSTM:
                lstm_step(cl, in + (b * SEQ + tt) * in_ld, st->h[b], st->c[b]);
                break;
            case CELL_GRU:
                gru_step(cl, in + (b * SEQ + tt) * in_ld, st->h[b]);
                break;
            }
            memcpy(out + (b * SEQ + tt) * cl->hid, st->h[b], sizeof(float) * (size_t)cl->hid);
            steps++;
        }
    }
    return steps;
}

static uint32_t mix(uint32_t h, float v)
{
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    h += b;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    return h;
}

int main(void)
{
    for (int b = 0; b < BATCH; b++)
        for (int t = 0; t < SEQ; t++)
            for (int i = 0; i < IN; i++)
                g_input[(b * SEQ + t) * IN + i] = sinf(0.2f * (float)t * (float)(i % 4 + 1) + (float)b) +
                                   0.3f * (urand() - 0.5f);

    uint32_t h = 0x6a09e667u;
    int total_steps = 0;
    for (int variant = 0; variant < 4; variant++) {
        g_seed = 0xBADC0DEu + (uint32_t)variant;
        init_cell(&g_lstm, CELL_LSTM, IN, HID, 0);
        init_cell(&g_gru, CELL_GRU, HID, HID, 1);
        g_lstm.use_peephole = variant & 1;
        g_lstm.cell_clip = (variant & 2) ? 0.75f : 0.0f;
        g_gru.reset_after = (variant & 1) == 0;
        if (variant == 3)
            g_gru.gate_act = ACT_HARD_SIGMOID;
        State s1, s2;
        memset(&s1, 0, sizeof s1);
        memset(&s2, 0, sizeof s2);
        total_steps += run_layer(&g_lstm, g_input, IN, g_seq1, &s1);
        total_steps += run_layer(&g_gru, g_seq1, HID, g_seq2, &s2);

        double energy = 0.0, cmax = 0.0;
        for (int b = 0; b < BATCH; b++)
            for (int t = 0; t < SEQ; t++)
                for (int j = 0; j < HID; j++) {
                    float v = g_seq2[(b * SEQ + t) * HID + j];
                    h = mix(h, v);
                    energy += (double)v * v;
                }
        for (int b = 0; b < BATCH; b++)
            for (int j = 0; j < HID; j++)
                if (fabs((double)s1.c[b][j]) > cmax)
                    cmax = fabs((double)s1.c[b][j]);
        printf("variant %d: peephole %d clip %.2f reset_after %d  energy %.5f max|c| %.5f\n",
               variant, g_lstm.use_peephole, (double)g_lstm.cell_clip, g_gru.reset_after,
               energy / (BATCH * SEQ * HID), cmax);
    }
    printf("steps %d\n", total_steps);
    printf("checksum %08x\n", h);
    return 0;
}
