/* Basic math kernels for embedded controllers: closed-form cubic solving
 * (trigonometric and Cardano branches) polished with Newton steps, bit-by-bit
 * integer square root with a 16.16 fixed-point variant, degree/radian
 * conversion and angle wrapping. Modelled on MiBench/cBench "basicmath". */
#include <stdio.h>
#include <stdint.h>
#include <math.h>

#define PI 3.14159265358979323846

struct cubic_result {
    int nroots;
    double x[3];
};

struct isqrt_result {
    uint32_t root;   /* integer part */
    uint32_t remain; /* value - root^2 */
};

static double deg2rad(double d) { return d * (PI / 180.0); }
static double rad2deg(double r) { return r * (180.0 / PI); }

/* wrap an angle into (-180, 180] degrees */
static double wrap_deg(double d)
{
    while (d > 180.0)
        d -= 360.0;
    while (d <= -180.0)
        d += 360.0;
    return d;
}

static double newton_polish(double a, double b, double c, double d, double x)
{
    for (int i = 0; i < 3; i++) {
        double f = ((a * x + b) * x + c) * x + d;
        double fp = (3.0 * a * x + 2.0 * b) * x + c;
        if (fp == 0.0)
            break;
        x -= f / fp;
    }
    return x;
}

/* solve a x^3 + b x^2 + c x + d = 0 (a != 0) */
void solve_cubic(double a, double b, double c, double d, struct cubic_result *res)
{
    double a1 = b / a, a2 = c / a, a3 = d / a;
    double q = (a1 * a1 - 3.0 * a2) / 9.0;
    double r = (2.0 * a1 * a1 * a1 - 9.0 * a1 * a2 + 27.0 * a3) / 54.0;
    double q3 = q * q * q;
    double disc = r * r - q3;

    if (disc <= 0.0 && q > 0.0) {
        double ratio = r / sqrt(q3);
        if (ratio > 1.0)
            ratio = 1.0;
        if (ratio < -1.0)
            ratio = -1.0;
        double theta = acos(ratio), sq = -2.0 * sqrt(q);
        res->nroots = 3;
        res->x[0] = sq * cos(theta / 3.0) - a1 / 3.0;
        res->x[1] = sq * cos((theta + 2.0 * PI) / 3.0) - a1 / 3.0;
        res->x[2] = sq * cos((theta + 4.0 * PI) / 3.0) - a1 / 3.0;
    } else {
        double e = pow(sqrt(disc > 0.0 ? disc : 0.0) + fabs(r), 1.0 / 3.0);
        double t = e + (e != 0.0 ? q / e : 0.0);
        res->nroots = 1;
        res->x[0] = (r < 0.0 ? t : -t) - a1 / 3.0;
    }
    for (int i = 0; i < res->nroots; i++)
        res->x[i] = newton_polish(a, b, c, d, res->x[i]);
    /* sort ascending (insertion) */
    for (int i = 1; i < res->nroots; i++)
        for (int j = i; j > 0 && res->x[j - 1] > res->x[j]; j--) {
            double tmp = res->x[j];
            res->x[j] = res->x[j - 1];
            res->x[j - 1] = tmp;
        }
}

/* classic two-bits-at-a-time integer square root */
void usqrt(uint32_t x, struct isqrt_result *q)
{
    uint32_t a = 0, r = 0, e;
    for (int i = 0; i < 16; i++) {
        r = (r << 2) + (x >> 30);
        x <<= 2;
        a <<= 1;
        e = (a << 1) + 1u;
        if (r >= e) {
            r -= e;
            a++;
        }
    }
    q->root = a;
    q->remain = r;
}

/* square root of a 16.16 fixed point value, result in 16.16 */
static uint32_t fixed_sqrt(uint32_t v)
{
    uint64_t x = (uint64_t)v << 16, res = 0, bit = (uint64_t)1 << 62;
    while (bit > x)
        bit >>= 2;
    while (bit != 0) {
        if (x >= res + bit) {
            x -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    return (uint32_t)res;
}

static uint32_t mix(uint32_t h, uint32_t v)
{
    h ^= v;
    h *= 0x85EBCA6Bu;
    return h ^ (h >> 13);
}

static uint32_t qd(double v) /* quantise to 1e-4, saturating */
{
    double s = floor(v * 10000.0 + 0.5);
    if (!(s > -2.0e9))
        s = -2.0e9;
    if (s > 2.0e9)
        s = 2.0e9;
    return (uint32_t)(int32_t)s;
}

int main(void)
{
    uint32_t h = 0x9747b28cu;
    int count[4] = {0, 0, 0, 0};
    double rootsum = 0.0, anglesum = 0.0;
    uint64_t isum = 0;
    struct cubic_result cr;
    struct isqrt_result ir;

    /* sweep of cubic coefficients as in the classic basicmath driver */
    for (double a = 1.0; a < 8.0; a += 1.5)
        for (double b = 10.0; b > -10.0; b -= 1.75)
            for (double c = 5.0; c < 15.0; c += 1.25)
                for (double d = -1.0; d > -15.0; d -= 2.5) {
                    solve_cubic(a, b, c, d, &cr);
                    count[cr.nroots]++;
                    for (int i = 0; i < cr.nroots; i++) {
                        rootsum += cr.x[i];
                        h = mix(h, qd(cr.x[i]));
                    }
                }
    /* integer square roots */
    for (uint32_t i = 0; i < 150000u; i++) {
        uint32_t v = i * 104729u + 0x1000u;
        usqrt(v, &ir);
        isum += ir.root;
        h = mix(h, ir.root ^ (ir.remain << 7));
        if (i % 4 == 0)
            h = mix(h, fixed_sqrt(v >> 4));
    }
    /* angle conversions with wrapping */
    for (int i = 0; i < 36000; i++) {
        double deg = (double)i * 1.37 - 9000.0;
        double rad = deg2rad(wrap_deg(deg));
        anglesum += rad;
        h = mix(h, qd(rad2deg(rad)));
    }
    printf("cubics one %d three %d\n", count[1], count[3]);
    printf("rootsum %.6f anglesum %.6f isum %llu\n", rootsum, anglesum, (unsigned long long)isum);
    printf("checksum %08x\n", h);
    return 0;
}
