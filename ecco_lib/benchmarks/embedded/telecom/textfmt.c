/* textfmt.c - Office-style text layout: paragraphs are broken into lines
 * greedily and with a minimum-raggedness dynamic program (memoised recursion),
 * fully justified, rendered with a 5x7 bitmap font into a 1-bpp page, and each
 * page is PackBits compressed and verified. Modelled on MiBench office
 * text/bitmap formatting workloads (ghostscript/typeset-like). */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <limits.h>

#define LINE_CHARS 64
#define MAX_WORDS 256
#define CHAR_W 6
#define CHAR_H 9
#define PAGE_LINES 48
#define ROW_BYTES (LINE_CHARS * CHAR_W / 8)
#define PAGE_ROWS (PAGE_LINES * CHAR_H)
#define NPARAS 200

typedef struct { const char *text; int len; } word_t;
typedef struct { int nwords; word_t w[MAX_WORDS]; } paragraph;
typedef struct { int line; uint8_t bits[PAGE_ROWS][ROW_BYTES]; } page_t;

static const char *vocabulary[] = {
    "a", "an", "the", "of", "to", "in", "office", "document", "formatting", "typesetting", "line",
    "paragraph", "justification", "hyphenation", "kerning", "ligature", "font", "glyph", "bitmap",
    "printer", "raster", "page", "margin", "column", "is", "are", "with", "without", "for", "each",
    "every", "word", "space", "stretch", "shrink", "penalty", "badness", "optimal", "greedy", "box",
};

static paragraph para;
static page_t page;
static uint8_t glyphs[128][7];
static long memo_cost[MAX_WORDS + 1];
static int memo_next[MAX_WORDS + 1];
static uint8_t packed[PAGE_ROWS * ROW_BYTES * 2], unpacked[PAGE_ROWS * ROW_BYTES];
static uint32_t page_hash = 2166136261u;
static long compressed_total, pages_done, verify_errors;

/* procedural 5x7 font: each printable character gets a stable pseudo-random glyph */
static void build_font(void)
{
    int c, r;
    for (c = 0; c < 128; c++) {
        uint32_t x = (uint32_t)c * 2654435761u + 0x9E37u;
        for (r = 0; r < 7; r++) {
            x ^= x >> 15; x *= 0x2C1B3C6Du; x ^= x >> 12;
            glyphs[c][r] = (c > ' ' && c < 127) ? (uint8_t)((x >> 8) & 0x1F) : 0;
        }
        if (c > ' ' && c < 127) glyphs[c][6] |= 0x11;   /* give every glyph feet */
    }
}

static void make_paragraph(uint32_t *seed)
{
    int n, i;
    *seed = *seed * 1103515245u + 12345u;
    n = 20 + (int)((*seed >> 16) % 180);
    for (i = 0; i < n; i++) {
        const char *v;
        *seed = *seed * 1103515245u + 12345u;
        v = vocabulary[(*seed >> 16) % (sizeof vocabulary / sizeof vocabulary[0])];
        para.w[i].text = v;
        para.w[i].len = (int)strlen(v);
    }
    para.nwords = n;
}

static int line_width(int from, int to)
{
    int w = 0, k;
    for (k = from; k < to; k++) w += para.w[k].len + (k > from);
    return w;
}

/* minimum sum of squared trailing space from word i to the end (last line free) */
static long best_from(int i)
{
    long best = LONG_MAX;
    int j;
    if (i >= para.nwords) return 0;
    if (memo_cost[i] >= 0) return memo_cost[i];
    for (j = i + 1; j <= para.nwords; j++) {
        int w = line_width(i, j);
        long slack, cost;
        if (w > LINE_CHARS && j > i + 1) break;
        slack = LINE_CHARS - w;
        cost = (j == para.nwords ? 0 : slack * slack) + best_from(j);
        if (cost < best) { best = cost; memo_next[i] = j; }
    }
    memo_cost[i] = best;
    return best;
}

static int greedy_breaks(int *breaks)
{
    int i = 0, n = 0;
    while (i < para.nwords) {
        int j = i + 1;
        while (j < para.nwords && line_width(i, j + 1) <= LINE_CHARS) j++;
        breaks[n++] = j;
        i = j;
    }
    return n;
}

