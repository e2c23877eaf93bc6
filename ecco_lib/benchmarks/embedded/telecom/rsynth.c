/* rsynth.c - Klatt-style cascade/parallel formant speech synthesiser in double
 * precision: a phoneme string is turned into 10 ms parameter frames with
 * smoothed transitions, a glottal pulse / noise source drives second-order
 * resonators, and 16-bit samples are produced. Modelled on MiBench
 * telecomm/office "rsynth" (own phoneme targets and source model). */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

#define SAMPLE_RATE 10000
#define FRAME_SAMPLES 100
#define MAX_FRAMES 400
#define PI 3.14159265358979323846

typedef struct { double a, b, c, y1, y2; } resonator;

typedef struct {
    char name[3];
    double f1, f2, f3, b1, b2, b3;
    double av, af, nasal;   /* voicing amp, frication amp (dB-ish), nasal zero flag */
    int duration;           /* frames */
} phoneme;

typedef struct {
    double f[5], bw[5], av, af, nasal, f0;
} frame_params;

static const phoneme inventory[] = {
    { "aa", 720, 1240, 2550, 80, 90, 120, 60, 0, 0, 14 },
    { "iy", 290, 2260, 2900, 50, 100, 140, 58, 0, 0, 12 },
    { "uw", 320, 880, 2240, 60, 80, 120, 57, 0, 0, 12 },
    { "eh", 540, 1830, 2480, 70, 100, 130, 59, 0, 0, 10 },
    { "ow", 560, 850, 2420, 70, 80, 120, 59, 0, 0, 13 },
    { "m", 280, 1000, 2200, 60, 160, 200, 50, 0, 1, 8 },
    { "n", 280, 1600, 2600, 60, 160, 200, 50, 0, 1, 7 },
    { "s", 320, 1400, 2600, 200, 200, 300, 0, 56, 0, 10 },
    { "sh", 300, 1800, 2300, 200, 200, 300, 0, 55, 0, 11 },
    { "z", 300, 1400, 2600, 150, 200, 300, 45, 50, 0, 8 },
    { "l", 360, 1100, 2700, 60, 120, 150, 54, 0, 0, 7 },
    { "_", 500, 1500, 2500, 200, 200, 200, 0, 0, 0, 6 },
};

static frame_params frames[MAX_FRAMES];
static int16_t samples[MAX_FRAMES * FRAME_SAMPLES];
static uint32_t noise_state = 0x1234ABCDu;

static const phoneme *lookup(const char *name)
{
    size_t i;
    for (i = 0; i < sizeof inventory / sizeof inventory[0]; i++)
        if (strcmp(inventory[i].name, name) == 0) return &inventory[i];
    return &inventory[sizeof inventory / sizeof inventory[0] - 1];
}

static double db_to_linear(double db) { return db <= 0.0 ? 0.0 : pow(10.0, (db - 60.0) / 20.0) * 600.0; }

static void set_resonator(resonator *r, double freq, double bw)
{
    double t = 1.0 / SAMPLE_RATE, rr = exp(-PI * bw * t);
    r->c = -rr * rr;
    r->b = 2.0 * rr * cos(2.0 * PI * freq * t);
    r->a = 1.0 - r->b - r->c;
}

static void set_antiresonator(resonator *r, double freq, double bw)
{
    set_resonator(r, freq, bw);
    r->a = 1.0 / r->a;
    r->b = -r->b * r->a;
    r->c = -r->c * r->a;
}

static double resonate(resonator *r, double x)
{
    double y = r->a * x + r->b * r->y1 + r->c * r->y2;
    r->y2 = r->y1;
    r->y1 = y;
    return y;
}

static double antiresonate(resonator *r, double x)
{
    double y = r->a * x + r->b * r->y1 + r->c * r->y2;
    r->y2 = r->y1;
    r->y1 = x;
    return y;
}

static double noise(void)
{
    noise_state ^= noise_state << 13;
    noise_state ^= noise_state >> 17;
    noise_state ^= noise_state << 5;
    return ((double)(noise_state >> 8) / 8388608.0) - 1.0;
}

/* linear interpolation from each phoneme target to the next over its last 40% */
static int build_frames(const char *const *seq, int n)
{
    int nf = 0, i, k;
    for (i = 0; i < n; i++) {
        const phoneme *p = lookup(seq[i]), *q = lookup(seq[i + 1 < n ? i + 1 : i]);
        int steady = p->duration * 3 / 5;
        for (k = 0; k < p->duration && nf < MAX_FRAMES; k++, nf++) {
            double w = k < steady ? 0.0 : (double)(k - steady) / (double)(p->duration - steady);
            frame_params *f = &frames[nf];
            f->f[0] = p->f1 + w * (q->f1 - p->f1);
            f->f[1] = p->f2 + w * (q->f2 - p->f2);
            f->f[2] = p->f3 + w * (q->f3 - p->f3);
            f->f[3] = 3300.0; f->f[4] = 3750.0;
            f->bw[0] = p->b1 + w * (q->b1 - p->b1);
            f->bw[1] = p->b2 + w * (q->b2 - p->b2);
            f->bw[2] = p->b3 + w * (q->b3 - p->b3);
            f->bw[3] = 250.0; f->bw[4] = 200.0;
            f->av = p->av + w * (q->av - p->av);
            f->af = p->af + w * (q->af - p->af);
            f->nasal = p->nasal;
            f->f0 = 110.0 + 25.0 * sin(2.0 * PI * (double)nf / 90.0) - 0.05 * (double)nf;
        }
    }
    return nf;
}

