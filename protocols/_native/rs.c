/* Reed-Solomon RS(255,223) E=16, CCSDS 131.0-B: field 0x187, roots gamma^(112..143), gamma = alpha^11.
 *
 * Clean codeblocks dominate a real downlink, so the syndromes use GF(2)-linearity: every
 * received symbol at degree d contributes (its low nibble's row) ^ (its high nibble's row)
 * to all 32 syndromes at once; the rows are 32-byte vectors precomputed per degree, with the
 * dual-basis transform folded into a second table set. Only a nonzero syndrome vector goes on
 * to Berlekamp-Massey, Chien search and Forney (log/exp tables). */
#include <stdlib.h>
#include <string.h>

#include "fec_core.h"

#define NROOTS 32
#define FCR 112
#define PRIM 11 /* gamma = alpha^11 */

typedef uint8_t v16 __attribute__((vector_size(16)));

/* EXP is padded with zeros and LOG[0] points into the padding, so gmul needs no branch */
#define LOG_ZERO 512
static uint8_t EXP[2 * LOG_ZERO + 1]; /* LOG[0] + LOG[0] = 1024 is the largest index */
static uint16_t LOG[256];
static uint8_t TO_DUAL[256], FROM_DUAL[256];
static uint8_t GEN[NROOTS + 1];          /* g(x), GEN[0] = x^32 coefficient */
static uint8_t GEN_ROW[256][NROOTS];     /* f * g[1..32]: one LFSR step for feedback f */
/* SYN[basis][degree][nibble-half][nibble] -> contribution to the 32 syndromes */
static v16 SYN[2][255][2][16][2] __attribute__((aligned(64)));
static int ready;

typedef int (*syndrome_fn)(const uint8_t *, size_t, size_t, size_t, int, uint8_t *);
static int syndromes_generic(const uint8_t *, size_t, size_t, size_t, int, uint8_t *);
#if defined(__x86_64__) && defined(__GNUC__)
static int syndromes_avx2(const uint8_t *, size_t, size_t, size_t, int, uint8_t *);
#endif
static syndrome_fn syndromes = syndromes_generic;

static inline uint8_t gmul(uint8_t a, uint8_t b) { return EXP[LOG[a] + LOG[b]]; }
static inline uint8_t gpow(int e) { /* gamma^e for any int e */
    int x = (PRIM * e) % 255;
    if (x < 0) x += 255;
    return EXP[x];
}

static void init_tables(void) {
    int x = 1;
    for (int i = 0; i < 255; i++) {
        EXP[i] = (uint8_t)x;
        LOG[x] = (uint8_t)i;
        x <<= 1;
        if (x & 0x100) x ^= 0x187;
    }
    for (int i = 255; i < 510; i++) EXP[i] = EXP[i - 255];
    for (int i = 510; i <= 2 * LOG_ZERO; i++) EXP[i] = 0;
    LOG[0] = LOG_ZERO;
    static const uint8_t rows[8] = {0x8D, 0xEF, 0xEC, 0x86, 0xFA, 0x99, 0xAF, 0x7B};
    for (int v = 0; v < 256; v++) {
        uint8_t r = 0;
        for (int b = 0; b < 8; b++)
            if (v & (0x80 >> b)) r ^= rows[b];
        TO_DUAL[v] = r;
    }
    for (int v = 0; v < 256; v++) FROM_DUAL[TO_DUAL[v]] = (uint8_t)v;
    memset(GEN, 0, sizeof GEN);
    GEN[0] = 1;
    for (int j = 0; j < NROOTS; j++) {
        uint8_t root = gpow(FCR + j);
        for (int i = j + 1; i > 0; i--) GEN[i] ^= gmul(GEN[i - 1], root);
    }
    for (int f = 0; f < 256; f++)
        for (int i = 0; i < NROOTS; i++) GEN_ROW[f][i] = gmul((uint8_t)f, GEN[i + 1]);
    for (int basis = 0; basis < 2; basis++)
        for (int d = 0; d < 255; d++)
            for (int half = 0; half < 2; half++)
                for (int nib = 0; nib < 16; nib++) {
                    uint8_t raw = (uint8_t)(half ? nib << 4 : nib);
                    uint8_t v = basis ? FROM_DUAL[raw] : raw; /* FROM_DUAL is GF(2)-linear */
                    uint8_t row[NROOTS];
                    for (int j = 0; j < NROOTS; j++) row[j] = gmul(v, gpow((FCR + j) * d));
                    memcpy(&SYN[basis][d][half][nib][0], row, 16);
                    memcpy(&SYN[basis][d][half][nib][1], row + 16, 16);
                }
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && !getenv("PROTOCOLS_NO_AVX2")) syndromes = syndromes_avx2;
#endif
    ready = 1;
}

