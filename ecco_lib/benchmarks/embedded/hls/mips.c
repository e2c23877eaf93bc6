/* mips.c - Instruction-set simulator for a small MIPS-I-like 32-bit CPU (no
 * delay slots). A built-in two-pass assembler produces a program that insertion
 * sorts an array, hashes it with multu, runs a recursive Fibonacci through the
 * stack, counts bytes and computes a gcd with divu; several data sets are run.
 * Modelled on the CHStone "mips" HLS kernel. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#define MEM_WORDS 16384            /* 64 KiB unified memory */
#define ADDR_MASK 0xFFFFu
#define DATA_BASE 0x4000u
#define MAX_CODE 256
#define MAX_FIXUPS 64

enum { ZERO = 0, V0 = 2, A0 = 4, T0 = 8, T1, T2, T3, T4, T5, T6, T7,
       S0 = 16, S1, S2, S3, S4, S5, T9 = 25, SP = 29, RA = 31 };
enum { OP_SPECIAL = 0, OP_REGIMM = 1, OP_J = 2, OP_JAL = 3, OP_BEQ = 4, OP_BNE = 5, OP_BLEZ = 6,
       OP_BGTZ = 7, OP_ADDI = 8, OP_ADDIU = 9, OP_SLTI = 10, OP_SLTIU = 11, OP_ANDI = 12,
       OP_ORI = 13, OP_XORI = 14, OP_LUI = 15, OP_LB = 0x20, OP_LW = 0x23, OP_LBU = 0x24,
       OP_SB = 0x28, OP_SW = 0x2B };
enum { F_SLL = 0, F_SRL = 2, F_SRA = 3, F_SLLV = 4, F_SRLV = 6, F_JR = 8, F_JALR = 9,
       F_SYSCALL = 12, F_MFHI = 16, F_MFLO = 18, F_MULT = 24, F_MULTU = 25, F_DIV = 26,
       F_DIVU = 27, F_ADDU = 33, F_SUBU = 35, F_AND = 36, F_OR = 37, F_XOR = 38, F_NOR = 39,
       F_SLT = 42, F_SLTU = 43 };

typedef struct {
    uint32_t reg[32], hi, lo, pc;
    uint32_t mem[MEM_WORDS];
    unsigned long steps, loads, stores, branches_taken, faults;
    int halted;
} cpu_t;

typedef struct {
    uint32_t code[MAX_CODE];
    int ncode;
    int label_pos[32];
    struct { int at, label, kind; } fix[MAX_FIXUPS];
    int nfix;
} assembler;

static cpu_t cpu;
static assembler as;

static void emit(uint32_t w) { if (as.ncode < MAX_CODE) as.code[as.ncode++] = w; }
static void R(int rs, int rt, int rd, int sh, int fn)
{
    emit(((uint32_t)rs << 21) | ((uint32_t)rt << 16) | ((uint32_t)rd << 11) | ((uint32_t)sh << 6) | (uint32_t)fn);
}
static void I(int op, int rs, int rt, int imm)
{
    emit(((uint32_t)op << 26) | ((uint32_t)rs << 21) | ((uint32_t)rt << 16) | ((uint32_t)imm & 0xFFFFu));
}
static void label(int id) { as.label_pos[id] = as.ncode; }
static void branch(int op, int rs, int rt, int target)
{
    as.fix[as.nfix].at = as.ncode; as.fix[as.nfix].label = target; as.fix[as.nfix].kind = 0; as.nfix++;
    I(op, rs, rt, 0);
}
static void jump(int op, int target)
{
    as.fix[as.nfix].at = as.ncode; as.fix[as.nfix].label = target; as.fix[as.nfix].kind = 1; as.nfix++;
    emit((uint32_t)op << 26);
}
static void resolve(void)
{
    int i;
    for (i = 0; i < as.nfix; i++) {
        int at = as.fix[i].at, dest = as.label_pos[as.fix[i].label];
        if (as.fix[i].kind == 0)
            as.code[at] |= (uint32_t)(dest - at - 1) & 0xFFFFu;
        else
            as.code[at] |= (uint32_t)dest & 0x03FFFFFFu;
    }
}

enum { L_OUTER, L_INNER, L_INNER_DONE, L_SORTED, L_CS, L_CS_DONE, L_FIB, L_FIB_REC, L_BYTES, L_BYTE_SKIP,
       L_BYTES_DONE, L_GCD, L_GCD_DONE };