static long synthesize(int nframes)
{
    resonator casc[5], par_fric[3], nasal_zero, nasal_pole, tilt;
    double phase = 0.0;
    long n = 0;
    int fr, s, i;
    memset(casc, 0, sizeof casc);
    memset(par_fric, 0, sizeof par_fric);
    memset(&nasal_zero, 0, sizeof nasal_zero);
    memset(&nasal_pole, 0, sizeof nasal_pole);
    set_resonator(&tilt, 0.0, 800.0);
    tilt.y1 = tilt.y2 = 0.0;
    for (fr = 0; fr < nframes; fr++) {
        const frame_params *f = &frames[fr];
        double av = db_to_linear(f->av), af = db_to_linear(f->af);
        for (i = 0; i < 5; i++) set_resonator(&casc[i], f->f[i], f->bw[i]);
        set_resonator(&par_fric[0], f->f[1], 200.0);
        set_resonator(&par_fric[1], f->f[2] + 1200.0, 300.0);
        set_resonator(&par_fric[2], 4500.0, 500.0);
        set_antiresonator(&nasal_zero, f->nasal > 0.5 ? 450.0 : 270.0, 100.0);
        set_resonator(&nasal_pole, 270.0, 100.0);
        for (s = 0; s < FRAME_SAMPLES; s++, n++) {
            double glottal = 0.0, v, fric, out;
            phase += f->f0 / SAMPLE_RATE;
            if (phase >= 1.0) phase -= 1.0;
            if (av > 0.0) {
                /* polynomial open phase (first 40% of the period), closed otherwise */
                double x = phase / 0.4;
                glottal = phase < 0.4 ? av * (3.0 * x * x - 2.0 * x * x * x) - av * 0.5 : -av * 0.5;
                glottal += 0.02 * av * noise();   /* aspiration */
            }
            v = resonate(&tilt, glottal);
            v = antiresonate(&nasal_zero, resonate(&nasal_pole, v));
            for (i = 4; i >= 0; i--) v = resonate(&casc[i], v);
            fric = 0.0;
            if (af > 0.0) {
                double src = af * noise();
                fric = 0.5 * resonate(&par_fric[0], src) - 0.8 * resonate(&par_fric[1], src) +
                       1.2 * resonate(&par_fric[2], src);
            }
            out = 4.0 * v + fric;
            if (out > 32767.0) out = 32767.0;
            if (out < -32768.0) out = -32768.0;
            samples[n] = (int16_t)lrint(out);
        }
    }
    return n;
}

int main(void)
{
    static const char *const utterance[] = {
        "_", "s", "iy", "n", "aa", "l", "_", "m", "ow", "l", "eh", "m", "_", "z", "uw", "m",
        "_", "sh", "aa", "l", "ow", "_", "n", "iy", "s", "_", "l", "aa", "m", "eh", "n", "_",
        "s", "ow", "l", "uw", "sh", "_",
    };
    int n = (int)(sizeof utterance / sizeof utterance[0]), nframes, rep;
    uint32_t h = 2166136261u;
    long total = 0, i, zero_cross = 0, peak = 0;
    double energy = 0.0;
    for (rep = 0; rep < 12; rep++) {
        long ns;
        nframes = build_frames(utterance + (rep % 4) * 4, n - (rep % 4) * 4);
        noise_state = 0x1234ABCDu + (uint32_t)rep;
        ns = synthesize(nframes);
        for (i = 0; i < ns; i++) {
            long a = samples[i] < 0 ? -(long)samples[i] : samples[i];
            if (a > peak) peak = a;
            if (i > 0 && (samples[i] < 0) != (samples[i - 1] < 0)) zero_cross++;
            energy += (double)samples[i] * (double)samples[i];
            h = (h ^ (uint16_t)samples[i]) * 16777619u;
        }
        total += ns;
        if (rep % 4 == 0) printf("pass %d: %d frames, %ld samples\n", rep, nframes, ns);
    }
    printf("peak %ld zero crossings %ld rms %.6f\n", peak, zero_cross, sqrt(energy / (double)total));
    printf("checksum %08x\n", h);
    return 0;
}
