/* softfloat.c - IEEE-754 double precision add, sub, mul and div implemented
 * purely with 64-bit integer bit manipulation (with all four rounding modes),
 * checked against the host FPU and used to evaluate a Taylor-series sine.
 * Modelled on the CHStone dfadd / dfmul / dfdiv / dfsin HLS kernels. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

typedef uint64_t float64;

enum { ROUND_NEAREST_EVEN = 0, ROUND_TO_ZERO = 1, ROUND_DOWN = 2, ROUND_UP = 3 };
enum { FLAG_INEXACT = 1, FLAG_UNDERFLOW = 2, FLAG_OVERFLOW = 4, FLAG_DIVZERO = 8, FLAG_INVALID = 16 };

static int rounding_mode = ROUND_NEAREST_EVEN;
static unsigned exception_flags;

#define DEFAULT_NAN 0xFFF8000000000000ULL
#define HIDDEN_BIT 0x0010000000000000ULL

static uint64_t frac_of(float64 a) { return a & 0x000FFFFFFFFFFFFFULL; }
static int exp_of(float64 a) { return (int)((a >> 52) & 0x7FF); }
static int sign_of(float64 a) { return (int)(a >> 63); }
static float64 pack(int sign, int exp, uint64_t sig)
{
    return ((uint64_t)sign << 63) + ((uint64_t)exp << 52) + sig;
}
static int is_nan(float64 a) { return exp_of(a) == 0x7FF && frac_of(a) != 0; }

static float64 propagate_nan(float64 a, float64 b)
{
    exception_flags |= FLAG_INVALID;
    if (is_nan(a))
        return a | 0x0008000000000000ULL;
    return b | 0x0008000000000000ULL;
}

static const uint8_t clz8_table[16] = { 4, 3, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0 };

static int clz32(uint32_t a)
{
    int n = 0;
    if (a < 0x10000) { n += 16; a <<= 16; }
    if (a < 0x1000000) { n += 8; a <<= 8; }
    if (a < 0x10000000) { n += 4; a <<= 4; }
    return n + clz8_table[a >> 28];
}

static int clz64(uint64_t a)
{
    if ((a >> 32) == 0)
        return 32 + clz32((uint32_t)a);
    return clz32((uint32_t)(a >> 32));
}

static uint64_t shift_right_jam(uint64_t a, int count)
{
    if (count == 0)
        return a;
    if (count < 64)
        return (a >> count) | ((a << ((-count) & 63)) != 0);
    return a != 0;
}

static void mul64_to_128(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
    uint64_t a_lo = (uint32_t)a, a_hi = a >> 32, b_lo = (uint32_t)b, b_hi = b >> 32;
    uint64_t p0 = a_lo * b_lo, p1 = a_lo * b_hi, p2 = a_hi * b_lo, p3 = a_hi * b_hi;
    uint64_t mid = p1 + p2;
    uint64_t carry_mid = (mid < p1) ? (1ULL << 32) : 0;
    uint64_t low = p0 + (mid << 32);
    *hi = p3 + (mid >> 32) + carry_mid + (low < p0);
    *lo = low;
}

static void normalize_subnormal(uint64_t sig, int *exp, uint64_t *out)
{
    int shift = clz64(sig) - 11;
    *out = sig << shift;
    *exp = 1 - shift;
}

/* sig carries 10 guard bits; its leading one is at bit 62 for normal results */
static float64 round_and_pack(int sign, int exp, uint64_t sig)
{
    uint64_t increment;
    unsigned round_bits;
    switch (rounding_mode) {
    case ROUND_NEAREST_EVEN: increment = 0x200; break;
    case ROUND_TO_ZERO: increment = 0; break;
    case ROUND_DOWN: increment = sign ? 0x3FF : 0; break;
    default: increment = sign ? 0 : 0x3FF; break;
    }
    round_bits = (unsigned)(sig & 0x3FF);
    if (exp < 0 || exp >= 0x7FD) {
        if (exp > 0x7FD || (exp == 0x7FD && ((sig + increment) >> 63) != 0)) {
            exception_flags |= FLAG_OVERFLOW | FLAG_INEXACT;
            return pack(sign, 0x7FF, 0) - (increment == 0);
        }
        if (exp < 0) {
            sig = shift_right_jam(sig, -exp);
            exp = 0;
            round_bits = (unsigned)(sig & 0x3FF);
            if (round_bits)
                exception_flags |= FLAG_UNDERFLOW;
        }
    }
    if (round_bits)
        exception_flags |= FLAG_INEXACT;
    sig = (sig + increment) >> 10;
    if (round_bits == 0x200 && rounding_mode == ROUND_NEAREST_EVEN)
        sig &= ~1ULL;
    if (sig == 0)
        exp = 0;
    return pack(sign, exp, sig);
}