static void assemble_program(void)
{
    memset(&as, 0, sizeof as);
    I(OP_ORI, ZERO, SP, 0xFFF0);
    I(OP_ORI, ZERO, S0, (int)DATA_BASE);
    I(OP_LW, S0, S1, -4);                       /* n */
    I(OP_ADDIU, ZERO, T0, 1);
    label(L_OUTER);                             /* insertion sort (signed) */
    R(T0, S1, T9, 0, F_SLT); branch(OP_BEQ, T9, ZERO, L_SORTED);
    R(0, T0, T1, 2, F_SLL); R(T1, S0, T1, 0, F_ADDU); I(OP_LW, T1, T2, 0);
    I(OP_ADDIU, T0, T3, -1);
    label(L_INNER);
    branch(OP_REGIMM, T3, 0, L_INNER_DONE);     /* bltz */
    R(0, T3, T4, 2, F_SLL); R(T4, S0, T4, 0, F_ADDU); I(OP_LW, T4, T5, 0);
    R(T2, T5, T9, 0, F_SLT); branch(OP_BEQ, T9, ZERO, L_INNER_DONE);
    I(OP_SW, T4, T5, 4); I(OP_ADDIU, T3, T3, -1); jump(OP_J, L_INNER);
    label(L_INNER_DONE);
    R(0, T3, T4, 2, F_SLL); R(T4, S0, T4, 0, F_ADDU); I(OP_SW, T4, T2, 4);
    I(OP_ADDIU, T0, T0, 1); jump(OP_J, L_OUTER);
    label(L_SORTED);                            /* hash: h = (h*31 + a[i]) ^ (h >> 7) ^ (h sra 3) */
    R(ZERO, ZERO, S2, 0, F_ADDU); R(ZERO, ZERO, T0, 0, F_ADDU); I(OP_ADDIU, ZERO, T7, 31);
    label(L_CS);
    branch(OP_BEQ, T0, S1, L_CS_DONE);
    R(0, T0, T1, 2, F_SLL); R(T1, S0, T1, 0, F_ADDU); I(OP_LW, T1, T2, 0);
    R(S2, T7, 0, 0, F_MULTU); R(0, 0, S2, 0, F_MFLO); R(S2, T2, S2, 0, F_ADDU);
    R(0, S2, T3, 7, F_SRL); R(S2, T3, S2, 0, F_XOR); R(0, S2, T3, 3, F_SRA); R(S2, T3, S2, 0, F_XOR);
    I(OP_ADDIU, T0, T0, 1); jump(OP_J, L_CS);
    label(L_CS_DONE);
    I(OP_LW, S0, A0, -8); jump(OP_JAL, L_FIB); R(V0, ZERO, S3, 0, F_ADDU);
    R(ZERO, ZERO, S4, 0, F_ADDU); R(ZERO, ZERO, T0, 0, F_ADDU);   /* count bytes >= 0x80 */
    R(0, S1, T6, 2, F_SLL);
    label(L_BYTES);
    branch(OP_BEQ, T0, T6, L_BYTES_DONE);
    R(T0, S0, T1, 0, F_ADDU); I(OP_LB, T1, T2, 0);
    branch(OP_REGIMM + 0, T2, 1, L_BYTE_SKIP);  /* bgez: skip non-negative bytes */
    I(OP_ADDIU, S4, S4, 1);
    label(L_BYTE_SKIP);
    I(OP_ADDIU, T0, T0, 1); jump(OP_J, L_BYTES);
    label(L_BYTES_DONE);
    I(OP_LW, S0, T1, 0); I(OP_ORI, T1, T1, 1);  /* gcd(a[0] | 1, a[n-1] | 1) */
    R(0, S1, T2, 2, F_SLL); R(T2, S0, T2, 0, F_ADDU); I(OP_LW, T2, T2, -4); I(OP_ORI, T2, T2, 1);
    label(L_GCD);
    branch(OP_BEQ, T2, ZERO, L_GCD_DONE);
    R(T1, T2, 0, 0, F_DIVU); R(0, 0, T3, 0, F_MFHI); R(T2, ZERO, T1, 0, F_ADDU); R(T3, ZERO, T2, 0, F_ADDU);
    jump(OP_J, L_GCD);
    label(L_GCD_DONE);
    R(T1, ZERO, S5, 0, F_ADDU);
    R(0, 0, 0, 0, F_SYSCALL);
    label(L_FIB);                               /* fib(a0) -> v0, recursive */
    I(OP_SLTI, A0, T0, 2); branch(OP_BEQ, T0, ZERO, L_FIB_REC);
    R(A0, ZERO, V0, 0, F_ADDU); R(RA, 0, 0, 0, F_JR);
    label(L_FIB_REC);
    I(OP_ADDIU, SP, SP, -12); I(OP_SW, SP, RA, 8); I(OP_SW, SP, A0, 4);
    I(OP_ADDIU, A0, A0, -1); jump(OP_JAL, L_FIB); I(OP_SW, SP, V0, 0);
    I(OP_LW, SP, A0, 4); I(OP_ADDIU, A0, A0, -2); jump(OP_JAL, L_FIB);
    I(OP_LW, SP, T0, 0); R(V0, T0, V0, 0, F_ADDU);
    I(OP_LW, SP, RA, 8); I(OP_ADDIU, SP, SP, 12); R(RA, 0, 0, 0, F_JR);
    resolve();
}

