/* crc.c - Packet integrity checks: CRC-32 (bitwise, table and slice-by-4),
 * CRC-16/CCITT, Adler-32, Fletcher-16 and the RFC 1071 Internet checksum over
 * a stream of synthetic IPv4-like packets, with single-bit error injection.
 * Modelled on MiBench telecom/CRC32 and network packet checksumming. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#define STREAM_BYTES (768 * 1024)

typedef struct {
    uint8_t version_ihl, tos;
    uint16_t total_len, ident, frag;
    uint8_t ttl, proto;
    uint16_t checksum;
    uint32_t src, dst;
} ip_header;

typedef struct {
    uint32_t crc32, adler;
    uint16_t crc16, fletcher, inet;
} digest_set;

static uint8_t stream[STREAM_BYTES];
static uint32_t crc32_tab[4][256];
static uint16_t crc16_tab[256];

static void init_tables(void)
{
    unsigned i, k;
    for (i = 0; i < 256; i++) {
        uint32_t c = i;
        uint16_t d = (uint16_t)(i << 8);
        for (k = 0; k < 8; k++) {
            c = (c & 1u) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
            d = (uint16_t)((d & 0x8000u) ? ((unsigned)d << 1) ^ 0x1021u : (unsigned)d << 1);
        }
        crc32_tab[0][i] = c;
        crc16_tab[i] = d;
    }
    for (i = 0; i < 256; i++)
        for (k = 1; k < 4; k++)
            crc32_tab[k][i] = (crc32_tab[k - 1][i] >> 8) ^ crc32_tab[0][crc32_tab[k - 1][i] & 0xFF];
}

uint32_t crc32_bitwise(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    size_t i;
    int k;
    for (i = 0; i < n; i++) {
        c ^= p[i];
        for (k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

uint32_t crc32_table(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    while (n--) c = crc32_tab[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return ~c;
}

uint32_t crc32_slice4(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    while (n >= 4) {
        c ^= (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
        c = crc32_tab[3][c & 0xFF] ^ crc32_tab[2][(c >> 8) & 0xFF] ^ crc32_tab[1][(c >> 16) & 0xFF] ^
            crc32_tab[0][c >> 24];
        p += 4;
        n -= 4;
    }
    while (n--) c = crc32_tab[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return ~c;
}

static uint16_t crc16_ccitt(const uint8_t *p, size_t n)
{
    uint16_t c = 0xFFFF;
    size_t i;
    for (i = 0; i < n; i++)
        c = (uint16_t)((c << 8) ^ crc16_tab[((c >> 8) ^ p[i]) & 0xFF]);
    return c;
}

static uint32_t adler32(const uint8_t *p, size_t n)
{
    uint32_t a = 1, b = 0;
    while (n > 0) {
        size_t chunk = n < 5552 ? n : 5552;   /* largest block without 32-bit overflow */
        n -= chunk;
        while (chunk--) { a += *p++; b += a; }
        a %= 65521u;
        b %= 65521u;
    }
    return (b << 16) | a;
}

static uint16_t fletcher16(const uint8_t *p, size_t n)
{
    uint16_t s1 = 0, s2 = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        s1 = (uint16_t)((s1 + p[i]) % 255);
        s2 = (uint16_t)((s2 + s1) % 255);
    }
    return (uint16_t)((s2 << 8) | s1);
}

