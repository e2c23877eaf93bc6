/* Network packet pipeline: HDLC-like framing with byte stuffing, a switch
 * based receive state machine, table-driven CRC-32 and bitwise CRC-16/CCITT
 * checks (some frames deliberately corrupted), and Boyer-Moore-Horspool
 * keyword search in payloads. Modelled on cBench/MiBench crc32, stringsearch. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#define MAX_PAYLOAD 200
#define STREAM_CAP 400000
#define NPACKETS 1500
#define FLAG 0x7E
#define ESC 0x7D

static uint32_t crc_table[256];
static uint8_t stream[STREAM_CAP];
static uint8_t rx_buf[MAX_PAYLOAD + 16];
static unsigned char fold_case[256];

static const char *const words[] = {"brake", "torque", "sensor", "engine", "CAN", "frame",
                                    "status", "ok", "fault", "wheel", "Speed", "temp",
                                    "throttle", "ABS", "ECU", "valve", "rpm", "idle"};
static const char *const keywords[] = {"fault", "abs", "engine ok", "throttle valve", "rpm"};

enum rx_state { RX_HUNT, RX_DATA, RX_ESCAPED };

struct rx_stats {
    int good, bad_crc32, bad_crc16, runt, overflow;
    int hits[5];
};

static void init_tables(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1u) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        crc_table[i] = c;
    }
    for (int i = 0; i < 256; i++)
        fold_case[i] = (unsigned char)((i >= 'A' && i <= 'Z') ? i + 32 : i);
}

uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    while (n--)
        crc = crc_table[(crc ^ *p++) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

uint16_t crc16_ccitt(const uint8_t *p, size_t n)
{
    uint16_t crc = 0xFFFF;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint16_t)(p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
    }
    return crc;
}

/* Horspool search, optionally case-insensitive; returns count of matches */
static int bmh_count(const uint8_t *text, size_t n, const char *pat, int nocase)
{
    size_t m = strlen(pat), skip[256];
    int count = 0;
    if (m == 0 || m > n)
        return 0;
    for (int i = 0; i < 256; i++)
        skip[i] = m;
    for (size_t i = 0; i + 1 < m; i++) {
        unsigned char c = (unsigned char)pat[i];
        skip[nocase ? fold_case[c] : c] = m - 1 - i;
    }
    size_t pos = 0;
    while (pos + m <= n) {
        size_t j = m;
        while (j > 0) {
            unsigned char a = text[pos + j - 1], b = (unsigned char)pat[j - 1];
            if (nocase ? fold_case[a] != fold_case[b] : a != b)
                break;
            j--;
        }
        if (j == 0)
            count++;
        unsigned char last = text[pos + m - 1];
        pos += skip[nocase ? fold_case[last] : last];
    }
    return count;
}

static size_t put_stuffed(uint8_t *out, size_t o, uint8_t byte)
{
    if (byte == FLAG || byte == ESC) {
        out[o++] = ESC;
        out[o++] = byte ^ 0x20;
    } else {
        out[o++] = byte;
    }
    return o;
}

/* frame = FLAG, stuffed(type, len, hdr crc16, payload, crc32 LE), FLAG */
static size_t build_frame(uint8_t *out, size_t o, uint8_t type, const uint8_t *pl, size_t len,
                          int corrupt)
{
    uint8_t hdr[2] = {type, (uint8_t)len}, tmp[MAX_PAYLOAD + 8];
    uint16_t c16 = crc16_ccitt(hdr, 2);
    size_t k = 0;
    tmp[k++] = hdr[0];
    tmp[k++] = hdr[1];
    tmp[k++] = (uint8_t)(c16 >> 8);
    tmp[k++] = (uint8_t)c16;
    memcpy(tmp + k, pl, len);
    k += len;
    uint32_t c32 = crc32_update(0, pl, len);
    for (int b = 0; b < 4; b++)
        tmp[k++] = (uint8_t)(c32 >> (8 * b));
    if (corrupt)
        tmp[corrupt % (int)k] ^= (uint8_t)(1u << (corrupt % 8));
    out[o++] = FLAG;
    for (size_t i = 0; i < k; i++)
        o = put_stuffed(out, o, tmp[i]);
    out[o++] = FLAG;
    return o;
}

