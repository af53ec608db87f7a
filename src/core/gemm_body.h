/*
 * gemm_body.h — the packing and blocking layers of the GEMM, and its vector,
 * rank-1 and threading paths, written once for every micro-kernel. Not a
 * header to include anywhere else: gemm_avx2.c and gemm_avx512.c each include
 * it once, after defining
 *   MR, NR                 the register tile (NR a multiple of 8);
 *   KC, MC, NC             the block sizes for it;
 *   tile_kernel            the micro-kernel (see the contract in
 *                          gemm_avx2.c), always_inline, from which this file
 *                          makes kernel_full (a full tile), kernel_rows (its
 *                          first mr rows) and kernel_rowptr (op(A) read by
 *                          row pointers), taking a list of the depths to
 *                          visit (NULL: all) where it pays;
 *   SLIVER_ROWS(Ap)        the MR row pointers of a packed A sliver
 *                          ({ Ap, Ap + 1, ..., Ap + MR − 1 });
 *   PARTIAL_ROWS(X)        X(1) X(2) ... X(MR − 1): the short tiles the
 *                          kernel is specialised for (kernel_rows, kernel_rowptr);
 *   GEMM_ENTRY             the name of the exported entry point;
 *   BACKSTEP_ENTRY         the name of the exported backward_step (kern.h);
 *   PREFETCH_NEXT_ROWS     1: gemm_small_nt prefetches the next MR rows of W
 *                          while the kernel runs on these (0: the hardware
 *                          prefetcher alone);
 * and compiling with at least AVX2 and FMA (the packing, GEMV and rank-1
 * paths use 8-wide vectors: they are memory-bound, so wider ones gain little).
 */


/* One operand as the algorithm sees it: op(X)(i, k) (see at()). */
typedef struct operand {
    const float *p;  /* the stored matrix, row-major */
    int ld;          /* its row stride */
    int t;           /* nonzero: op(X) = Xᵀ */
} operand;

static inline float at(operand x, int i, int k)
{
    return x.t ? x.p[(size_t)k * x.ld + i] : x.p[(size_t)i * x.ld + k];
}

/* op(X) with its first rows / columns skipped: the operand for a stripe. */
static inline operand shifted(operand x, int di, int dk)
{
    x.p += x.t ? (size_t)dk * x.ld + di : (size_t)di * x.ld + dk;
    return x;
}

static inline int imin(int a, int b) { return a < b ? a : b; }

/* noinline: inlined into a loop nest, the kernel competes for the registers
 * with the caller's values and spills an accumulator. ks: every depth < kc
 * when NULL, else the kc depths in it; each case compiled apart, so the
 * dense loop has no index load. */
static __attribute__((noinline)) void kernel_full(int kc, const int *ks, const float *Ap,
                                                  const float *Bp, int ldbp, float alpha,
                                                  float beta, float *C, int ldc)
{
    const float *a[MR] = SLIVER_ROWS(Ap);
    if (ks)
        tile_kernel(MR, kc, ks, a, MR, Bp, ldbp, alpha, beta, C, ldc);
    else
        tile_kernel(MR, kc, NULL, a, MR, Bp, ldbp, alpha, beta, C, ldc);
}

/* The kernel on the first mr (1..MR) rows of a packed sliver (a bottom-border
 * tile), every depth; specialised for each mr. */
static __attribute__((noinline)) void kernel_rows(int mr, int kc, const float *Ap, const float *Bp,
                                                  int ldbp, float alpha, float beta, float *C,
                                                  int ldc)
{
    const float *a[MR] = SLIVER_ROWS(Ap);
#define ROWS(m) case m: tile_kernel(m, kc, NULL, a, MR, Bp, ldbp, alpha, beta, C, ldc); break;
    switch (mr) {
    PARTIAL_ROWS(ROWS)
    default: tile_kernel(MR, kc, NULL, a, MR, Bp, ldbp, alpha, beta, C, ldc); break;
    }
#undef ROWS
}

/* The kernel on mr (1..MR) rows of op(A) read in place from row pointers,
 * each row contiguous in k (astep = 1): gemm_small_nt's A side is B's rows,
 * and its last group of them can be short (W of a 10-unit layer: 6 + 4).
 * ks as above (NULL: every depth < kc). Into an MR×NR tile, C = A·B. */
static __attribute__((noinline)) void kernel_rowptr(int mr, int kc, const int *ks,
                                                    const float *const a[MR], const float *Bp,
                                                    float *C)
{
#define KERNEL(m) (ks ? tile_kernel(m, kc, ks, a, 1, Bp, NR, 1.0f, 0.0f, C, NR) \
                      : tile_kernel(m, kc, NULL, a, 1, Bp, NR, 1.0f, 0.0f, C, NR))
#define ROWS(m) case m: KERNEL(m); break;
    switch (mr) {
    PARTIAL_ROWS(ROWS)
    default: KERNEL(MR); break;
    }
#undef ROWS
#undef KERNEL
}

/* Split n into equal blocks of at most max, each a multiple of unit. */
static int block_size(int n, int max, int unit)
{
    int nb = (n + max - 1) / max;
    int b = (n + nb - 1) / nb;
    return (b + unit - 1) / unit * unit;
}

/*
 * Zero skipping. A packed sliver whose row at depth k is all zero adds
 * nothing at k to any tile it meets: the kernel may pass k by. Inputs such as
 * MNIST's (81 % of the pixels are 0) leave about half the depths of a 16-wide
 * sliver all zero, so a layer's products on them take half the multiply-adds.
 * The result is the same, bit for bit, as without skipping (a skipped term
 * would have added ±0 to an accumulator that is never −0), except where the
 * other operand holds an Inf or NaN at a skipped depth: 0·Inf is NaN, which
 * skipping leaves out, as the reference BLAS does (it skips B(l,j) == 0).
 * depth_list finds the depths to keep, once per packed sliver; the kernel
 * calls that use a sliver (hundreds) share its list.
 */