static uint16_t inet_checksum(const uint8_t *p, size_t n)
{
    uint32_t sum = 0;
    size_t i;
    for (i = 0; i + 1 < n; i += 2) sum += ((uint32_t)p[i] << 8) | p[i + 1];
    if (n & 1) sum += (uint32_t)p[n - 1] << 8;
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

static size_t serialize_header(const ip_header *h, uint8_t *out)
{
    out[0] = h->version_ihl; out[1] = h->tos;
    out[2] = (uint8_t)(h->total_len >> 8); out[3] = (uint8_t)h->total_len;
    out[4] = (uint8_t)(h->ident >> 8); out[5] = (uint8_t)h->ident;
    out[6] = (uint8_t)(h->frag >> 8); out[7] = (uint8_t)h->frag;
    out[8] = h->ttl; out[9] = h->proto;
    out[10] = (uint8_t)(h->checksum >> 8); out[11] = (uint8_t)h->checksum;
    out[12] = (uint8_t)(h->src >> 24); out[13] = (uint8_t)(h->src >> 16);
    out[14] = (uint8_t)(h->src >> 8); out[15] = (uint8_t)h->src;
    out[16] = (uint8_t)(h->dst >> 24); out[17] = (uint8_t)(h->dst >> 16);
    out[18] = (uint8_t)(h->dst >> 8); out[19] = (uint8_t)h->dst;
    return 20;
}

static void digest_packet(const uint8_t *p, size_t n, digest_set *d)
{
    d->crc32 = crc32_slice4(p, n);
    d->crc16 = crc16_ccitt(p, n);
    d->adler = adler32(p, n);
    d->fletcher = fletcher16(p, n);
    d->inet = inet_checksum(p, n);
}

static void self_test(void)
{
    static const char check[] = "123456789";
    const uint8_t *c = (const uint8_t *)check;
    printf("selftest crc32 %08x/%08x/%08x crc16 %04x adler %08x fletcher %04x\n", crc32_bitwise(c, 9),
           crc32_table(c, 9), crc32_slice4(c, 9), crc16_ccitt(c, 9), adler32(c, 9), fletcher16(c, 9));
}

int main(void)
{
    uint32_t seed = 0x2545F491u, h = 0;
    size_t off = 0;
    unsigned packets = 0, header_ok = 0, detected = 0, mismatches = 0;
    init_tables();
    self_test();
    while (off + 1520 < STREAM_BYTES) {
        ip_header hdr;
        digest_set d, d2;
        size_t len, i;
        uint8_t *pkt = stream + off;
        seed = seed * 1664525u + 1013904223u;
        len = 64 + (seed >> 8) % 1437;
        hdr.version_ihl = 0x45; hdr.tos = (uint8_t)(packets & 0x1C);
        hdr.total_len = (uint16_t)len; hdr.ident = (uint16_t)packets; hdr.frag = 0x4000;
        hdr.ttl = (uint8_t)(64 - packets % 32); hdr.proto = (packets % 3 == 0) ? 17 : 6;
        hdr.checksum = 0; hdr.src = 0x0A000001u + (seed & 0xFF); hdr.dst = 0xC0A80000u | (seed >> 16);
        serialize_header(&hdr, pkt);
        hdr.checksum = inet_checksum(pkt, 20);
        serialize_header(&hdr, pkt);
        header_ok += inet_checksum(pkt, 20) == 0;
        for (i = 20; i < len; i++) {
            seed = seed * 1664525u + 1013904223u;
            pkt[i] = (uint8_t)((i & 7) == 0 ? 0 : seed >> 24);
        }
        digest_packet(pkt, len, &d);
        if (packets % 16 == 0) {
            mismatches += crc32_bitwise(pkt, len) != d.crc32;
            mismatches += crc32_table(pkt, len) != d.crc32;
        }
        /* flip one bit and make sure the CRCs notice */
        i = (seed >> 4) % len;
        pkt[i] ^= (uint8_t)(1u << (seed & 7));
        digest_packet(pkt, len, &d2);
        detected += (d2.crc32 != d.crc32) + (d2.crc16 != d.crc16);
        pkt[i] ^= (uint8_t)(1u << (seed & 7));
        h = crc32_table((const uint8_t *)&d.crc32, 4) ^ (h * 31u + d.adler);
        h ^= (((uint32_t)d.crc16 << 16) | d.fletcher) + d.inet;
        packets++;
        off += len;
    }
    printf("packets %u headers ok %u crc flips detected %u/%u mismatches %u\n", packets, header_ok, detected,
           2 * packets, mismatches);
    printf("stream crc32 %08x adler32 %08x\n", crc32_slice4(stream, off), adler32(stream, off));
    printf("checksum %08x\n", h);
    return 0;
}
