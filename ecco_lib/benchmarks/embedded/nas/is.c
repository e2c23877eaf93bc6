/* is.c - integer key ranking with a two-level bucket/counting sort.
 * Modelled on the NAS Parallel Benchmarks IS kernel: Gaussian-like integer
 * keys are ranked repeatedly (bucket scatter, per-key counts, prefix sums),
 * partially verified each iteration, and fully verified at the end. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#define TOTAL_KEYS_LOG 18
#define MAX_KEY_LOG    11
#define BUCKETS_LOG    6
#define NUM_KEYS       (1 << TOTAL_KEYS_LOG)
#define MAX_KEY        (1 << MAX_KEY_LOG)
#define NUM_BUCKETS    (1 << BUCKETS_LOG)
#define MAX_ITER       10
#define TEST_ARRAY     5

typedef uint32_t key_t;

static key_t key_array[NUM_KEYS];
static key_t key_buff1[MAX_KEY];       /* per-key counts -> prefix ranks */
static key_t key_buff2[NUM_KEYS];      /* keys grouped by bucket */
static key_t sorted[NUM_KEYS];
static uint32_t bucket_size[NUM_BUCKETS];
static uint32_t bucket_ptrs[NUM_BUCKETS];
static uint32_t test_keys[TEST_ARRAY];

static const uint32_t test_index_array[TEST_ARRAY] = { 48427, 17148, 23627, 62548, 4431 };

static uint64_t seed46 = 314159265u;

static uint32_t next_rand46(void)
{
    seed46 = (seed46 * UINT64_C(1220703125)) & ((UINT64_C(1) << 46) - 1);
    return (uint32_t)(seed46 >> 14);   /* top 32 of the 46 bits */
}

/* sum of four uniforms -> approximately Gaussian key in [0, MAX_KEY) */
static void create_seq(void)
{
    uint32_t i;
    for (i = 0; i < NUM_KEYS; i++) {
        uint64_t acc = 0;
        int k;
        for (k = 0; k < 4; k++)
            acc += next_rand46() >> (32 - MAX_KEY_LOG);
        key_array[i] = (key_t)(acc >> 2);
    }
}

static void rank_keys(int iteration)
{
    uint32_t i, k;
    const int shift = MAX_KEY_LOG - BUCKETS_LOG;

    key_array[iteration] = (key_t)iteration;
    key_array[iteration + MAX_ITER] = (key_t)(MAX_KEY - iteration);

    for (i = 0; i < TEST_ARRAY; i++)
        test_keys[i] = key_array[test_index_array[i]];

    /* bucket histogram and scatter */
    memset(bucket_size, 0, sizeof bucket_size);
    for (i = 0; i < NUM_KEYS; i++)
        bucket_size[key_array[i] >> shift]++;
    bucket_ptrs[0] = 0;
    for (i = 1; i < NUM_BUCKETS; i++)
        bucket_ptrs[i] = bucket_ptrs[i - 1] + bucket_size[i - 1];
    for (i = 0; i < NUM_KEYS; i++) {
        key_t kv = key_array[i];
        key_buff2[bucket_ptrs[kv >> shift]++] = kv;
    }

    /* per-bucket key counting and prefix sum into global ranks */
    memset(key_buff1, 0, sizeof key_buff1);
    {
        uint32_t start = 0;
        for (k = 0; k < NUM_BUCKETS; k++) {
            uint32_t end = bucket_ptrs[k];
            uint32_t lo = k << shift, hi = (k + 1) << shift;
            uint32_t m;
            for (m = start; m < end; m++)
                key_buff1[key_buff2[m]]++;
            /* running rank: counts become exclusive upper bounds */
            for (m = lo; m < hi; m++) {
                uint32_t prev = (m == 0) ? 0 : key_buff1[m - 1];
                key_buff1[m] += prev;
            }
            start = end;
        }
    }
}

/* returns number of verification failures for this iteration: the rank of
 * each test key must equal a brute-force count of strictly smaller keys */
static int partial_verify(int iteration)
{
    int fails = 0, i;
    for (i = 0; i < TEST_ARRAY; i++) {
        key_t kv = test_keys[i];
        uint32_t rank, j, cnt = 0;
        if (kv == 0 || kv > MAX_KEY - 1)
            continue;
        rank = key_buff1[kv - 1];
        for (j = 0; j < NUM_KEYS; j++)
            cnt += (key_array[j] < kv);
        if (rank != cnt)
            fails++;
        if ((iteration & 1) && rank == 0 && kv > 1)
            fails++;
    }
    return fails;
}

/* place each key at its rank: sorted[--key_buff1[k]] = k */
static void full_sort(void)
{
    uint32_t i;
    for (i = 0; i < NUM_KEYS; i++) {
        key_t kv = key_buff2[i];
        key_buff1[kv]--;
        sorted[key_buff1[kv]] = kv;
    }
}

/* recursive check: returns count of descents in sorted[lo, hi) */
static uint32_t count_descents(uint32_t lo, uint32_t hi)
{
    uint32_t mid, c;
    if (hi - lo < 64) {
        uint32_t i;
        c = 0;
        for (i = lo + 1; i < hi; i++)
            if (sorted[i - 1] > sorted[i])
                c++;
        return c;
    }
    mid = lo + (hi - lo) / 2;
    c = count_descents(lo, mid) + count_descents(mid, hi);
    if (sorted[mid - 1] > sorted[mid])
        c++;
    return c;
}

static uint32_t hash_keys(const key_t *a, uint32_t n, uint32_t h)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        h ^= a[i] + 0x9e3779b9u + (h << 6) + (h >> 2);
    }
    return h;
}

int main(void)
{
    int it, fails = 0;
    uint32_t desc, h = 0;

    create_seq();
    for (it = 1; it <= MAX_ITER; it++) {
        rank_keys(it);
        fails += partial_verify(it);
        h = hash_keys(key_buff1, MAX_KEY, h);
    }
    full_sort();
    desc = count_descents(0, NUM_KEYS);
    h = hash_keys(sorted, NUM_KEYS, h);

    printf("keys %d max_key %d iterations %d\n", NUM_KEYS, MAX_KEY, MAX_ITER);
    printf("partial verify failures %d\n", fails);
    printf("full verify descents %u (%s)\n", desc, desc == 0 ? "SUCCESSFUL" : "UNSUCCESSFUL");
    printf("median key %u\n", sorted[NUM_KEYS / 2]);
    printf("checksum %08x\n", h);
    return 0;
}