static uint32_t sext16(uint32_t imm) { return (imm & 0x8000u) ? (imm | 0xFFFF0000u) : imm; }
static int slt_signed(uint32_t a, uint32_t b) { return (a ^ 0x80000000u) < (b ^ 0x80000000u); }
static uint32_t sra32(uint32_t x, unsigned s)
{
    s &= 31;
    return (x >> s) | ((x & 0x80000000u) ? ~(0xFFFFFFFFu >> s) : 0u);
}

static uint32_t load_word(cpu_t *c, uint32_t addr)
{
    if (addr & 3) c->faults++;
    c->loads++;
    return c->mem[(addr & ADDR_MASK) >> 2];
}
static void store_word(cpu_t *c, uint32_t addr, uint32_t v)
{
    if (addr & 3) c->faults++;
    c->stores++;
    c->mem[(addr & ADDR_MASK) >> 2] = v;
}
static uint32_t load_byte(cpu_t *c, uint32_t addr)
{
    unsigned shift = (3 - (addr & 3)) * 8;      /* big-endian byte lanes */
    c->loads++;
    return (c->mem[(addr & ADDR_MASK) >> 2] >> shift) & 0xFFu;
}

static void execute(cpu_t *c, uint32_t inst)
{
    uint32_t op = inst >> 26, rs = (inst >> 21) & 31, rt = (inst >> 16) & 31, rd = (inst >> 11) & 31;
    uint32_t sh = (inst >> 6) & 31, imm = inst & 0xFFFFu, *r = c->reg;
    uint32_t target = c->pc + (sext16(imm) << 2);
    int take = 0;
    switch (op) {
    case OP_SPECIAL:
        switch (inst & 63) {
        case F_SLL: r[rd] = r[rt] << sh; break;
        case F_SRL: r[rd] = r[rt] >> sh; break;
        case F_SRA: r[rd] = sra32(r[rt], sh); break;
        case F_SLLV: r[rd] = r[rt] << (r[rs] & 31); break;
        case F_SRLV: r[rd] = r[rt] >> (r[rs] & 31); break;
        case F_JR: c->pc = r[rs]; break;
        case F_JALR: { uint32_t t = r[rs]; r[rd] = c->pc; c->pc = t; } break;
        case F_SYSCALL: c->halted = 1; break;
        case F_MFHI: r[rd] = c->hi; break;
        case F_MFLO: r[rd] = c->lo; break;
        case F_MULT: {
            int64_t p = (int64_t)(int32_t)r[rs] * (int32_t)r[rt];
            c->lo = (uint32_t)p; c->hi = (uint32_t)((uint64_t)p >> 32);
        } break;
        case F_MULTU: {
            uint64_t p = (uint64_t)r[rs] * r[rt];
            c->lo = (uint32_t)p; c->hi = (uint32_t)(p >> 32);
        } break;
        case F_DIV:
            if (r[rt] != 0 && !(r[rs] == 0x80000000u && r[rt] == 0xFFFFFFFFu)) {
                c->lo = (uint32_t)((int32_t)r[rs] / (int32_t)r[rt]);
                c->hi = (uint32_t)((int32_t)r[rs] % (int32_t)r[rt]);
            }
            break;
        case F_DIVU:
            if (r[rt] != 0) { c->lo = r[rs] / r[rt]; c->hi = r[rs] % r[rt]; }
            break;
        case F_ADDU: r[rd] = r[rs] + r[rt]; break;
        case F_SUBU: r[rd] = r[rs] - r[rt]; break;
        case F_AND: r[rd] = r[rs] & r[rt]; break;
        case F_OR: r[rd] = r[rs] | r[rt]; break;
        case F_XOR: r[rd] = r[rs] ^ r[rt]; break;
        case F_NOR: r[rd] = ~(r[rs] | r[rt]); break;
        case F_SLT: r[rd] = (uint32_t)slt_signed(r[rs], r[rt]); break;
        case F_SLTU: r[rd] = r[rs] < r[rt]; break;
        default: c->faults++; c->halted = 1; break;
        }
        break;
    case OP_REGIMM:
        take = rt == 0 ? (r[rs] >> 31) != 0 : (r[rs] >> 31) == 0;
        break;
    case OP_J: c->pc = (c->pc & 0xF0000000u) | ((inst & 0x03FFFFFFu) << 2); break;
    case OP_JAL: r[RA] = c->pc; c->pc = (c->pc & 0xF0000000u) | ((inst & 0x03FFFFFFu) << 2); break;
    case OP_BEQ: take = r[rs] == r[rt]; break;
    case OP_BNE: take = r[rs] != r[rt]; break;
    case OP_BLEZ: take = r[rs] == 0 || (r[rs] >> 31); break;
    case OP_BGTZ: take = r[rs] != 0 && !(r[rs] >> 31); break;
    case OP_ADDI: case OP_ADDIU: r[rt] = r[rs] + sext16(imm); break;
    case OP_SLTI: r[rt] = (uint32_t)slt_signed(r[rs], sext16(imm)); break;
    case OP_SLTIU: r[rt] = r[rs] < sext16(imm); break;
    case OP_ANDI: r[rt] = r[rs] & imm; break;
    case OP_ORI: r[rt] = r[rs] | imm; break;
    case OP_XORI: r[rt] = r[rs] ^ imm; break;
    case OP_LUI: r[rt] = imm << 16; break;
    case OP_LB: { uint32_t b = load_byte(c, r[rs] + sext16(imm)); r[rt] = (b & 0x80u) ? (b | 0xFFFFFF00u) : b; } break;
    case OP_LBU: r[rt] = load_byte(c, r[rs] + sext16(imm)); break;
    case OP_LW: r[rt] = load_word(c, r[rs] + sext16(imm)); break;
    case OP_SW: store_word(c, r[rs] + sext16(imm), r[rt]); break;
    case OP_SB: {
        uint32_t a = r[rs] + sext16(imm), shift = (3 - (a & 3)) * 8, *w = &c->mem[(a & ADDR_MASK) >> 2];
        *w = (*w & ~(0xFFu << shift)) | ((r[rt] & 0xFFu) << shift);
        c->stores++;
    } break;
    default: c->faults++; c->halted = 1; break;
    }
    if (take) { c->pc = target; c->branches_taken++; }
    r[0] = 0;
}

