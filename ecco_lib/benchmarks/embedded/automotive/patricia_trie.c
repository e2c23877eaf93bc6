/* IPv4 routing table in a PATRICIA trie (one-way branching on the first
 * differing bit, upward back-links to the leaf), with per-node prefix-length
 * sets, longest-prefix-match lookups, route withdrawal and a recursive walk;
 * a linear scan cross-checks results. Modelled on MiBench/cBench "patricia". */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#define MAX_NODES 6000
#define NROUTES 2500
#define NLOOKUPS 12000

struct pnode {
    uint32_t key;
    int bit;              /* bit index tested at this node, 0 = MSB; -1 for head */
    uint64_t lens;        /* set of prefix lengths (0..32) present for this key */
    uint32_t nexthop[33]; /* next hop per prefix length */
    struct pnode *left, *right;
};

struct route {
    uint32_t net;
    int len;
    uint32_t hop;
    int live;
};

static struct pnode nodes[MAX_NODES];
static int nodes_used;
static struct pnode *head;
static struct route routes[NROUTES];

static uint32_t rs = 0x9E3779B9u;

static uint32_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 17;
    rs ^= rs << 5;
    return rs;
}

static inline uint32_t prefix_mask(int len)
{
    return len == 0 ? 0u : 0xFFFFFFFFu << (32 - len);
}

static inline int bit_at(uint32_t k, int b)
{
    return (int)((k >> (31 - b)) & 1u);
}

static struct pnode *new_node(uint32_t key, int bit)
{
    struct pnode *n = &nodes[nodes_used++];
    memset(n, 0, sizeof *n);
    n->key = key;
    n->bit = bit;
    return n;
}

static void trie_init(void)
{
    nodes_used = 0;
    head = new_node(0u, -1);
    head->left = head->right = head;
}

static struct pnode *trie_search(uint32_t key)
{
    struct pnode *p = head, *x = head->left;
    while (p->bit < x->bit) {
        p = x;
        x = bit_at(key, x->bit) ? x->right : x->left;
    }
    return x;
}

static struct pnode *trie_insert(uint32_t key)
{
    struct pnode *t = trie_search(key);
    if (t->key == key)
        return t;
    int i = 0;
    while (bit_at(key, i) == bit_at(t->key, i))
        i++;
    struct pnode *p = head, *x = head->left;
    while (p->bit < x->bit && x->bit < i) {
        p = x;
        x = bit_at(key, x->bit) ? x->right : x->left;
    }
    struct pnode *n = new_node(key, i);
    if (bit_at(key, i)) {
        n->left = x;
        n->right = n;
    } else {
        n->left = n;
        n->right = x;
    }
    if (p == head || !bit_at(key, p->bit))
        p->left = n;
    else
        p->right = n;
    return n;
}

static void add_route(uint32_t net, int len, uint32_t hop)
{
    struct pnode *n = trie_insert(net & prefix_mask(len));
    n->lens |= (uint64_t)1 << len;
    n->nexthop[len] = hop;
}

static void withdraw_route(uint32_t net, int len)
{
    struct pnode *n = trie_search(net & prefix_mask(len));
    if (n->key == (net & prefix_mask(len)))
        n->lens &= ~((uint64_t)1 << len);
}

/* longest prefix match: returns prefix length or -1 */
static int lookup(uint32_t addr, uint32_t *hop)
{
    for (int len = 32; len >= 0; len--) {
        uint32_t net = addr & prefix_mask(len);
        struct pnode *n = trie_search(net);
        if (n->key == net && ((n->lens >> len) & 1u)) {
            *hop = n->nexthop[len];
            return len;
        }
    }
    return -1;
}

static int lookup_linear(uint32_t addr)
{
    int best = -1;
    for (int r = 0; r < NROUTES; r++)
        if (routes[r].live && routes[r].len > best &&
            (addr & prefix_mask(routes[r].len)) == routes[r].net)
            best = routes[r].len;
    return best;
}

/* recursive walk over downward links only; returns number of stored prefixes */
static int walk(const struct pnode *n, int parent_bit, uint32_t *h)
{
    if (n->bit <= parent_bit)
        return 0; /* back link to a leaf already visited */
    int cnt = 0;
    for (uint64_t l = n->lens; l; l &= l - 1u)
        cnt++;
    *h = (*h ^ n->key ^ (uint32_t)n->bit) * 0x01000193u;
    return cnt + walk(n->left, n->bit, h) + walk(n->right, n->bit, h);
}

int main(void)
{
    uint32_t h = 0x811c9dc5u, hops = 0;
    int hist[34] = {0}, disagree = 0;

    for (int round = 0; round < 2; round++) {
        trie_init();
        for (int r = 0; r < NROUTES; r++) {
            /* clustered address space, lengths biased towards /16../24 */
            uint32_t base = (rnd() % 24u) << 24 | (rnd() & 0x00FFFFFFu);
            int len;
            switch (rnd() % 8u) {
            case 0: len = 8; break;
            case 1: len = 12 + (int)(rnd() % 4u); break;
            case 2: case 3: len = 16; break;
            case 4: case 5: len = 24; break;
            case 6: len = 17 + (int)(rnd() % 7u); break;
            default: len = 25 + (int)(rnd() % 8u); break;
            }
            routes[r].net = base & prefix_mask(len);
            routes[r].len = len;
            routes[r].hop = rnd();
            routes[r].live = 1;
            add_route(base, len, routes[r].hop);
        }
        for (int r = round; r < NROUTES; r += 7) {
            routes[r].live = 0;
            withdraw_route(routes[r].net, routes[r].len);
        }
        /* re-announce any duplicates that the withdrawal also removed */
        for (int r = 0; r < NROUTES; r++)
            if (routes[r].live)
                add_route(routes[r].net, routes[r].len, routes[r].hop);

        for (int q = 0; q < NLOOKUPS; q++) {
            uint32_t addr = ((rnd() % 26u) << 24) | (rnd() & 0x00FFFFFFu);
            if (q & 1) /* half of the lookups hit near a known route */
                addr = routes[rnd() % NROUTES].net | (rnd() & 0xFFu);
            uint32_t hop = 0;
            int len = lookup(addr, &hop);
            hist[len + 1]++;
            hops += hop;
            if (q % 16 == 0 && lookup_linear(addr) != len)
                disagree++;
        }
        int stored = walk(head->left, head->bit, &h);
        h = (h ^ (uint32_t)stored ^ ((uint32_t)nodes_used << 16)) * 0x01000193u;
    }
    for (int i = 0; i < 34; i++)
        h = (h ^ (uint32_t)hist[i]) * 0x01000193u;
    printf("nomatch %d host %d slash24 %d slash16 %d\n", hist[0], hist[33], hist[25], hist[17]);
    printf("disagree %d nodes %d hops %08x\n", disagree, nodes_used, hops);
    printf("checksum %08x\n", h);
    return 0;
}