static void handle_frame(const uint8_t *f, size_t n, struct rx_stats *st, uint32_t *h)
{
    if (n < 8) {
        st->runt++;
        return;
    }
    if (crc16_ccitt(f, 2) != (uint16_t)((f[2] << 8) | f[3]) || (size_t)f[1] + 8 != n) {
        st->bad_crc16++;
        return;
    }
    const uint8_t *pl = f + 4;
    size_t len = f[1];
    uint32_t got = (uint32_t)pl[len] | (uint32_t)pl[len + 1] << 8 | (uint32_t)pl[len + 2] << 16 |
                   (uint32_t)pl[len + 3] << 24;
    if (crc32_update(0, pl, len) != got) {
        st->bad_crc32++;
        return;
    }
    st->good++;
    for (int k = 0; k < 5; k++) {
        int c = bmh_count(pl, len, keywords[k], f[0] & 1);
        st->hits[k] += c;
        *h = (*h ^ (uint32_t)(c + 16 * k)) * 0x01000193u;
    }
    *h = (*h ^ got) * 0x01000193u;
}

static void receive(const uint8_t *s, size_t n, struct rx_stats *st, uint32_t *h)
{
    enum rx_state state = RX_HUNT;
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        switch (state) {
        case RX_HUNT:
            if (c == FLAG) {
                state = RX_DATA;
                len = 0;
            }
            break;
        case RX_DATA:
            if (c == FLAG) {
                if (len > 0)
                    handle_frame(rx_buf, len, st, h);
                len = 0; /* shared flag may open the next frame */
            } else if (c == ESC) {
                state = RX_ESCAPED;
            } else if (len < sizeof rx_buf) {
                rx_buf[len++] = c;
            } else {
                st->overflow++;
                state = RX_HUNT;
            }
            break;
        case RX_ESCAPED:
            if (len < sizeof rx_buf) {
                rx_buf[len++] = c ^ 0x20;
                state = RX_DATA;
            } else {
                st->overflow++;
                state = RX_HUNT;
            }
            break;
        }
    }
}

int main(void)
{
    uint32_t seed = 42u, h = 0x811c9dc5u;
    uint8_t payload[MAX_PAYLOAD];
    struct rx_stats st;
    size_t o = 0;
    const int nwords = (int)(sizeof words / sizeof words[0]);

    init_tables();
    memset(&st, 0, sizeof st);
    for (int p = 0; p < NPACKETS; p++) {
        size_t len = 0;
        seed = seed * 1103515245u + 12345u;
        size_t target = 20 + (seed >> 16) % 170u;
        while (len < target) {
            seed = seed * 1103515245u + 12345u;
            const char *w = words[(seed >> 16) % (uint32_t)nwords];
            size_t wl = strlen(w);
            if (len + wl + 1 > target)
                break;
            memcpy(payload + len, w, wl);
            len += wl;
            payload[len++] = ((seed >> 8) & 7u) == 0 ? FLAG : ' '; /* forces stuffing */
        }
        int corrupt = (p % 23 == 5) ? (int)(seed % 97u) + 1 : 0;
        o = build_frame(stream, o, (uint8_t)(p & 3), payload, len, corrupt);
        if (p % 50 == 49) /* line noise between frames */
            for (int k = 0; k < 5; k++)
                stream[o++] = (uint8_t)(0x30 + k);
    }
    for (int pass = 0; pass < 4; pass++)
        receive(stream, o, &st, &h);
    h ^= crc32_update(0, stream, o);
    printf("bytes %zu good %d crc32_err %d crc16_err %d runt %d overflow %d\n", o, st.good,
           st.bad_crc32, st.bad_crc16, st.runt, st.overflow);
    printf("hits %d %d %d %d %d\n", st.hits[0], st.hits[1], st.hits[2], st.hits[3], st.hits[4]);
    printf("checksum %08x\n", h);
    return 0;
}