static int valid_interleave(int i) { return i == 1 || i == 2 || i == 3 || i == 4 || i == 5 || i == 8; }

int pf_rs_encode(const uint8_t *data, size_t n, int interleave, int dual, uint8_t *out, size_t out_len) {
    if (!ready) init_tables();
    if (!valid_interleave(interleave)) return PF_EINTERLEAVE;
    size_t I = (size_t)interleave;
    if (data == NULL || out == NULL || n == 0 || n % I || n > 223 * I) return PF_ELENGTH;
    size_t total = n + NROOTS * I;
    if (out_len < total) return PF_EOUTPUT;
    size_t k = n / I;
    if (out != data) memmove(out, data, n);
    for (size_t c = 0; c < I; c++) {
        uint8_t reg[NROOTS + 1];
        memset(reg, 0, sizeof reg);
        for (size_t m = 0; m < k; m++) {
            uint8_t d = out[c + m * I];
            if (dual) d = FROM_DUAL[d];
            uint8_t fb = d ^ reg[0];
            const uint8_t *row = GEN_ROW[fb];
            for (int i = 0; i < NROOTS; i++) reg[i] = reg[i + 1] ^ row[i];
        }
        for (int i = 0; i < NROOTS; i++) out[n + c + (size_t)i * I] = dual ? TO_DUAL[reg[i]] : reg[i];
    }
    return (int)total;
}

/* Syndromes of codeword c of a codeblock; returns nonzero when any syndrome is nonzero. */
static int syndromes_generic(const uint8_t *block, size_t nn, size_t I, size_t c, int dual,
                             uint8_t *synd) {
    v16 a0 = {0}, a1 = {0};
    const uint8_t *p = block + c;
    for (size_t i = 0; i < nn; i++, p += I) {
        uint8_t r = *p;
        size_t d = nn - 1 - i;
        const v16 *lo = SYN[dual][d][0][r & 15];
        const v16 *hi = SYN[dual][d][1][r >> 4];
        a0 ^= lo[0] ^ hi[0];
        a1 ^= lo[1] ^ hi[1];
    }
    memcpy(synd, &a0, 16);
    memcpy(synd + 16, &a1, 16);
    v16 z = a0 | a1;
    uint64_t w[2];
    memcpy(w, &z, 16);
    return (w[0] | w[1]) != 0;
}

