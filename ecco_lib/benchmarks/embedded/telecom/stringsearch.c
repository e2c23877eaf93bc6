/* stringsearch.c - Counts all occurrences of many patterns in a generated
 * English-like corpus with Boyer-Moore-Horspool (case sensitive and case
 * insensitive), Knuth-Morris-Pratt and a naive scanner, cross-checking counts.
 * Modelled on MiBench office/stringsearch (bmhsrch / bmhisrch). */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <limits.h>

#define TEXT_BYTES (200 * 1024)
#define MAX_PAT 64

typedef struct {
    const char *pat;
    size_t len;
    size_t skip[UCHAR_MAX + 1];
    int fold;                 /* case-insensitive search */
} bmh_ctx;

typedef struct {
    size_t len;
    int fail[MAX_PAT + 1];
    char pat[MAX_PAT + 1];
} kmp_ctx;

static char text[TEXT_BYTES + 1];
static unsigned char fold_tab[UCHAR_MAX + 1];

static const char *lexicon[] = {
    "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was", "with", "be", "by",
    "on", "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an",
    "had", "they", "you", "were", "their", "one", "all", "we", "can", "her", "has", "there",
    "been", "if", "more", "when", "will", "would", "who", "so", "no", "telephone", "exchange",
    "switchboard", "operator", "signal", "receiver", "transmitter", "frequency", "amplifier"
};