/* The depths k < kc at which the sliver (width floats per depth) is not all
 * zero, in order, into ks (room for kc); their count, or -1 when fewer than an
 * eighth of the depths could be skipped (then the dense loop, without the
 * index load, is as fast), or when gemm_skips_zeros is off. −0 counts as
 * zero, NaN as not. No branch on the data: on ReLU outputs, where a row's
 * first value is zero half the time, a loop that stopped at the first nonzero
 * mispredicted once a row, 2 % of an E2 step. */
static int depth_list(const float *sliver, int width, int kc, int *ks)
{
    if (!gemm_skips_zeros)
        return -1;
    int n = 0, full = width / 8 * 8;
    __m256 zero = _mm256_setzero_ps();
    __m256i tail = tail_mask((size_t)(width - full));  /* A's MR = 6 is all tail */
    for (int k = 0; k < kc; k++) {
        const float *p = sliver + (size_t)k * width;
        int any = 0;
        for (int c = 0; c < full; c += 8)
            any |= _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(p + c), zero, _CMP_NEQ_UQ));
        if (full < width)
            any |= _mm256_movemask_ps(_mm256_cmp_ps(_mm256_maskload_ps(p + full, tail), zero,
                                                    _CMP_NEQ_UQ));
        ks[n] = k;
        n += any != 0;
    }
    return n <= kc - (kc / 8 > 1 ? kc / 8 : 1) ? n : -1;
}

/* A tile of mr×nr (≤ MR×NR) at the right border: the kernel writes its mr
 * rows into an aligned stack tile, and only the mr×nr corner is merged into
 * C. (A full-width tile at the bottom border needs no copy: kernel_rows.) */
static void edge_tile(int mr, int nr, int kc, const float *Ap, const float *Bp,
                      float alpha, float beta, float *C, int ldc)
{
    _Alignas(64) float t[MR * NR];
    kernel_rows(mr, kc, Ap, Bp, NR, alpha, 0.0f, t, NR);
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) {
            float *c = &C[(size_t)i * ldc + j];
            *c = beta == 0 ? t[i * NR + j] : t[i * NR + j] + beta * *c;
        }
}

/* One tile of C, mr×nr at c: the full kernel (on the nk depths ks when ks is
 * not NULL, and not at all when there are none and beta is 1: C stays), its
 * first mr rows, or the right border through edge_tile (Bp packed there). */
static void one_tile(int mr, int nr, int kc, const int *ks, int nk, const float *ap,
                     const float *bp, int ldbp, float alpha, float beta, float *c, int ldc)
{
    if (mr == MR && nr == NR && ks) {
        if (nk > 0 || beta != 1.0f)
            kernel_full(nk, ks, ap, bp, ldbp, alpha, beta, c, ldc);
    } else if (mr == MR && nr == NR) {
        kernel_full(kc, NULL, ap, bp, ldbp, alpha, beta, c, ldc);
    } else if (nr == NR) {
        kernel_rows(mr, kc, ap, bp, ldbp, alpha, beta, c, ldc);
    } else {
        edge_tile(mr, nr, kc, ap, bp, alpha, beta, c, ldc);
    }
}

/* --------------------------------------------------------------- packing */

/* In-register transpose of an 8×8 block held as 8 rows. The loops are
 * unrolled by hand (pragmas) so that t and s stay in registers: at -O2 GCC
 * kept them on the stack, and pack_B's transposing path ran at half speed. */
static inline __attribute__((always_inline)) void transpose8(__m256 r[8])
{
    __m256 t[8], s[8];
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {          /* rows 0-3, then rows 4-7 */
        __m256 *u = t + 4 * h, *v = s + 4 * h;
        v[0] = _mm256_shuffle_ps(u[0], u[2], _MM_SHUFFLE(1, 0, 1, 0));  /* cols 0, 4 */
        v[1] = _mm256_shuffle_ps(u[0], u[2], _MM_SHUFFLE(3, 2, 3, 2));  /* cols 1, 5 */
        v[2] = _mm256_shuffle_ps(u[1], u[3], _MM_SHUFFLE(1, 0, 1, 0));  /* cols 2, 6 */
        v[3] = _mm256_shuffle_ps(u[1], u[3], _MM_SHUFFLE(3, 2, 3, 2));  /* cols 3, 7 */
    }
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x31);
    }
}

/* The first n (< 8, a constant where inlined) lanes of v to p: 4, 2 and 1
 * at a time, so nothing past p[n-1] is written. */
static inline void store_first(float *p, __m256 v, int n)
{
    __m128 lo = _mm256_castps256_ps128(v);
    if (n >= 4) {
        _mm_storeu_ps(p, lo);
        p += 4, n -= 4;
        lo = _mm256_extractf128_ps(v, 1);
    }
    if (n >= 2) {
        _mm_storel_pi((__m64 *)p, lo);
        p += 2, n -= 2;
        lo = _mm_movehl_ps(lo, lo);
    }
    if (n)
        _mm_store_ss(p, lo);
}

/* A full MR-row sliver (MR ≤ 8) of op(A) = A, depths 0..kc-1 of the rows at
 * src (stride ld), interleaved: Ap[k*MR + r] = src[r*ld + k]. Eight depths
 * at a time, transposed in registers (rows past MR zero), so that each depth
 * is one store; the store of 8 lanes at depth k spills MR..7 into depth k+1,
 * which the next store overwrites, and the chunk's last depth is stored
 * exactly. The scalar interleave was 3 % of a 2048² product. */
static void pack_A_rows(float *restrict Ap, const float *src, size_t ld, int kc)
{
    int k = 0;
    for (; k + 8 <= kc; k += 8) {
        __m256 r[8];
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++)
            r[i] = i < MR ? _mm256_loadu_ps(src + i * ld + k) : _mm256_setzero_ps();
        transpose8(r);
#pragma GCC unroll 7
        for (int i = 0; i < 7; i++) _mm256_storeu_ps(Ap + (k + i) * MR, r[i]);
        if (MR == 8)
            _mm256_storeu_ps(Ap + (k + 7) * MR, r[7]);
        else
            store_first(Ap + (k + 7) * MR, r[7], MR);
    }
    for (; k < kc; k++)
        for (int r = 0; r < MR; r++) Ap[k * MR + r] = src[r * ld + k];
}