#if defined(__x86_64__) && defined(__GNUC__)
typedef uint8_t v32 __attribute__((vector_size(32)));
__attribute__((target("avx2"))) static int syndromes_avx2(const uint8_t *block, size_t nn, size_t I, size_t c,
                                                          int dual, uint8_t *synd) {
    v32 a = {0}, b = {0};
    const uint8_t *p = block + c;
    size_t i = 0;
    for (; i + 1 < nn; i += 2, p += 2 * I) { /* two accumulators hide the load latency */
        uint8_t r0 = p[0], r1 = p[I];
        size_t d = nn - 1 - i;
        v32 x0, x1, y0, y1;
        memcpy(&x0, SYN[dual][d][0][r0 & 15], 32);
        memcpy(&x1, SYN[dual][d][1][r0 >> 4], 32);
        memcpy(&y0, SYN[dual][d - 1][0][r1 & 15], 32);
        memcpy(&y1, SYN[dual][d - 1][1][r1 >> 4], 32);
        a ^= x0 ^ x1;
        b ^= y0 ^ y1;
    }
    if (i < nn) {
        uint8_t r0 = p[0];
        v32 x0, x1;
        memcpy(&x0, SYN[dual][0][0][r0 & 15], 32);
        memcpy(&x1, SYN[dual][0][1][r0 >> 4], 32);
        a ^= x0 ^ x1;
    }
    a ^= b;
    memcpy(synd, &a, 32);
    uint64_t w[4];
    memcpy(w, &a, 32);
    return (w[0] | w[1] | w[2] | w[3]) != 0;
}
#endif

/* Corrects codeword (conventional basis, nn symbols, cw[0] highest degree). Returns count or -1. */
static int correct(uint8_t *cw, size_t nn, const uint8_t synd[NROOTS]) {
    uint8_t lam[NROOTS + 1] = {1}, prev[NROOTS + 1] = {1}, saved[NROOTS + 1];
    int L = 0, shift = 1;
    uint8_t b = 1;
    int plen = 0; /* degree of prev */
    for (int r = 0; r < NROOTS; r++) {
        uint8_t delta = synd[r];
        for (int i = 1; i <= L; i++) delta ^= gmul(lam[i], synd[r - i]);
        if (!delta) {
            shift++;
            continue;
        }
        int lc = (LOG[delta] + 255 - LOG[b]) % 255; /* log of delta / b, 0..254 */
        int top = plen + shift > NROOTS ? NROOTS : plen + shift;
        if (2 * L <= r) {
            memcpy(saved, lam, sizeof lam);
            for (int i = shift; i <= top; i++)
                lam[i] ^= EXP[lc + LOG[prev[i - shift]]];
            plen = L;
            L = r + 1 - L;
            memcpy(prev, saved, sizeof prev);
            b = delta;
            shift = 1;
        } else {
            for (int i = shift; i <= top; i++)
                lam[i] ^= EXP[lc + LOG[prev[i - shift]]];
            shift++;
        }
    }
    int deg = NROOTS;
    while (deg > 0 && lam[deg] == 0) deg--;
    if (deg != L || deg > NROOTS / 2) return -1;
    /* omega = S(x) lam(x) mod x^32 has degree < deg: only those terms are needed */
    uint8_t omega[NROOTS];
    for (int i = 0; i < deg; i++) {
        uint8_t acc = 0;
        for (int k = 0; k <= i && k <= deg; k++) acc ^= gmul(lam[k], synd[i - k]);
        omega[i] = acc;
    }
    /* Chien in the log domain: term k at degree d is lam_k * gamma^(-d k); stepping d by one
     * subtracts 11k (mod 255) from the term's log. Zero coefficients are dropped up front. */
    int lg[NROOTS / 2 + 1], step[NROOTS / 2 + 1], nt = 0;
    for (int k = 1; k <= deg; k++)
        if (lam[k]) {
            lg[nt] = LOG[lam[k]];
            step[nt] = (PRIM * k) % 255;
            nt++;
        }
    int pos[NROOTS / 2], dg[NROOTS / 2], found = 0;
    for (size_t d = 0; d < nn; d++) {
        uint8_t sum = 1; /* lam_0 = 1 */
        for (int t = 0; t < nt; t++) {
            sum ^= EXP[lg[t]];
            int v = lg[t] - step[t];
            lg[t] = v < 0 ? v + 255 : v;
        }
        if (!sum) {
            if (found == deg) return -1;
            pos[found] = (int)(nn - 1 - d);
            dg[found] = (int)d;
            found++;
        }
    }
    if (found != deg) return -1;
    for (int e = 0; e < found; e++) {
        int d = dg[e];
        uint8_t xinv = gpow(-d);
        uint8_t num = 0;
        for (int i = deg - 1; i >= 0; i--) num = gmul(num, xinv) ^ omega[i];
        uint8_t den = 0;
        for (int i = 1; i <= deg; i += 2) den ^= gmul(lam[i], gpow(-d * (i - 1)));
        if (!den) return -1;
        uint8_t mag = gmul(gmul(num, gpow(d * (1 - FCR))), EXP[255 - LOG[den]]);
        cw[pos[e]] ^= mag;
    }
    return deg;
}

