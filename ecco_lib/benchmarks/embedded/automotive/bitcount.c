/* Population count with many classic algorithms (shift loop, Kernighan,
 * dense, nibble/byte tables, recursive nibble split, SWAR), plus parity,
 * bit reversal and leading-zero count, dispatched through a function table.
 * Modelled on the automotive "bitcount" benchmark of MiBench/cBench. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#define ITERATIONS 120000

typedef int (*count_fn)(uint32_t);

static unsigned char byte_bits[256];
static const unsigned char nibble_bits[16] = {0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4};

static int count_shift(uint32_t x)
{
    int n = 0;
    while (x) {
        n += (int)(x & 1u);
        x >>= 1;
    }
    return n;
}

static int count_sparse(uint32_t x)
{
    int n = 0;
    while (x) {
        x &= x - 1u;
        n++;
    }
    return n;
}

static int count_dense(uint32_t x)
{
    int n = 32;
    x = ~x;
    while (x) {
        x &= x - 1u;
        n--;
    }
    return n;
}

static int count_byte_table(uint32_t x)
{
    return byte_bits[x & 0xFFu] + byte_bits[(x >> 8) & 0xFFu] + byte_bits[(x >> 16) & 0xFFu] +
           byte_bits[x >> 24];
}

static int count_nibble_loop(uint32_t x)
{
    int n = 0;
    for (int i = 0; i < 8; i++) {
        n += nibble_bits[x & 0xFu];
        x >>= 4;
    }
    return n;
}

/* divide and conquer: count halves recursively down to a nibble */
static int count_recursive_width(uint32_t x, int width)
{
    if (width == 4)
        return nibble_bits[x & 0xFu];
    int half = width / 2;
    uint32_t mask = (1u << half) - 1u; /* half <= 16 */
    return count_recursive_width(x & mask, half) + count_recursive_width(x >> half, half);
}

static int count_recursive(uint32_t x)
{
    return count_recursive_width(x, 32);
}

static int count_swar(uint32_t x)
{
    x = x - ((x >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    x = (x + (x >> 4)) & 0x0F0F0F0Fu;
    return (int)((x * 0x01010101u) >> 24);
}

/* octal-digit trick: (x - x/2 - x/4 - ...) summed per 3-bit field */
static int count_octal(uint32_t x)
{
    uint32_t t = x - ((x >> 1) & 033333333333u) - ((x >> 2) & 011111111111u);
    return (int)(((t + (t >> 3)) & 030707070707u) % 63u);
}

static int parity(uint32_t x)
{
    x ^= x >> 16;
    x ^= x >> 8;
    x ^= x >> 4;
    return (0x6996 >> (x & 0xFu)) & 1;
}

static uint32_t reverse_bits(uint32_t x)
{
    x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
    x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
    x = ((x >> 4) & 0x0F0F0F0Fu) | ((x & 0x0F0F0F0Fu) << 4);
    x = ((x >> 8) & 0x00FF00FFu) | ((x & 0x00FF00FFu) << 8);
    return (x >> 16) | (x << 16);
}

static int leading_zeros(uint32_t x)
{
    int n = 0;
    if (x == 0)
        return 32;
    if ((x & 0xFFFF0000u) == 0) { n += 16; x <<= 16; }
    if ((x & 0xFF000000u) == 0) { n += 8; x <<= 8; }
    if ((x & 0xF0000000u) == 0) { n += 4; x <<= 4; }
    if ((x & 0xC0000000u) == 0) { n += 2; x <<= 2; }
    if ((x & 0x80000000u) == 0) { n += 1; }
    return n;
}

struct method {
    const char *name;
    count_fn fn;
    long total;
};

static struct method methods[] = {
    {"shift", count_shift, 0},       {"sparse", count_sparse, 0},
    {"dense", count_dense, 0},       {"byte_table", count_byte_table, 0},
    {"nibble", count_nibble_loop, 0}, {"recursive", count_recursive, 0},
    {"swar", count_swar, 0},         {"octal", count_octal, 0},
};

static void init_tables(void)
{
    for (int i = 0; i < 256; i++)
        byte_bits[i] = (unsigned char)(nibble_bits[i & 15] + nibble_bits[i >> 4]);
}

int main(void)
{
    const int nmethods = (int)(sizeof methods / sizeof methods[0]);
    uint32_t seed = 0x1234567u, h = 0u;
    int mismatches = 0, par = 0;
    long lz = 0;

    init_tables();
    for (int it = 0; it < ITERATIONS; it++) {
        /* mix of dense, sparse and random words */
        seed = seed * 1103515245u + 12345u;
        uint32_t v = seed ^ (seed >> 7);
        switch (it & 3) {
        case 0: break;
        case 1: v &= v >> 3; break;             /* sparser */
        case 2: v |= v << 5; break;             /* denser */
        default: v = reverse_bits(v) ^ (uint32_t)it; break;
        }
        int ref = methods[0].fn(v);
        for (int m = 0; m < nmethods; m++) {
            int c = methods[m].fn(v);
            methods[m].total += c;
            if (c != ref)
                mismatches++;
        }
        par += parity(v);
        lz += leading_zeros(v);
        h = (h ^ (uint32_t)ref ^ (reverse_bits(v) >> 11)) * 0x01000193u;
    }
    for (int m = 0; m < nmethods; m++)
        printf("%-10s %ld\n", methods[m].name, methods[m].total);
    printf("parity %d lz %ld mismatches %d\n", par, lz, mismatches);
    printf("checksum %08x\n", h);
    return 0;
}