/* Rows i0.. i0+mc-1, depth k0.. k0+kc-1 of op(A) into MR-row slivers:
 * sliver s holds Ap[s*MR*kc + k*MR + r] = op(A)(i0 + s*MR + r, k0 + k),
 * zero for rows past mc. */
static void pack_A(float *restrict Ap, operand A, int i0, int mc, int k0, int kc)
{
    for (int s = 0; s < mc; s += MR, Ap += (size_t)MR * kc) {
        int rows = imin(MR, mc - s);
        if (A.t) {  /* op(A)(i, k) = A[k][i]: MR contiguous floats per k */
            const float *src = A.p + (size_t)k0 * A.ld + i0 + s;
            for (int k = 0; k < kc; k++, src += A.ld) {
                int r = 0;
                for (; r < rows; r++) Ap[k * MR + r] = src[r];
                for (; r < MR; r++) Ap[k * MR + r] = 0;
            }
        } else if (MR <= 8 && rows == MR) {  /* op(A)(i, k) = A[i][k] */
            pack_A_rows(Ap, A.p + (size_t)(i0 + s) * A.ld + k0, (size_t)A.ld, kc);
        } else {    /* interleave MR rows, zero past `rows` */
            for (int r = 0; r < MR; r++) {
                if (r < rows) {
                    const float *src = A.p + (size_t)(i0 + s + r) * A.ld + k0;
                    for (int k = 0; k < kc; k++) Ap[k * MR + r] = src[k];
                } else {
                    for (int k = 0; k < kc; k++) Ap[k * MR + r] = 0;
                }
            }
        }
    }
}

/* Rows 0..n-1 (n ≤ 8; none when n ≤ 0) of 8 floats at src, stride ld, into
 * r, and zero rows past n; each row's next line prefetched. n is a constant
 * where the caller can make it one (full slivers). */
static inline __attribute__((always_inline)) void load_rows8(__m256 r[8], const float *src,
                                                             size_t ld, int n)
{
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
        if (i < n) {
            _mm_prefetch((const char *)(src + i * ld + 64), _MM_HINT_T0);
            r[i] = _mm256_loadu_ps(src + i * ld);
        } else {
            r[i] = _mm256_setzero_ps();
        }
    }
}

/* Depth k0.. k0+kc-1, columns j0.. j0+nc-1 of op(B) into NR-column slivers:
 * sliver s holds Bp[s*NR*kc + k*NR + c] = op(B)(k0 + k, j0 + s*NR + c), zero
 * for columns past nc. op(B) = Bᵀ (B stored n×k, as a layer's W in A·Wᵀ) is
 * transposed 8×8 in registers, since this pack is on the critical path when
 * M is small. */
static void pack_B(float *restrict Bp, operand B, int k0, int kc, int j0, int nc)
{
    for (int s = 0; s < nc; s += NR, Bp += (size_t)NR * kc) {
        int cols = imin(NR, nc - s);
        if (!B.t) {  /* op(B)(k, j) = B[k][j]: NR contiguous floats per k */
            const float *src = B.p + (size_t)k0 * B.ld + j0 + s;
            for (int k = 0; k < kc; k++, src += B.ld) {
                _mm_prefetch((const char *)(src + 8 * (size_t)B.ld), _MM_HINT_T0);
                if (cols == NR) {
                    for (int c = 0; c < NR; c += 8)
                        _mm256_store_ps(Bp + k * NR + c, _mm256_loadu_ps(src + c));
                } else {
                    int c = 0;
                    for (; c < cols; c++) Bp[k * NR + c] = src[c];
                    for (; c < NR; c++) Bp[k * NR + c] = 0;
                }
            }
            continue;
        }
        /* op(B)(k, j) = B[j][k]: each column of the sliver is a row of B,
         * zero past the last (a batch of 10 fills 10 of 16). */
        int k = 0;
        for (; k + 8 <= kc; k += 8)
            for (int h = 0; h < NR / 8; h++) {
                __m256 r[8];
                int n = imin(8, cols - 8 * h);
                const float *src = B.p + (size_t)(j0 + s + 8 * h) * B.ld + k0 + k;
                if (cols == NR)
                    load_rows8(r, src, (size_t)B.ld, 8);
                else
                    load_rows8(r, src, (size_t)B.ld, n);
                transpose8(r);
#pragma GCC unroll 8
                for (int i = 0; i < 8; i++) _mm256_store_ps(Bp + (k + i) * NR + 8 * h, r[i]);
            }
        for (; k < kc; k++)
            for (int c = 0; c < NR; c++)
                Bp[k * NR + c] = c < cols ? B.p[(size_t)(j0 + s + c) * B.ld + k0 + k] : 0;
    }
}

/* -------------------------------------------------------------- blocking */

/* Scratch floats one stripe needs: an MC×KC A block and a KC×NC B block,
 * then the depth lists of their slivers (ints, one depth list of up to KC
 * per sliver). */
#define PACK_FLOATS ((size_t)MC * KC + (size_t)KC * NC)
#define LIST_INTS ((size_t)MC / MR * KC + (size_t)NC / NR * KC)
#define SCRATCH_FLOATS (PACK_FLOATS + LIST_INTS)
_Static_assert(sizeof(int) == sizeof(float), "the depth lists share the float scratch");
_Static_assert(MC % MR == 0 && NC % NR == 0, "whole slivers per block");

/* The depth lists of the nsl slivers packed at P (width floats per depth,
 * kc depths each): sliver s's list at ks + s·kc, its count (or -1) in n[s]. */
static void sliver_lists(const float *P, int nsl, int width, int kc, int *ks, int *n)
{
    for (int s = 0; s < nsl; s++)
        n[s] = depth_list(P + (size_t)s * width * kc, width, kc, ks + (size_t)s * kc);
}

/* The shorter of two slivers' depth lists (NULL: neither can skip). */
static const int *shorter_list(const int *ka, int na, const int *kb, int nb, int *n)
{
    if (na >= 0 && (nb < 0 || na <= nb)) {
        *n = na;
        return ka;
    }
    *n = nb;
    return nb >= 0 ? kb : NULL;
}

/* The packed B block of gemm_blocked, with its slivers' depth lists, kept by
 * one thread or shared by a team of them (team_part). */