static int decode_block(const uint8_t *block, size_t nn, size_t I, int dual, uint8_t *data_out,
                        int *failed) {
    size_t k = nn - NROOTS;
    if (data_out != block) memmove(data_out, block, k * I);
    int corrected = 0;
    uint8_t synd[NROOTS];
    for (size_t c = 0; c < I; c++) {
        if (!syndromes(block, nn, I, c, dual, synd)) continue;
        uint8_t cw[255];
        for (size_t i = 0; i < nn; i++) cw[i] = dual ? FROM_DUAL[block[c + i * I]] : block[c + i * I];
        int fixed = correct(cw, nn, synd);
        if (fixed >= 0 && syndromes(cw, nn, 1, 0, 0, synd)) fixed = -1; /* residual: miscorrection path */
        if (fixed < 0) {
            *failed = (int)c;
            return PF_EUNCORRECTABLE;
        }
        corrected += fixed;
        for (size_t m = 0; m < k; m++) data_out[c + m * I] = dual ? TO_DUAL[cw[m]] : cw[m];
    }
    return corrected;
}

static int geometry(size_t n, int interleave, size_t *nn) {
    if (!valid_interleave(interleave)) return PF_EINTERLEAVE;
    size_t I = (size_t)interleave;
    if (n % I) return PF_ELENGTH;
    *nn = n / I;
    if (*nn < NROOTS + 1 || *nn > 255) return PF_ELENGTH;
    return PF_OK;
}

int pf_rs_decode(const uint8_t *block, size_t n, int interleave, int dual, uint8_t *data_out, size_t out_len,
                 int *failed_codeword) {
    if (!ready) init_tables();
    size_t nn;
    int rc = geometry(n, interleave, &nn);
    if (rc) return rc;
    if (block == NULL || data_out == NULL || failed_codeword == NULL) return PF_ELENGTH;
    if (out_len < (nn - NROOTS) * (size_t)interleave) return PF_EOUTPUT;
    *failed_codeword = -1;
    return decode_block(block, nn, (size_t)interleave, dual ? 1 : 0, data_out, failed_codeword);
}

long pf_rs_decode_batch(const uint8_t *blocks, size_t n, size_t block_len, int interleave, int dual,
                        uint8_t *data_out, size_t out_len, int32_t *counts, size_t ncounts) {
    if (!ready) init_tables();
    size_t nn;
    int rc = geometry(block_len, interleave, &nn);
    if (rc) return rc;
    if (blocks == NULL || data_out == NULL || counts == NULL || n % block_len) return PF_ELENGTH;
    size_t nblocks = n / block_len, kb = (nn - NROOTS) * (size_t)interleave;
    if (ncounts < nblocks || out_len < nblocks * kb) return PF_EOUTPUT;
    for (size_t b = 0; b < nblocks; b++) {
        int failed;
        int r = decode_block(blocks + b * block_len, nn, (size_t)interleave, dual ? 1 : 0, data_out + b * kb, &failed);
        if (r < 0) {
            memcpy(data_out + b * kb, blocks + b * block_len, kb); /* pass through unmodified */
            counts[b] = -1;
        } else {
            counts[b] = r;
        }
    }
    return (long)nblocks;
}