static float64 normalize_round_and_pack(int sign, int exp, uint64_t sig)
{
    int shift = clz64(sig) - 1;
    return round_and_pack(sign, exp - shift, sig << shift);
}

static float64 add_sigs(float64 a, float64 b, int sign)
{
    int a_exp = exp_of(a), b_exp = exp_of(b), z_exp, diff = a_exp - b_exp;
    uint64_t a_sig = frac_of(a) << 9, b_sig = frac_of(b) << 9, z_sig;
    if (diff > 0) {
        if (a_exp == 0x7FF)
            return a_sig ? propagate_nan(a, b) : a;
        if (b_exp == 0) --diff; else b_sig |= 0x2000000000000000ULL;
        b_sig = shift_right_jam(b_sig, diff);
        z_exp = a_exp;
    } else if (diff < 0) {
        if (b_exp == 0x7FF)
            return b_sig ? propagate_nan(a, b) : pack(sign, 0x7FF, 0);
        if (a_exp == 0) ++diff; else a_sig |= 0x2000000000000000ULL;
        a_sig = shift_right_jam(a_sig, -diff);
        z_exp = b_exp;
    } else {
        if (a_exp == 0x7FF)
            return (a_sig | b_sig) ? propagate_nan(a, b) : a;
        if (a_exp == 0)
            return pack(sign, 0, (a_sig + b_sig) >> 9);
        z_sig = 0x4000000000000000ULL + a_sig + b_sig;
        return round_and_pack(sign, a_exp, z_sig);
    }
    a_sig |= 0x2000000000000000ULL;
    z_sig = (a_sig + b_sig) << 1;
    --z_exp;
    if ((z_sig >> 63) != 0) {
        z_sig = a_sig + b_sig;
        ++z_exp;
    }
    return round_and_pack(sign, z_exp, z_sig);
}

static float64 sub_sigs(float64 a, float64 b, int sign)
{
    int a_exp = exp_of(a), b_exp = exp_of(b), diff = a_exp - b_exp;
    uint64_t a_sig = frac_of(a) << 10, b_sig = frac_of(b) << 10;
    if (diff == 0) {
        if (a_exp == 0x7FF) {
            if (a_sig | b_sig)
                return propagate_nan(a, b);
            exception_flags |= FLAG_INVALID;
            return DEFAULT_NAN;
        }
        if (a_exp == 0) { a_exp = 1; b_exp = 1; }
        if (b_sig < a_sig)
            return normalize_round_and_pack(sign, a_exp - 1, a_sig - b_sig);
        if (a_sig < b_sig)
            return normalize_round_and_pack(sign ^ 1, b_exp - 1, b_sig - a_sig);
        return pack(rounding_mode == ROUND_DOWN, 0, 0);
    }
    if (diff < 0) {
        if (b_exp == 0x7FF)
            return b_sig ? propagate_nan(a, b) : pack(sign ^ 1, 0x7FF, 0);
        if (a_exp == 0) ++diff; else a_sig |= 0x4000000000000000ULL;
        a_sig = shift_right_jam(a_sig, -diff);
        b_sig |= 0x4000000000000000ULL;
        return normalize_round_and_pack(sign ^ 1, b_exp - 1, b_sig - a_sig);
    }
    if (a_exp == 0x7FF)
        return a_sig ? propagate_nan(a, b) : a;
    if (b_exp == 0) --diff; else b_sig |= 0x4000000000000000ULL;
    b_sig = shift_right_jam(b_sig, diff);
    a_sig |= 0x4000000000000000ULL;
    return normalize_round_and_pack(sign, a_exp - 1, a_sig - b_sig);
}