typedef struct bblock {
    float *Bp;          /* KC×NC floats */
    int *lists;         /* a depth list of up to KC per sliver */
    int n[NC / NR];     /* their counts (-1: no skipping) */
    dl_barrier bar;     /* the team's: B packed / B no longer read */
} bblock;

/* C (M×N) = alpha·op(A)·op(B) + beta·C, packing A into Ap (MC×KC floats,
 * its slivers' lists at ka) and B into bb. Loop order jc → pc → ic → jr →
 * ir: the B block is packed once per (jc, pc) and reused by every A block;
 * inside, a B sliver stays in L1 while the ir loop runs the A slivers past it.
 *
 * Part `me` of a team of `team` threads (1: alone) that share bb and split
 * C's rows (A, C and M are this part's; B, N, K everyone's): each packs
 * its share of the B block's slivers, and they meet at bb's barrier before
 * using it and again before the next block overwrites it. So no thread packs
 * what another packs (split by columns instead, each packed all of A: 2 % of
 * a 1024² product on two threads).
 *
 * When op(B) = B and M ≤ DIRECT_M (alone), full-width B slivers are not packed:
 * the kernel reads 16 floats of each row of B in place (ldbp = ldb). Packing
 * costs about as much per element as DIRECT_M/16 kernel cycles, so for a
 * batch of 32 it was a fifth of the time; only the ragged right sliver is
 * still packed, for its zero padding. */
#define DIRECT_M 48

/* A stripe's scratch (SCRATCH_FLOATS, see PACK_FLOATS): the A block, the B
 * block, then the A slivers' depth lists and the B slivers'. */
static int *scratch_a_lists(float *buf) { return (int *)(buf + PACK_FLOATS); }

static bblock scratch_bblock(float *buf)
{
    return (bblock){ .Bp = buf + (size_t)MC * KC,
                     .lists = scratch_a_lists(buf) + (size_t)MC / MR * KC };
}

static void gemm_blocked(int M, int N, int K, float alpha, operand A, operand B,
                         float beta, float *C, int ldc, float *Ap, int *ka, bblock *bb,
                         int me, int team)
{
    int kb = block_size(K, KC, 1), mb = M > 0 ? block_size(M, MC, MR) : 1;
    int direct = !B.t && M <= DIRECT_M && team == 1;
    float *Bp = bb->Bp;
    int *kbl = bb->lists, *nb = bb->n, na[MC / MR];
    for (int jc = 0; jc < N; jc += NC) {
        int nc = imin(NC, N - jc);
        int nfull = direct ? nc / NR * NR : 0;  /* columns read in place */
        for (int pc = 0; pc < K; pc += kb) {
            int kc = imin(kb, K - pc);
            float bet = pc == 0 ? beta : 1.0f;  /* later depth blocks accumulate */
            for (int s = 0; s < nfull / NR; s++) nb[s] = -1;  /* not packed: not scanned */
            /* This part's share of the slivers to pack: a run of them (taking
             * every team-th instead was 2 % slower on a 1024² product). */
            int s0 = nfull / NR, nsl = (nc + NR - 1) / NR - s0;
            for (int s = s0 + nsl * me / team; s < s0 + nsl * (me + 1) / team; s++) {
                float *bp = Bp + (size_t)s * NR * kc;
                pack_B(bp, B, pc, kc, jc + s * NR, imin(NR, nc - s * NR));
                nb[s] = depth_list(bp, NR, kc, kbl + (size_t)s * kc);
            }
            dl_barrier_wait(&bb->bar, team);   /* the whole block packed */
            for (int ic = 0; ic < M; ic += mb) {
                int mc = imin(mb, M - ic);
                pack_A(Ap, A, ic, mc, pc, kc);
                sliver_lists(Ap, (mc + MR - 1) / MR, MR, kc, ka, na);
                for (int jr = 0; jr < nc; jr += NR) {
                    const float *bp = Bp + (size_t)jr * kc;
                    int ldbp = NR;
                    if (jr < nfull) {
                        bp = B.p + (size_t)pc * B.ld + jc + jr;
                        ldbp = B.ld;
                    }
                    for (int ir = 0; ir < mc; ir += MR) {
                        const float *ap = Ap + (size_t)ir * kc;
                        float *c = C + (size_t)(ic + ir) * ldc + jc + jr;
                        int mr = imin(MR, mc - ir), nr = imin(NR, nc - jr);
                        int nk;
                        const int *ks = shorter_list(ka + (size_t)ir / MR * kc, na[ir / MR],
                                                     kbl + (size_t)jr / NR * kc, nb[jr / NR], &nk);
                        one_tile(mr, nr, kc, ks, nk, ap, bp, ldbp, alpha, bet, c, ldc);
                    }
                }
            }
            dl_barrier_wait(&bb->bar, team);   /* nobody reads the block any more */
        }
    }
}

/* C = alpha·op(A)·Bᵀ + beta·C for small M (a batch through a layer, A·Wᵀ),
 * computed as its transpose Cᵀ = B·op(A)ᵀ so that B's rows, already
 * contiguous in k, feed the kernel's broadcast side in place: nothing of the
 * big operand is packed or transposed. Only op(A)ᵀ (kc × M, small) is packed,
 * into NR-wide slivers. Each 6×16 tile of Cᵀ goes through a stack tile and is
 * written transposed into C: 96 stores per kc·MR·NR multiply-adds. */
/* Depth block of gemm_small_nt: far larger than KC, since every depth block
 * costs a transposed write-back of C. Up to 4096 the op(A)ᵀ slivers (≤ 48
 * columns) fit in L2 and in the scratch PACK_FLOATS provides; measured 91 →
 * 100 GFLOPS on 32×3136×784 against KC. */
#define KC_NT 4096
#define NT_SLIVERS ((DIRECT_M + NR - 1) / NR)
_Static_assert((size_t)2 * NT_SLIVERS * NR * KC_NT <= SCRATCH_FLOATS,
               "op(A)ᵀ slivers and their depth lists must fit in the scratch");

