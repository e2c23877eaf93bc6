/* Single-source shortest paths on a small road-network-like graph:
 * O(V^2) Dijkstra over an adjacency matrix, a label-correcting variant
 * driven by a linked-list work queue from a node pool, and a binary-heap
 * Dijkstra over CSR adjacency; paths are walked recursively.
 * Modelled on the MiBench/cBench network "dijkstra" benchmark. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#define NV 120
#define INF 0x3FFFFFFF
#define POOL 4096

static int adj[NV][NV];          /* 0 means no edge */
static int dist_a[NV], dist_b[NV], dist_c[NV];
static int prev_a[NV];
static unsigned char done[NV];

/* CSR adjacency for the heap version */
static int row_start[NV + 1];
static int edge_to[NV * NV];
static int edge_w[NV * NV];

/* linked-list work queue with a static node pool */
struct qnode {
    int vertex;
    struct qnode *next;
};
static struct qnode pool[POOL];
static struct qnode *free_list, *q_head, *q_tail;
static int in_queue[NV];

/* binary heap of (dist, vertex) */
struct heap_item {
    int d, v;
};
static struct heap_item heap[NV * NV + 1];
static int heap_size;

static uint32_t rng = 0xC0FFEEu;

static uint32_t next_rand(void)
{
    rng ^= rng << 7;
    rng ^= rng >> 9;
    rng ^= rng << 8;
    return rng;
}

static void build_graph(int density_pct)
{
    int nedges = 0;
    for (int i = 0; i < NV; i++)
        for (int j = 0; j < NV; j++) {
            int w = 0;
            if (i != j && (int)(next_rand() % 100u) < density_pct)
                w = 1 + (int)(next_rand() % 250u);
            if (j == (i + 1) % NV)
                w = 300 + (int)(next_rand() % 50u); /* ring keeps it connected */
            adj[i][j] = w;
        }
    for (int i = 0; i < NV; i++) {
        row_start[i] = nedges;
        for (int j = 0; j < NV; j++)
            if (adj[i][j]) {
                edge_to[nedges] = j;
                edge_w[nedges] = adj[i][j];
                nedges++;
            }
    }
    row_start[NV] = nedges;
}

static void dijkstra_matrix(int src)
{
    for (int i = 0; i < NV; i++) {
        dist_a[i] = INF;
        prev_a[i] = -1;
        done[i] = 0;
    }
    dist_a[src] = 0;
    for (int iter = 0; iter < NV; iter++) {
        int u = -1, best = INF;
        for (int i = 0; i < NV; i++)
            if (!done[i] && dist_a[i] < best) {
                best = dist_a[i];
                u = i;
            }
        if (u < 0)
            break;
        done[u] = 1;
        for (int v = 0; v < NV; v++) {
            int w = adj[u][v];
            if (w && !done[v] && best + w < dist_a[v]) {
                dist_a[v] = best + w;
                prev_a[v] = u;
            }
        }
    }
}

static void enqueue(int v)
{
    struct qnode *n = free_list;
    free_list = n->next;
    n->vertex = v;
    n->next = NULL;
    if (q_tail)
        q_tail->next = n;
    else
        q_head = n;
    q_tail = n;
    in_queue[v] = 1;
}

static int dequeue(void)
{
    struct qnode *n = q_head;
    int v = n->vertex;
    q_head = n->next;
    if (!q_head)
        q_tail = NULL;
    n->next = free_list;
    free_list = n;
    in_queue[v] = 0;
    return v;
}

/* label correcting (Bellman-Ford with a FIFO queue); returns relaxations */
static int shortest_queue(int src)
{
    int relax = 0;
    free_list = NULL;
    for (int i = POOL - 1; i >= 0; i--) {
        pool[i].next = free_list;
        free_list = &pool[i];
    }
    q_head = q_tail = NULL;
    for (int i = 0; i < NV; i++) {
        dist_b[i] = INF;
        in_queue[i] = 0;
    }
    dist_b[src] = 0;
    enqueue(src);
    while (q_head) {
        int u = dequeue();
        for (int v = 0; v < NV; v++) {
            int w = adj[u][v];
            if (w && dist_b[u] + w < dist_b[v]) {
                dist_b[v] = dist_b[u] + w;
                relax++;
                if (!in_queue[v])
                    enqueue(v);
            }
        }
    }
    return relax;
}

static void heap_push(int d, int v)
{
    int i = ++heap_size;
    while (i > 1 && heap[i / 2].d > d) {
        heap[i] = heap[i / 2];
        i /= 2;
    }
    heap[i].d = d;
    heap[i].v = v;
}

static struct heap_item heap_pop(void)
{
    struct heap_item top = heap[1], last = heap[heap_size--];
    int i = 1;
    for (;;) {
        int c = 2 * i;
        if (c > heap_size)
            break;
        if (c + 1 <= heap_size && heap[c + 1].d < heap[c].d)
            c++;
        if (heap[c].d >= last.d)
            break;
        heap[i] = heap[c];
        i = c;
    }
    heap[i] = last;
    return top;
}

static void dijkstra_heap(int src)
{
    for (int i = 0; i < NV; i++)
        dist_c[i] = INF;
    dist_c[src] = 0;
    heap_size = 0;
    heap_push(0, src);
    while (heap_size > 0) {
        struct heap_item it = heap_pop();
        if (it.d > dist_c[it.v])
            continue; /* stale entry */
        for (int e = row_start[it.v]; e < row_start[it.v + 1]; e++) {
            int nd = it.d + edge_w[e];
            if (nd < dist_c[edge_to[e]]) {
                dist_c[edge_to[e]] = nd;
                heap_push(nd, edge_to[e]);
            }
        }
    }
}

/* recursive walk back along predecessors, hashing the path */
static uint32_t path_hash(int v, int depth, uint32_t h)
{
    if (v < 0 || depth > NV)
        return h;
    h = path_hash(prev_a[v], depth + 1, h);
    return (h ^ (uint32_t)v) * 0x01000193u;
}

int main(void)
{
    uint32_t h = 0x811c9dc5u;
    long total = 0, relax = 0;
    int mismatch = 0;

    for (int g = 0; g < 4; g++) {
        build_graph(4 + 6 * g);
        for (int src = 0; src < NV; src += 4) {
            dijkstra_matrix(src);
            relax += shortest_queue(src);
            dijkstra_heap(src);
            for (int v = 0; v < NV; v++) {
                mismatch += (dist_a[v] != dist_b[v]) + (dist_a[v] != dist_c[v]);
                total += dist_a[v];
            }
            int dst = (src * 7 + 11 + g) % NV;
            h = path_hash(dst, 0, h);
            h = (h ^ (uint32_t)dist_a[dst]) * 0x01000193u;
        }
    }
    printf("total_dist %ld relaxations %ld mismatches %d\n", total, relax, mismatch);
    printf("checksum %08x\n", h);
    return 0;
}