float64 float64_add(float64 a, float64 b)
{
    int as = sign_of(a), bs = sign_of(b);
    return as == bs ? add_sigs(a, b, as) : sub_sigs(a, b, as);
}

float64 float64_sub(float64 a, float64 b)
{
    int as = sign_of(a), bs = sign_of(b);
    return as == bs ? sub_sigs(a, b, as) : add_sigs(a, b, as);
}

float64 float64_mul(float64 a, float64 b)
{
    int a_exp = exp_of(a), b_exp = exp_of(b), z_exp, z_sign = sign_of(a) ^ sign_of(b);
    uint64_t a_sig = frac_of(a), b_sig = frac_of(b), hi, lo;
    if (a_exp == 0x7FF) {
        if (a_sig || (b_exp == 0x7FF && b_sig))
            return propagate_nan(a, b);
        if ((b_exp | (int64_t)b_sig) == 0) { exception_flags |= FLAG_INVALID; return DEFAULT_NAN; }
        return pack(z_sign, 0x7FF, 0);
    }
    if (b_exp == 0x7FF) {
        if (b_sig)
            return propagate_nan(a, b);
        if ((a_exp | (int64_t)a_sig) == 0) { exception_flags |= FLAG_INVALID; return DEFAULT_NAN; }
        return pack(z_sign, 0x7FF, 0);
    }
    if (a_exp == 0) {
        if (a_sig == 0) return pack(z_sign, 0, 0);
        normalize_subnormal(a_sig, &a_exp, &a_sig);
    }
    if (b_exp == 0) {
        if (b_sig == 0) return pack(z_sign, 0, 0);
        normalize_subnormal(b_sig, &b_exp, &b_sig);
    }
    z_exp = a_exp + b_exp - 0x3FF;
    a_sig = (a_sig | HIDDEN_BIT) << 10;
    b_sig = (b_sig | HIDDEN_BIT) << 11;
    mul64_to_128(a_sig, b_sig, &hi, &lo);
    hi |= (lo != 0);
    if (((hi << 1) >> 63) == 0) {
        hi <<= 1;
        --z_exp;
    }
    return round_and_pack(z_sign, z_exp, hi);
}

float64 float64_div(float64 a, float64 b)
{
    int a_exp = exp_of(a), b_exp = exp_of(b), z_exp, z_sign = sign_of(a) ^ sign_of(b), i;
    uint64_t a_sig = frac_of(a), b_sig = frac_of(b), rem, q = 0;
    if (a_exp == 0x7FF) {
        if (a_sig) return propagate_nan(a, b);
        if (b_exp == 0x7FF) {
            if (b_sig) return propagate_nan(a, b);
            exception_flags |= FLAG_INVALID;
            return DEFAULT_NAN;
        }
        return pack(z_sign, 0x7FF, 0);
    }
    if (b_exp == 0x7FF)
        return b_sig ? propagate_nan(a, b) : pack(z_sign, 0, 0);
    if (b_exp == 0) {
        if (b_sig == 0) {
            if ((a_exp | (int64_t)a_sig) == 0) { exception_flags |= FLAG_INVALID; return DEFAULT_NAN; }
            exception_flags |= FLAG_DIVZERO;
            return pack(z_sign, 0x7FF, 0);
        }
        normalize_subnormal(b_sig, &b_exp, &b_sig);
    }
    if (a_exp == 0) {
        if (a_sig == 0) return pack(z_sign, 0, 0);
        normalize_subnormal(a_sig, &a_exp, &a_sig);
    }
    rem = a_sig | HIDDEN_BIT;
    b_sig |= HIDDEN_BIT;
    z_exp = a_exp - b_exp + 0x3FE;
    if (rem < b_sig) {
        rem <<= 1;
        --z_exp;
    }
    /* restoring long division: 63 quotient bits, remainder folded into sticky bit */
    for (i = 0; i < 63; i++) {
        q <<= 1;
        if (rem >= b_sig) {
            rem -= b_sig;
            q |= 1;
        }
        rem <<= 1;
    }
    q |= (rem != 0);
    return round_and_pack(z_sign, z_exp, q);
}