static void gemm_small_nt(int M, int N, int K, float alpha, operand A, operand B,
                          float beta, float *C, int ldc, float *Bp)
{
    int kb = block_size(K, KC_NT, 1);
    operand At = { A.p, A.ld, !A.t };  /* op(At)(k, i) = op(A)(i, k) */
    int *ks = (int *)(Bp + (size_t)NT_SLIVERS * NR * KC_NT), nk[NT_SLIVERS];
    for (int pc = 0; pc < K; pc += kb) {
        int kc = imin(kb, K - pc);
        float bet = pc == 0 ? beta : 1.0f;
        pack_B(Bp, At, pc, kc, 0, M);
        sliver_lists(Bp, (M + NR - 1) / NR, NR, kc, ks, nk);
        for (int j = 0; j < N; j += MR) {
            int rows = imin(MR, N - j);
            const float *w[MR];
            for (int r = 0; r < MR; r++)  /* past the last row: repeat row j, unused */
                w[r] = B.p + (size_t)(j + (r < rows ? r : 0)) * B.ld + pc;
#if PREFETCH_NEXT_ROWS
            if (j + MR < N)  /* the next group's rows, from L3 or memory, while this one computes */
                for (int r = 0; r < imin(MR, N - j - MR); r++)
                    for (int k = 0; k < kc; k += 16)
                        _mm_prefetch((const char *)(B.p + (size_t)(j + MR + r) * B.ld + pc + k), _MM_HINT_T0);
#endif
            for (int i = 0; i < M; i += NR) {
                int cols = imin(NR, M - i);
                _Alignas(64) float t[MR * NR];
                int s = i / NR;
                if (nk[s] >= 0)
                    kernel_rowptr(rows, nk[s], ks + (size_t)s * kc, w, Bp + (size_t)i * kc, t);
                else
                    kernel_rowptr(rows, kc, NULL, w, Bp + (size_t)i * kc, t);
                for (int c = 0; c < cols; c++) {
                    float *cr = C + (size_t)(i + c) * ldc + j;
                    for (int r = 0; r < rows; r++)
                        cr[r] = bet == 0 ? alpha * t[r * NR + c] : alpha * t[r * NR + c] + bet * cr[r];
                }
            }
        }
    }
}

/* Without scratch memory (allocation failed): plain loops, still correct. */
static void gemm_plain(int M, int N, int K, float alpha, operand A, operand B,
                       float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float acc = 0;
            for (int k = 0; k < K; k++) acc += at(A, i, k) * at(B, k, j);
            float *c = &C[(size_t)i * ldc + j];
            *c = beta == 0 ? alpha * acc : alpha * acc + beta * *c;
        }
}

/* --------------------------------------------------- GEMV and rank-1 paths */

/* y[i·incy] = alpha·(X row i)·v + beta·y[i·incy] for i < n; X is n×K with row
 * stride ldx, v contiguous. Four rows at a time share each load of v; two
 * accumulators per row (k in steps of 16) keep 8 FMA chains in flight, enough
 * for both FMA pipes, so the loop runs at the speed the rows arrive. */
static void gemv_dot(int n, int K, float alpha, const float *X, int ldx,
                     const float *v, float beta, float *y, int incy)
{
    __m256i tm = tail_mask(K % 8);
    int k16 = K - K % 16, kv = K - K % 8;
    for (int i = 0; i < n; i += 4) {
        int rows = imin(4, n - i);
        const float *x[4];
        __m256 acc[4][2];
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++) {
            x[r] = X + (size_t)(i + (r < rows ? r : 0)) * ldx;
            acc[r][0] = acc[r][1] = _mm256_setzero_ps();
        }
        for (int k = 0; k < k16; k += 16) {
            __m256 v0 = _mm256_loadu_ps(v + k), v1 = _mm256_loadu_ps(v + k + 8);
#pragma GCC unroll 4
            for (int r = 0; r < 4; r++) {
                acc[r][0] = _mm256_fmadd_ps(_mm256_loadu_ps(x[r] + k), v0, acc[r][0]);
                acc[r][1] = _mm256_fmadd_ps(_mm256_loadu_ps(x[r] + k + 8), v1, acc[r][1]);
            }
        }
        if (k16 < kv) {
            __m256 v0 = _mm256_loadu_ps(v + k16);
#pragma GCC unroll 4
            for (int r = 0; r < 4; r++)
                acc[r][0] = _mm256_fmadd_ps(_mm256_loadu_ps(x[r] + k16), v0, acc[r][0]);
        }
        if (kv < K) {
            __m256 v0 = _mm256_maskload_ps(v + kv, tm);
#pragma GCC unroll 4
            for (int r = 0; r < 4; r++)
                acc[r][1] = _mm256_fmadd_ps(_mm256_maskload_ps(x[r] + kv, tm), v0, acc[r][1]);
        }
        for (int r = 0; r < rows; r++) {
            float d = alpha * hsum(_mm256_add_ps(acc[r][0], acc[r][1]));
            float *yi = &y[(size_t)(i + r) * incy];
            *yi = beta == 0 ? d : d + beta * *yi;
        }
    }
}

/* y[j] = alpha·Σ_k v[k·incv]·X[k][j] + beta·y[j] for j < n; y contiguous, X is
 * K×n with row stride ldx. Four rows of X per pass over a chunk of y's sum,
 * which stays in L1. The sum is made apart from y and added to beta·y once:
 * summed into y itself, every term was rounded at y's magnitude, and a fused
 * update of a layer with one output (W ← W − (η/B)·δᵀ·A, here with beta = 1)
 * stalled at 1e-5 from the least-squares solution where the unfused one,
 * summing into a zero dW, reached 3e-7 (examples/linreg.lua). */
#define AXPY_CHUNK 512