static void init_fold(void)
{
    int c;
    for (c = 0; c <= UCHAR_MAX; c++)
        fold_tab[c] = (unsigned char)((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
}

static void generate_text(void)
{
    uint32_t seed = 0x12345u;
    size_t pos = 0, nwords = sizeof lexicon / sizeof lexicon[0];
    int sentence_start = 1;
    while (pos < TEXT_BYTES) {
        const char *w;
        seed = seed * 1103515245u + 12345u;
        w = lexicon[(seed >> 16) % nwords];
        if (sentence_start && pos < TEXT_BYTES) {
            text[pos++] = (char)(w[0] - 'a' + 'A');
            w++;
            sentence_start = 0;
        }
        while (*w && pos < TEXT_BYTES) {
            char c = *w++;
            if (((seed >> 5) & 63) == 0) c = (char)(c - 'a' + 'A');  /* occasional SHOUTING */
            text[pos++] = c;
        }
        if (pos >= TEXT_BYTES) break;
        switch ((seed >> 9) & 15) {
        case 0: text[pos++] = '.'; sentence_start = 1; break;
        case 1: text[pos++] = ','; break;
        case 2: text[pos++] = '\n'; continue;
        default: break;
        }
        if (pos < TEXT_BYTES) text[pos++] = ' ';
    }
    text[TEXT_BYTES] = '\0';
}

static void bmh_init(bmh_ctx *ctx, const char *pat, int fold)
{
    size_t i;
    ctx->pat = pat;
    ctx->len = strlen(pat);
    ctx->fold = fold;
    for (i = 0; i <= UCHAR_MAX; i++) ctx->skip[i] = ctx->len;
    for (i = 0; i + 1 < ctx->len; i++) {
        unsigned char c = (unsigned char)pat[i];
        if (fold) {
            ctx->skip[fold_tab[c]] = ctx->len - 1 - i;
            if (c >= 'a' && c <= 'z') ctx->skip[c - 'a' + 'A'] = ctx->len - 1 - i;
            if (c >= 'A' && c <= 'Z') ctx->skip[c] = ctx->len - 1 - i;
        } else {
            ctx->skip[c] = ctx->len - 1 - i;
        }
    }
}

static long bmh_count(const bmh_ctx *ctx, const char *hay, size_t n)
{
    long count = 0;
    size_t pos = 0, m = ctx->len;
    if (m == 0 || m > n) return 0;
    while (pos + m <= n) {
        size_t j = m;
        const unsigned char *s = (const unsigned char *)hay + pos, *p = (const unsigned char *)ctx->pat;
        if (ctx->fold) {
            while (j > 0 && fold_tab[s[j - 1]] == fold_tab[p[j - 1]]) j--;
        } else {
            while (j > 0 && s[j - 1] == p[j - 1]) j--;
        }
        if (j == 0) count++;
        pos += ctx->skip[s[m - 1]];
    }
    return count;
}

static void kmp_init(kmp_ctx *k, const char *pat)
{
    size_t i;
    int j = -1;
    k->len = strlen(pat);
    if (k->len > MAX_PAT) k->len = MAX_PAT;
    memcpy(k->pat, pat, k->len);
    k->pat[k->len] = '\0';
    k->fail[0] = -1;
    for (i = 0; i < k->len; i++) {
        while (j >= 0 && k->pat[j] != k->pat[i]) j = k->fail[j];
        j++;
        k->fail[i + 1] = j;
    }
}

static long kmp_count(const kmp_ctx *k, const char *hay, size_t n)
{
    long count = 0;
    int j = 0;
    size_t i;
    if (k->len == 0) return 0;
    for (i = 0; i < n; i++) {
        while (j >= 0 && k->pat[j] != hay[i]) j = k->fail[j];
        j++;
        if ((size_t)j == k->len) {
            count++;
            j = k->fail[j];
        }
    }
    return count;
}

static long naive_count(const char *pat, const char *hay, size_t n)
{
    size_t m = strlen(pat), i, j;
    long count = 0;
    for (i = 0; i + m <= n; i++) {
        for (j = 0; j < m && hay[i + j] == pat[j]; j++) {}
        if (j == m) count++;
    }
    return count;
}

int main(void)
{
    static const char *patterns[] = {
        "telephone", "the operator", "Signal", "frequency amplifier", "switchboard. The",
        "zebra", "ee", "and the", "receiver, ", "would have been", "THE", "exchange, exchange",
        "transmitter with the receiver", "qq", "ing", "at", "ampl", "operator operator",
    };
    static char sampled[16][MAX_PAT + 1];
    uint32_t h = 2166136261u, seed = 99u;
    long total_cs = 0, total_ci = 0;
    int npat = (int)(sizeof patterns / sizeof patterns[0]), i, disagreements = 0;
    init_fold();
    generate_text();
    for (i = 0; i < 16; i++) {         /* patterns cut out of the text itself */
        size_t start, len;
        seed = seed * 1103515245u + 12345u;
        start = (seed >> 8) % (TEXT_BYTES - MAX_PAT);
        len = 3 + (seed >> 4) % 20;
        memcpy(sampled[i], text + start, len);
        sampled[i][len] = '\0';
    }
    for (i = 0; i < npat + 16; i++) {
        const char *pat = i < npat ? patterns[i] : sampled[i - npat];
        bmh_ctx cs, ci;
        kmp_ctx kmp;
        long c_bmh, c_ci, c_kmp, c_naive = -1;
        bmh_init(&cs, pat, 0);
        bmh_init(&ci, pat, 1);
        kmp_init(&kmp, pat);
        c_bmh = bmh_count(&cs, text, TEXT_BYTES);
        c_ci = bmh_count(&ci, text, TEXT_BYTES);
        c_kmp = kmp_count(&kmp, text, TEXT_BYTES);
        if (i % 4 == 0) {
            c_naive = naive_count(pat, text, TEXT_BYTES);
            disagreements += c_naive != c_bmh;
        }
        disagreements += (c_bmh != c_kmp) + (c_ci < c_bmh);
        total_cs += c_bmh;
        total_ci += c_ci;
        h = (h ^ (uint32_t)c_bmh) * 16777619u;
        h = (h ^ (uint32_t)c_ci) * 16777619u;
        if (i < npat)
            printf("%-32.32s cs %6ld ci %6ld\n", pat, c_bmh, c_ci);
    }
    printf("total cs %ld ci %ld disagreements %d\n", total_cs, total_ci, disagreements);
    printf("checksum %08x\n", h);
    return 0;
}