static void run(cpu_t *c, unsigned long limit)
{
    c->pc = 0;
    c->halted = 0;
    while (!c->halted && c->steps < limit) {
        uint32_t inst = c->mem[(c->pc & ADDR_MASK) >> 2];
        c->pc += 4;
        c->steps++;
        execute(c, inst);
    }
}

int main(void)
{
    uint32_t seed = 2463534242u, h = 2166136261u;
    int set, i;
    assemble_program();
    for (set = 0; set < 28; set++) {
        int n = 120 + (set % 8) * 20;
        memset(&cpu, 0, sizeof cpu);
        memcpy(cpu.mem, as.code, (size_t)as.ncode * sizeof(uint32_t));
        cpu.mem[(DATA_BASE - 4) >> 2] = (uint32_t)n;
        cpu.mem[(DATA_BASE - 8) >> 2] = (uint32_t)(12 + set % 6);
        for (i = 0; i < n; i++) {
            seed ^= seed << 13; seed ^= seed >> 17; seed ^= seed << 5;
            cpu.mem[(DATA_BASE >> 2) + (uint32_t)i] = seed;
        }
        run(&cpu, 5000000UL);
        for (i = 1; i < n; i++)
            if (slt_signed(cpu.mem[(DATA_BASE >> 2) + (uint32_t)i], cpu.mem[(DATA_BASE >> 2) + (uint32_t)i - 1]))
                cpu.faults++;
        if (set % 4 == 0)
            printf("set %d: steps %lu loads %lu stores %lu taken %lu hash %08x fib %u neg %u gcd %u faults %lu\n",
                   set, cpu.steps, cpu.loads, cpu.stores, cpu.branches_taken, cpu.reg[S2], cpu.reg[S3],
                   cpu.reg[S4], cpu.reg[S5], cpu.faults);
        for (i = 0; i < 32; i++) h = (h ^ cpu.reg[i]) * 16777619u;
        h = (h ^ (uint32_t)cpu.steps) * 16777619u;
    }
    printf("checksum %08x\n", h);
    return 0;
}