static void gemv_axpy(int n, int K, float alpha, const float *X, int ldx,
                      const float *v, int incv, float beta, float *y)
{
    for (int j0 = 0; j0 < n; j0 += AXPY_CHUNK) {
        int m = imin(AXPY_CHUNK, n - j0), mv = m - m % 8;
        __m256i tm = tail_mask(m % 8);
        _Alignas(32) float t[AXPY_CHUNK];
        memset(t, 0, (size_t)m * sizeof *t);
        for (int k = 0; k < K; k += 4) {
            int rows = imin(4, K - k);
            __m256 a[4];
            const float *x[4];
#pragma GCC unroll 4
            for (int r = 0; r < 4; r++) {
                a[r] = _mm256_set1_ps(r < rows ? alpha * v[(size_t)(k + r) * incv] : 0);
                x[r] = X + (size_t)(k + (r < rows ? r : 0)) * ldx + j0;
            }
            for (int j = 0; j < mv; j += 8) {
                __m256 s = _mm256_load_ps(t + j);
#pragma GCC unroll 4
                for (int r = 0; r < 4; r++) s = _mm256_fmadd_ps(a[r], _mm256_loadu_ps(x[r] + j), s);
                _mm256_store_ps(t + j, s);
            }
            if (mv < m) {
                __m256 s = _mm256_maskload_ps(t + mv, tm);
                for (int r = 0; r < 4; r++) s = _mm256_fmadd_ps(a[r], _mm256_maskload_ps(x[r] + mv, tm), s);
                _mm256_maskstore_ps(t + mv, tm, s);
            }
        }
        float *yc = y + j0;
        if (beta == 0)
            memcpy(yc, t, (size_t)m * sizeof *t);
        else
            for (int j = 0; j < m; j++) yc[j] = t[j] + beta * yc[j];
    }
}

/* C(i, j) = alpha·a[i·inca]·b[j] + beta·C(i, j): the rank-1 update (K == 1). */
static void rank1(int M, int N, float alpha, const float *a, int inca, const float *b,
                  float beta, float *C, int ldc)
{
    __m256i tm = tail_mask(N % 8);
    int nv = N - N % 8;
    __m256 vb = _mm256_set1_ps(beta);
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * ldc;
        __m256 ai = _mm256_set1_ps(alpha * a[(size_t)i * inca]);
        for (int j = 0; j < nv; j += 8) {
            __m256 p = _mm256_mul_ps(ai, _mm256_loadu_ps(b + j));
            if (beta != 0) p = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + j), p);
            _mm256_storeu_ps(c + j, p);
        }
        if (nv < N) {
            __m256 p = _mm256_mul_ps(ai, _mm256_maskload_ps(b + nv, tm));
            if (beta != 0) p = _mm256_fmadd_ps(vb, _mm256_maskload_ps(c + nv, tm), p);
            _mm256_maskstore_ps(c + nv, tm, p);
        }
    }
}

/* ---------------------------------------------------------------- stripes */

/* One call's arguments, shared read-only by the stripes that run it. */
typedef enum { JOB_GEMM, JOB_DOT, JOB_AXPY, JOB_RANK1 } job_kind;

typedef struct job {
    job_kind kind;
    int M, N, K;          /* the product's sizes (for DOT/AXPY: n rows/cols, K) */
    float alpha, beta;
    operand A, B;         /* GEMM: op(A) M×K, op(B) K×N */
    const float *v;       /* DOT/AXPY: the vector; RANK1: a */
    int incv;             /* its stride */
    const float *w;       /* RANK1: b, contiguous */
    float *C;
    int ldc;              /* GEMM/RANK1: C's row stride; DOT: y's stride */
    int split_n;          /* GEMM: split columns (else rows) */
} job;

/* Part i of n of [0, len), in whole units of `unit`. */
static void part_range(int len, int unit, int i, int n, int *lo, int *hi)
{
    int units = (len + unit - 1) / unit;
    *lo = imin(len, (int)((long long)units * i / n) * unit);
    *hi = imin(len, (int)((long long)units * (i + 1) / n) * unit);
}

static void run_part(void *arg, int i, int n)
{
    const job *J = arg;
    int lo, hi;
    switch (J->kind) {
    case JOB_GEMM: {
        operand A = J->A, B = J->B;
        float *C = J->C;
        int M = J->M, N = J->N;
        if (J->split_n) {
            part_range(N, NR, i, n, &lo, &hi);
            B = shifted(B, 0, lo);  /* op(B) columns lo.. */
            C += lo;
            N = hi - lo;
        } else {
            part_range(M, MR, i, n, &lo, &hi);
            A = shifted(A, lo, 0);
            C += (size_t)lo * J->ldc;
            M = hi - lo;
        }
        if (M <= 0 || N <= 0)
            return;
        float *buf = dl_scratch(SCRATCH_FLOATS);
        if (buf && B.t && M <= DIRECT_M)
            gemm_small_nt(M, N, J->K, J->alpha, A, B, J->beta, C, J->ldc, buf);
        else if (buf) {
            bblock bb = scratch_bblock(buf);
            gemm_blocked(M, N, J->K, J->alpha, A, B, J->beta, C, J->ldc, buf,
                         scratch_a_lists(buf), &bb, 0, 1);
        } else {
            gemm_plain(M, N, J->K, J->alpha, A, B, J->beta, C, J->ldc);
        }
        return;
    }
    case JOB_DOT:    /* rows of X = J->A.p */
        part_range(J->M, 4, i, n, &lo, &hi);
        if (hi > lo)
            gemv_dot(hi - lo, J->K, J->alpha, J->A.p + (size_t)lo * J->A.ld, J->A.ld, J->v,
                     J->beta, J->C + (size_t)lo * J->ldc, J->ldc);
        return;
    case JOB_AXPY:   /* columns of X = J->A.p */
        part_range(J->M, 8, i, n, &lo, &hi);
        if (hi > lo)
            gemv_axpy(hi - lo, J->K, J->alpha, J->A.p + lo, J->A.ld, J->v, J->incv,
                      J->beta, J->C + lo);
        return;
    case JOB_RANK1:
        part_range(J->M, 1, i, n, &lo, &hi);
        if (hi > lo)
            rank1(hi - lo, J->N, J->alpha, J->v + (size_t)lo * J->incv, J->incv, J->w,
                  J->beta, J->C + (size_t)lo * J->ldc, J->ldc);
        return;
    }
}

/* A product run by a team sharing one packed B block (gemm_blocked): the
 * caller's scratch holds part 0's A block and the shared B block; the other
 * parts pack A into their own. */
typedef struct team_job {
    const job *J;
    float *buf;     /* the caller's scratch, SCRATCH_FLOATS */
    bblock bb;
    int failed;     /* a part had no scratch: every part computes alone */
} team_job;

