/* Sorting of vehicle/sensor log records: a generic qsort-style quicksort
 * (median of three, insertion sort cutoff, recursion on the smaller side),
 * a stable top-down merge sort, several comparators (numeric, string,
 * multi-key) and order/stability checks. Modelled on MiBench/cBench qsort. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

#define NREC 3000
#define NAME_LEN 12

typedef struct {
    char name[NAME_LEN];
    uint32_t id;
    int32_t speed;     /* signed, km/h * 10 */
    uint16_t sensor;
    uint16_t seq;      /* original position, for stability checks */
    double distance;
} record_t;

typedef int (*cmp_fn)(const void *, const void *);

static record_t recs[NREC];
static record_t work[NREC];
static record_t scratch[NREC];

static uint32_t lcg_state = 20240601u;

static uint32_t lcg(void)
{
    lcg_state = lcg_state * 214013u + 2531011u;
    return (lcg_state >> 16) & 0x7FFFu;
}

static void swap_bytes(unsigned char *a, unsigned char *b, size_t n)
{
    while (n--) {
        unsigned char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}

static void insertion_sort(unsigned char *base, size_t n, size_t sz, cmp_fn cmp)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && cmp(base + (j - 1) * sz, base + j * sz) > 0; j--)
            swap_bytes(base + (j - 1) * sz, base + j * sz, sz);
}

static unsigned char *median3(unsigned char *a, unsigned char *b, unsigned char *c, cmp_fn cmp)
{
    if (cmp(a, b) < 0)
        return cmp(b, c) < 0 ? b : (cmp(a, c) < 0 ? c : a);
    return cmp(b, c) > 0 ? b : (cmp(a, c) > 0 ? c : a);
}

void my_qsort(void *vbase, size_t n, size_t sz, cmp_fn cmp)
{
    unsigned char *base = vbase;
    while (n > 10) {
        unsigned char *pm = median3(base, base + (n / 2) * sz, base + (n - 1) * sz, cmp);
        swap_bytes(base, pm, sz); /* pivot to front */
        size_t i = 1, j = n - 1;
        for (;;) {
            while (i <= j && cmp(base + i * sz, base) < 0)
                i++;
            while (j >= i && cmp(base + j * sz, base) > 0)
                j--;
            if (i >= j)
                break;
            swap_bytes(base + i * sz, base + j * sz, sz);
            i++;
            j--;
        }
        swap_bytes(base, base + j * sz, sz);
        size_t left = j, right = n - j - 1;
        if (left < right) {
            my_qsort(base, left, sz, cmp);
            base += (j + 1) * sz;
            n = right;
        } else {
            my_qsort(base + (j + 1) * sz, right, sz, cmp);
            n = left;
        }
    }
    insertion_sort(base, n, sz, cmp);
}

static void merge_sort_rec(record_t *a, record_t *tmp, size_t lo, size_t hi, cmp_fn cmp)
{
    if (hi - lo < 2)
        return;
    size_t mid = lo + (hi - lo) / 2;
    merge_sort_rec(a, tmp, lo, mid, cmp);
    merge_sort_rec(a, tmp, mid, hi, cmp);
    size_t i = lo, j = mid, k = lo;
    while (i < mid && j < hi)
        tmp[k++] = (cmp(&a[j], &a[i]) < 0) ? a[j++] : a[i++];
    while (i < mid)
        tmp[k++] = a[i++];
    while (j < hi)
        tmp[k++] = a[j++];
    memcpy(&a[lo], &tmp[lo], (hi - lo) * sizeof(record_t));
}

static int cmp_id(const void *a, const void *b)
{
    uint32_t x = ((const record_t *)a)->id, y = ((const record_t *)b)->id;
    return (x > y) - (x < y);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const record_t *)a)->name, ((const record_t *)b)->name);
}

static int cmp_speed_desc(const void *a, const void *b)
{
    int32_t x = ((const record_t *)a)->speed, y = ((const record_t *)b)->speed;
    return (y > x) - (y < x);
}

static int cmp_sensor_dist(const void *a, const void *b)
{
    const record_t *x = a, *y = b;
    if (x->sensor != y->sensor)
        return x->sensor < y->sensor ? -1 : 1;
    if (x->distance != y->distance)
        return x->distance < y->distance ? -1 : 1;
    return cmp_name(a, b);
}

static void make_records(void)
{
    static const char *const syll[] = {"ka", "ro", "mi", "te", "su", "na", "vo", "li"};
    for (int i = 0; i < NREC; i++) {
        record_t *r = &recs[i];
        int len = 0, parts = 2 + (int)(lcg() % 4u);
        for (int p = 0; p < parts; p++) {
            const char *s = syll[lcg() & 7u];
            r->name[len++] = s[0];
            r->name[len++] = s[1];
        }
        r->name[len] = '\0';
        r->id = (lcg() << 15) | lcg();
        r->speed = (int32_t)(lcg() % 3001u) - 500;
        r->sensor = (uint16_t)(lcg() % 16u);
        r->distance = (double)(lcg() % 1000u) * 0.25;
        r->seq = (uint16_t)i;
    }
}

static uint32_t hash_order(const record_t *a, int n)
{
    uint32_t h = 5381u;
    for (int i = 0; i < n; i++)
        h = h * 33u + a[i].seq;
    return h;
}

int main(void)
{
    static const cmp_fn cmps[] = {cmp_id, cmp_name, cmp_speed_desc, cmp_sensor_dist};
    const int ncmp = (int)(sizeof cmps / sizeof cmps[0]);
    uint32_t h = 0u;
    int bad = 0, unstable = 0;

    make_records();
    for (int round = 0; round < 4; round++) {
        for (int c = 0; c < ncmp; c++) {
            memcpy(work, recs, sizeof recs);
            my_qsort(work, NREC, sizeof(record_t), cmps[c]);
            for (int i = 1; i < NREC; i++)
                bad += cmps[c](&work[i - 1], &work[i]) > 0;
            h ^= hash_order(work, NREC) + (uint32_t)c;

            memcpy(scratch, recs, sizeof recs);
            merge_sort_rec(scratch, work, 0, NREC, cmps[c]);
            for (int i = 1; i < NREC; i++)
                if (cmps[c](&scratch[i - 1], &scratch[i]) == 0 && scratch[i - 1].seq > scratch[i].seq)
                    unstable++;
            h = h * 31u + hash_order(scratch, NREC);
        }
        /* perturb: rotate speeds so the second round sorts different data */
        for (int i = 0; i < NREC; i++)
            recs[i].speed = recs[(i + 17) % NREC].speed / 2 + (int32_t)(i % 13);
    }
    printf("median_speed %d first %s last %s\n", (int)scratch[NREC / 2].speed, scratch[0].name,
           scratch[NREC - 1].name);
    printf("bad %d unstable %d\n", bad, unstable);
    printf("checksum %08x\n", h);
    return 0;
}