static void justify(int from, int to, int last, char *out)
{
    int gaps = to - from - 1, extra = LINE_CHARS - line_width(from, to), pos = 0, k, s;
    memset(out, ' ', LINE_CHARS);
    for (k = from; k < to; k++) {
        int len = para.w[k].len < LINE_CHARS - pos ? para.w[k].len : LINE_CHARS - pos;
        memcpy(out + pos, para.w[k].text, (size_t)len);
        pos += len;
        if (k + 1 < to) {
            int spaces = 1;
            if (!last && gaps > 0) {
                int idx = k - from;
                /* leftover spaces go to the leftmost or rightmost gaps, alternating per line */
                spaces += extra / gaps + (((from & 1) ? gaps - 1 - idx : idx) < extra % gaps);
            }
            for (s = 0; s < spaces && pos < LINE_CHARS; s++) pos++;
        }
    }
}

static void set_pixel_run(uint8_t *row, int x, uint8_t bits5)
{
    int b;
    for (b = 0; b < 5; b++)
        if (bits5 & (0x10 >> b)) row[(x + b) >> 3] |= (uint8_t)(0x80u >> ((x + b) & 7));
}

static size_t packbits(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t i = 0, o = 0;
    while (i < n) {
        size_t run = 1;
        while (i + run < n && run < 128 && in[i + run] == in[i]) run++;
        if (run >= 3) {
            out[o++] = (uint8_t)(257 - run);
            out[o++] = in[i];
            i += run;
        } else {
            size_t lit = 0;
            while (i + lit < n && lit < 128 &&
                   !(i + lit + 2 < n && in[i + lit] == in[i + lit + 1] && in[i + lit] == in[i + lit + 2]))
                lit++;
            out[o++] = (uint8_t)(lit - 1);
            memcpy(out + o, in + i, lit);
            o += lit; i += lit;
        }
    }
    return o;
}

static size_t unpackbits(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    size_t i = 0, o = 0;
    while (i < n) {
        uint8_t c = in[i++];
        if (c < 128) {
            size_t lit = (size_t)c + 1;
            if (o + lit > cap || i + lit > n) return 0;
            memcpy(out + o, in + i, lit);
            o += lit; i += lit;
        } else if (c > 128) {
            size_t run = 257 - (size_t)c;
            if (o + run > cap || i >= n) return 0;
            memset(out + o, in[i++], run);
            o += run;
        }
    }
    return o;
}

static void flush_page(void)
{
    size_t n = packbits(&page.bits[0][0], sizeof page.bits, packed), m, i;
    m = unpackbits(packed, n, unpacked, sizeof unpacked);
    if (m != sizeof page.bits || memcmp(unpacked, page.bits, m) != 0) verify_errors++;
    for (i = 0; i < n; i++) page_hash = (page_hash ^ packed[i]) * 16777619u;
    compressed_total += (long)n;
    pages_done++;
    memset(&page, 0, sizeof page);
}

static void render_line(const char *chars)
{
    int c, r;
    if (page.line == PAGE_LINES) flush_page();
    for (c = 0; c < LINE_CHARS; c++) {
        unsigned ch = (unsigned char)chars[c] & 127u;
        for (r = 0; r < 7; r++)
            if (glyphs[ch][r]) set_pixel_run(page.bits[page.line * CHAR_H + r + 1], c * CHAR_W, glyphs[ch][r]);
    }
    page.line++;
}

int main(void)
{
    uint32_t seed = 31337u, h = 0;
    long total_optimal = 0, total_greedy = 0;
    int p, k, breaks[MAX_WORDS], lines_opt = 0, lines_greedy = 0;
    char line[LINE_CHARS];
    build_font();
    for (p = 0; p < NPARAS; p++) {
        int nb, start;
        make_paragraph(&seed);
        for (k = 0; k <= para.nwords; k++) memo_cost[k] = -1;
        total_optimal += best_from(0);
        nb = greedy_breaks(breaks);
        lines_greedy += nb;
        for (k = 0, start = 0; k < nb; k++) {
            if (k + 1 < nb) {
                long slack = LINE_CHARS - line_width(start, breaks[k]);
                total_greedy += slack * slack;
            }
            start = breaks[k];
        }
        for (start = 0; start < para.nwords; start = memo_next[start]) {
            int end = memo_next[start];
            justify(start, end, end == para.nwords, line);
            render_line(line);
            for (k = 0; k < LINE_CHARS; k++) h = h * 33u + (unsigned char)line[k];
            lines_opt++;
        }
        memset(line, ' ', sizeof line);
        render_line(line);   /* blank line between paragraphs */
    }
    flush_page();
    printf("lines optimal %d greedy %d cost optimal %ld greedy %ld\n", lines_opt, lines_greedy, total_optimal,
           total_greedy);
    printf("pages %ld compressed bytes %ld verify errors %ld\n", pages_done, compressed_total, verify_errors);
    printf("checksum %08x %08x\n", h, page_hash);
    return 0;
}