#define A_FLOATS ((size_t)MC * KC + (size_t)MC / MR * KC)  /* an A block and its lists */

static void team_part(void *arg, int i, int n)
{
    team_job *T = arg;
    const job *J = T->J;
    int lo, hi;
    part_range(J->M, MR, i, n, &lo, &hi);
    float *Ap = i == 0 ? T->buf : dl_scratch(A_FLOATS);
    int *ka = i == 0 ? scratch_a_lists(T->buf) : Ap ? (int *)(Ap + (size_t)MC * KC) : NULL;
    if (!Ap)
        __atomic_store_n(&T->failed, 1, __ATOMIC_RELAXED);
    dl_barrier_wait(&T->bb.bar, n);   /* all know whether everyone has scratch */
    operand A = shifted(J->A, lo, 0);
    float *C = J->C + (size_t)lo * J->ldc;
    if (__atomic_load_n(&T->failed, __ATOMIC_RELAXED))
        gemm_plain(hi - lo, J->N, J->K, J->alpha, A, J->B, J->beta, C, J->ldc);
    else
        gemm_blocked(hi - lo, J->N, J->K, J->alpha, A, J->B, J->beta, C, J->ldc, Ap, ka, &T->bb, i,
                     n);
}

/* Rows below which a team is not worth its barriers (each part should have
 * an MC block of them); smaller products split C's columns or rows into
 * stripes that each pack what they use. */
#define TEAM_M (2 * MC)

/* Run J in `parts` stripes on the pool (parts == 1: on this thread). */
static void run(job *J, int parts)
{
    if (parts <= 1)
        run_part(J, 0, 1);
    else
        dl_parallel(run_part, J, parts);
}

/* Work sizes, in multiply-adds, below which a second thread costs more than it
 * saves (a pool wake-up is a few microseconds; 2^20 FMAs take ~15 µs). */
#define GEMM_GRAIN  (1 << 20)
#define GEMV_GRAIN  (1 << 18)

/* C = beta·C (alpha == 0 or K == 0), never reading C when beta == 0. */
static void scale_C(int M, int N, float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * ldc;
        if (beta == 0)
            memset(c, 0, (size_t)N * sizeof *c);
        else
            for (int j = 0; j < N; j++) c[j] *= beta;
    }
}

/* A contiguous copy of n elements of x spaced inc apart (x itself if inc == 1),
 * in this thread's scratch; NULL when that cannot be allocated. */
static const float *gather(const float *x, int n, int inc)
{
    if (inc == 1)
        return x;
    float *t = dl_scratch((size_t)n);
    if (t)
        for (int i = 0; i < n; i++) t[i] = x[(size_t)i * inc];
    return t;
}

/* ------------------------------- back-propagation and update in one pass */

/*
 * BACKSTEP_ENTRY, kern.h's backward_step: P = Δ·W, then W ← decay·W +
 * alpha·Δᵀ·A, with one pass over W where the two GEMMs make two (W is read
 * by the first, read and written by the second; in an E2 step, W² is the
 * largest operand and memory the bound on two threads). P is gemm_blocked's
 * product with W read in place (B ≤ DIRECT_M), depth block by depth block:
 * once every row of the batch has used the kc×NR block of W at (pc, j), which
 * is then in L1, that block takes its update — the kernel on Δᵀ's MR-row
 * slivers against NR columns of A, depth B. Per element the arithmetic is the
 * unfused pair's, in the same order (same depth blocks for P, the whole batch
 * as one depth block for the update, the same tile formulas): the same bits.
 */
typedef struct backstep {
    int B, n_out, n_in;
    const float *D; int ldd;   /* Δ, B × n_out */
    float *W; int ldw;         /* n_out × n_in */
    const float *A; int lda;   /* B × n_in */
    float alpha, decay;
    float *P; int ldp;         /* B × n_in */
} backstep;

/* Scratch of one stripe: Δ's slivers for P (≤ DIRECT_M + MR rows of depth
 * KC), Δᵀ's for the update (≤ KC + MR rows of depth DIRECT_M), then the
 * ragged border's packed W and A. */
#define BACKSTEP_DT ((size_t)(DIRECT_M + MR) * KC)
_Static_assert(BACKSTEP_DT + (size_t)(KC + MR) * DIRECT_M <= (size_t)MC * KC,
               "backward_step's Δ slivers must fit in the A block's scratch");

/* The update of the kc×nr block of W at rows k0.., columns j: Dt holds Δᵀ's
 * rows k0.. in MR-row slivers of depth B; Bp is room for a packed sliver. */
static void update_block(const backstep *S, const float *Dt, int k0, int kc, int j, int nr, float *Bp)
{
    const float *bp = S->A + j;
    int ldbp = S->lda;
    if (nr < NR) {
        pack_B(Bp, (operand){ S->A, S->lda, 0 }, 0, S->B, j, nr);
        bp = Bp, ldbp = NR;
    }
    for (int i = 0; i < kc; i += MR) {
        const float *ap = Dt + (size_t)i * S->B;
        float *c = S->W + (size_t)(k0 + i) * S->ldw + j;
        one_tile(imin(MR, kc - i), nr, S->B, NULL, 0, ap, bp, ldbp, S->alpha, S->decay, c,
                 S->ldw);
    }
}

/* Columns [j0, j0 + n) of P and of W. */
static void backstep_cols(const backstep *S, int j0, int n, float *buf)
{
    int M = S->B, K = S->n_out, kb = block_size(K, KC, 1);
    float *Ap = buf, *Dt = buf + BACKSTEP_DT, *Bp = buf + (size_t)MC * KC;
    operand D = { S->D, S->ldd, 0 }, Dt_op = { S->D, S->ldd, 1 };
    for (int pc = 0; pc < K; pc += kb) {
        int kc = imin(kb, K - pc);
        float bet = pc == 0 ? 0.0f : 1.0f;
        pack_A(Ap, D, 0, M, pc, kc);       /* Δ's columns pc.., for P */
        pack_A(Dt, Dt_op, pc, kc, 0, M);   /* the same as Δᵀ's rows, for the update */
        for (int jr = 0; jr < n; jr += NR) {
            int j = j0 + jr, nr = imin(NR, n - jr);
            const float *bp = S->W + (size_t)pc * S->ldw + j;
            int ldbp = S->ldw;
            if (nr < NR) {
                pack_B(Bp, (operand){ S->W, S->ldw, 0 }, pc, kc, j, nr);
                bp = Bp, ldbp = NR;
            }
            for (int ir = 0; ir < M; ir += MR) {
                const float *ap = Ap + (size_t)ir * kc;
                float *c = S->P + (size_t)ir * S->ldp + j;
                one_tile(imin(MR, M - ir), nr, kc, NULL, 0, ap, bp, ldbp, 1.0f, bet, c, S->ldp);
            }
            update_block(S, Dt, pc, kc, j, nr, Bp + (size_t)NR * kc);
        }
    }
}