static float64 d2f(double d) { float64 r; memcpy(&r, &d, sizeof r); return r; }
static double f2d(float64 f) { double r; memcpy(&r, &f, sizeof r); return r; }

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t xorshift64(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* random operands: mostly moderate numbers, some raw bit patterns and specials */
static float64 random_operand(void)
{
    static const float64 specials[8] = {
        0x0000000000000000ULL, 0x8000000000000000ULL, 0x7FF0000000000000ULL, 0xFFF0000000000000ULL,
        0x0000000000000001ULL, 0x000FFFFFFFFFFFFFULL, 0x7FEFFFFFFFFFFFFFULL, 0x3FF0000000000000ULL };
    uint64_t r = xorshift64();
    switch (r & 15) {
    case 0: return specials[(r >> 4) & 7];
    case 1: case 2: return r;
    case 3: return (r & 0x800FFFFFFFFFFFFFULL) | ((uint64_t)((r >> 20) & 3) << 52);
    default: return (r & 0x800FFFFFFFFFFFFFULL) | ((uint64_t)(0x3F0 + ((r >> 52) & 31)) << 52);
    }
}

static int same_result(float64 soft, double hard)
{
    float64 h = d2f(hard);
    if (is_nan(soft) && is_nan(h))
        return 1;
    return soft == h;
}

/* dfsin-style Taylor series using only soft-float operations */
static float64 soft_sin(float64 x)
{
    float64 term = x, sum = x, x2 = float64_mul(x, x), k = d2f(1.0), one = d2f(1.0);
    int i;
    for (i = 1; i < 14; i++) {
        float64 k1 = float64_add(k, one), k2 = float64_add(k1, one);
        term = float64_div(float64_mul(term, x2), float64_mul(k1, k2));
        term ^= 0x8000000000000000ULL;
        sum = float64_add(sum, term);
        k = k2;
    }
    return sum;
}

int main(void)
{
    uint64_t hash = 1469598103934665603ULL;
    int mismatches = 0, i, mode;
    float64 acc;
    for (i = 0; i < 24000; i++) {
        float64 a = random_operand(), b = random_operand(), r;
        r = float64_add(a, b); mismatches += !same_result(r, f2d(a) + f2d(b)); hash = (hash ^ r) * 1099511628211ULL;
        r = float64_sub(a, b); mismatches += !same_result(r, f2d(a) - f2d(b)); hash = (hash ^ r) * 1099511628211ULL;
        r = float64_mul(a, b); mismatches += !same_result(r, f2d(a) * f2d(b)); hash = (hash ^ r) * 1099511628211ULL;
        r = float64_div(a, b); mismatches += !same_result(r, f2d(a) / f2d(b)); hash = (hash ^ r) * 1099511628211ULL;
    }
    for (mode = ROUND_TO_ZERO; mode <= ROUND_UP; mode++) {
        rounding_mode = mode;
        for (i = 0; i < 5000; i++) {
            float64 a = random_operand(), b = random_operand();
            hash = (hash ^ float64_add(a, b)) * 1099511628211ULL;
            hash = (hash ^ float64_mul(a, b)) * 1099511628211ULL;
            hash = (hash ^ float64_div(a, b)) * 1099511628211ULL;
        }
    }
    rounding_mode = ROUND_NEAREST_EVEN;
    acc = 0;
    for (i = -150; i <= 450; i++) {
        float64 x = float64_div(d2f((double)i), d2f(64.0));
        float64 s = soft_sin(x);
        acc = float64_add(acc, s);
        hash = (hash ^ s) * 1099511628211ULL;
    }
    printf("mismatches %d\n", mismatches);
    printf("flags %02x\n", exception_flags);
    printf("sin_sum %.6f\n", f2d(acc));
    printf("checksum %016llx\n", (unsigned long long)hash);
    return 0;
}