/* Without scratch: the two products on these columns, in plain loops. */
static void backstep_plain(const backstep *S, int j0, int n)
{
    operand D = { S->D, S->ldd, 0 }, Dt = { S->D, S->ldd, 1 };
    operand W = { S->W + j0, S->ldw, 0 }, A = { S->A + j0, S->lda, 0 };
    gemm_plain(S->B, n, S->n_out, 1.0f, D, W, 0.0f, S->P + j0, S->ldp);
    gemm_plain(S->n_out, n, S->B, S->alpha, Dt, A, S->decay, S->W + j0, S->ldw);
}

static void backstep_part(void *arg, int i, int n)
{
    const backstep *S = arg;
    int lo, hi;
    part_range(S->n_in, NR, i, n, &lo, &hi);
    if (hi <= lo)
        return;
    float *buf = dl_scratch(SCRATCH_FLOATS);
    if (buf)
        backstep_cols(S, lo, hi - lo, buf);
    else
        backstep_plain(S, lo, hi - lo);
}

void GEMM_ENTRY(int tA, int tB, int M, int N, int K, float alpha,
               const float *A, int lda, const float *B, int ldb,
               float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0)
        return;
    if (K <= 0 || alpha == 0) {
        scale_C(M, N, beta, C, ldc);
        return;
    }
    operand a = { A, lda, tA }, b = { B, ldb, tB };
    job J = { JOB_GEMM, M, N, K, alpha, beta, a, b, NULL, 1, NULL, C, ldc, N >= M };
    double work = (double)M * N * K;

    if (M == 1 && tB) {
        /* c (1×N) = a·Bᵀ: one dot product per row of B (the forward pass of
         * one sample, a·Wᵀ). */
        const float *v = gather(A, K, tA ? lda : 1);
        if (v) {
            J = (job){ JOB_DOT, N, 1, K, alpha, beta, { B, ldb, 0 }, b, v, 1, NULL, C, 1, 0 };
            run(&J, dl_parts(work, GEMV_GRAIN));
            return;
        }
    } else if (M == 1) {
        /* c (1×N) = a·B: rows of B combined (back-propagating one sample, δ·W). */
        J = (job){ JOB_AXPY, N, 1, K, alpha, beta, { B, ldb, 0 }, b, A, tA ? lda : 1, NULL, C, 1, 0 };
        run(&J, dl_parts(work, GEMV_GRAIN));
        return;
    } else if (N == 1 && !tA) {
        /* c (M×1) = A·b: one dot product per row of A. */
        const float *v = gather(B, K, tB ? 1 : ldb);
        if (v) {
            J = (job){ JOB_DOT, M, 1, K, alpha, beta, { A, lda, 0 }, b, v, 1, NULL, C, ldc, 0 };
            run(&J, dl_parts(work, GEMV_GRAIN));
            return;
        }
    } else if (N == 1 && ldc == 1) {
        /* c (M×1) = Aᵀ·b with c contiguous: rows of A combined. */
        J = (job){ JOB_AXPY, M, 1, K, alpha, beta, { A, lda, 0 }, a, B, tB ? 1 : ldb, NULL, C, 1, 0 };
        run(&J, dl_parts(work, GEMV_GRAIN));
        return;
    } else if (K == 1) {
        /* C = alpha·a·bᵀ + beta·C: the weight gradient of one sample. */
        const float *w = gather(B, N, tB ? ldb : 1);
        if (w) {
            J = (job){ JOB_RANK1, M, N, 1, alpha, beta, a, b, A, tA ? 1 : lda, w, C, ldc, 0 };
            run(&J, dl_parts((double)M * N, GEMV_GRAIN));
            return;
        }
    }
    /* The general case (and the rare vector cases above without scratch). */
    int units = J.split_n ? (N + NR - 1) / NR : (M + MR - 1) / MR;
    int parts = dl_parts(work, GEMM_GRAIN);
    float *buf = parts > 1 && M >= TEAM_M ? dl_scratch(SCRATCH_FLOATS) : NULL;
    if (buf) {
        team_job T = { &J, buf, scratch_bblock(buf), 0 };
        dl_team(team_part, &T, parts);
        return;
    }
    run(&J, parts < units ? parts : units);
}

void BACKSTEP_ENTRY(int B, int n_out, int n_in, const float *D, int ldd, float *W, int ldw,
                    const float *A, int lda, float alpha, float decay, float *P, int ldp)
{
    if (B <= 0 || n_in <= 0)
        return;
    /* The two GEMMs where P's product would not read W in place (B > DIRECT_M)
     * or either would take a vector path (a dimension of 1), whose order of
     * operations the fused pass does not follow. */
    if (B > DIRECT_M || B == 1 || n_out <= 1 || n_in == 1) {
        GEMM_ENTRY(0, 0, B, n_in, n_out, 1.0f, D, ldd, W, ldw, 0.0f, P, ldp);
        GEMM_ENTRY(1, 0, n_out, n_in, B, alpha, D, ldd, A, lda, decay, W, ldw);
        return;
    }
    backstep S = { B, n_out, n_in, D, ldd, W, ldw, A, lda, alpha, decay, P, ldp };
    int units = (n_in + NR - 1) / NR;
    int parts = dl_parts(2.0 * B * n_out * n_in, GEMM_GRAIN);
    parts = parts < units ? parts : units;
    if (parts <= 1)
        backstep_part(&S, 0, 1);
    else
        dl_parallel(backstep_part, &S, parts);
}
