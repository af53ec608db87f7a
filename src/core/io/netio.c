/*
 * netio.c — network checkpoints: a data-only binary file (doc/formats.md).
 *
 *   magic "\x89DLN\r\n\x1a\n" · u32 version · u32 flags · u32 L · u32 cost ·
 *   u32 sizes[L+1] · per layer { u32 act · f32 c · u32 frozen · u32 per_neuron ·
 *   [u8 acts[n_out], zero-padded to 4] } · u64 count · f32 values[count]
 *   (per layer W row-major then b) · u32 CRC-32 of every byte before it.
 *
 * Everything little-endian. The magic catches text-mode mangling (\r\n, ^Z)
 * the way PNG's does. Saves go through dl_save (save.h): the real name holds
 * the old checkpoint or the whole new one, and nothing is left behind.
 */
#include "../net.h"
#include "../save.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>

#define NETIO_VERSION 1u
static const unsigned char magic[8] = { 0x89, 'D', 'L', 'N', '\r', '\n', 0x1a, '\n' };

/* ----------------------------------------------------------------- writing */

typedef struct writer {
    dl_save *s;
    uLong crc;         /* of this checkpoint's bytes */
    uLong *outer;      /* of the file embedding it, or NULL */
} writer;

static void put(writer *w, const void *p, size_t n)
{
    dl_save_write(w->s, p, n);   /* a failure is kept and reported at commit */
    w->crc = crc32_z(w->crc, p, n);
    if (w->outer)
        *w->outer = crc32_z(*w->outer, p, n);
}

static void put_u32(writer *w, uint32_t v)
{
    unsigned char b[4] = { (unsigned char)v, (unsigned char)(v >> 8),
                           (unsigned char)(v >> 16), (unsigned char)(v >> 24) };
    put(w, b, 4);
}

static void put_u64(writer *w, uint64_t v)
{
    put_u32(w, (uint32_t)v);
    put_u32(w, (uint32_t)(v >> 32));
}

static uint32_t f2u(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* Floats as little-endian bytes, through a small buffer. */
static void put_floats(writer *w, const float *x, size_t n)
{
    unsigned char buf[4096];
    while (n) {
        size_t k = n < sizeof buf / 4 ? n : sizeof buf / 4;
        for (size_t i = 0; i < k; i++) {
            uint32_t u = f2u(x[i]);
            buf[4 * i] = (unsigned char)u;
            buf[4 * i + 1] = (unsigned char)(u >> 8);
            buf[4 * i + 2] = (unsigned char)(u >> 16);
            buf[4 * i + 3] = (unsigned char)(u >> 24);
        }
        put(w, buf, 4 * k);
        x += k;
        n -= k;
    }
}

static size_t value_count(const net *n)
{
    size_t c = 0;
    for (int l = 0; l < n->L; l++)
        c += mat_size(n->layers[l].W) + (size_t)n->layers[l].n_out;
    return c;
}

static void write_net(writer *w, const net *n)
{
    net_settle_weights(n);   /* W¹ as it is, a batch-1 step's update made */
    put(w, magic, sizeof magic);
    put_u32(w, NETIO_VERSION);
    put_u32(w, 0);
    put_u32(w, (uint32_t)n->L);
    put_u32(w, (uint32_t)n->cost);
    for (int l = 0; l <= n->L; l++)
        put_u32(w, (uint32_t)n->sizes[l]);
    for (int l = 0; l < n->L; l++) {
        const layer *ly = &n->layers[l];
        put_u32(w, (uint32_t)ly->act);
        put_u32(w, f2u(ly->c));
        put_u32(w, (uint32_t)((ly->frozen_W ? 1 : 0) | (ly->frozen_b ? 2 : 0)));
        put_u32(w, ly->neuron_act ? 1 : 0);
        if (ly->neuron_act) {
            static const unsigned char zeros[4] = { 0 };
            put(w, ly->neuron_act, (size_t)ly->n_out);
            put(w, zeros, (4 - ly->n_out % 4) % 4);
        }
    }
    put_u64(w, value_count(n));
    for (int l = 0; l < n->L; l++) {
        put_floats(w, n->layers[l].W.data, mat_size(n->layers[l].W));
        put_floats(w, n->layers[l].b.data, (size_t)n->layers[l].n_out);
    }
    uint32_t crc = (uint32_t)w->crc;
    put_u32(w, crc);
}

dl_status net_save(const net *n, const char *path, char *msg, size_t msglen)
{
    dl_save sv;
    dl_status s = dl_save_begin(&sv, path, msg, msglen);
    if (s != DL_OK)
        return s;
    net_write_embedded(n, &sv, NULL);
    return dl_save_commit(&sv, msg, msglen);   /* also reports a failed write */
}

void net_write_embedded(const net *n, dl_save *s, unsigned long *crc)
{
    writer w = { s, crc32(0, NULL, 0), (uLong *)crc };
    write_net(&w, n);
}

uint64_t net_checkpoint_size(const net *n)
{
    uint64_t bytes = sizeof magic + 16 + 4 * ((uint64_t)n->L + 1);
    for (int l = 0; l < n->L; l++)
        bytes += 16 + (n->layers[l].neuron_act ? ((uint64_t)n->layers[l].n_out + 3) & ~3ull : 0);
    return bytes + 8 + 4 * (uint64_t)value_count(n) + 4;
}

/* ----------------------------------------------------------------- reading */

typedef struct reader {
    const unsigned char *p;
    size_t len, pos;   /* bytes available (without the checksum), cursor */
} reader;

static int get_u32(reader *r, uint32_t *v)
{
    if (r->len - r->pos < 4)
        return 0;
    const unsigned char *b = r->p + r->pos;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    r->pos += 4;
    return 1;
}

static float u2f(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Parse and check everything in buf[0..len) (the checksum already split
 * off); on success *out is the new network. */
static dl_status parse(net **out, const unsigned char *buf, size_t len, char *msg, size_t msglen)
{
    reader r = { buf, len, sizeof magic };
    uint32_t version, flags, L, cost, u;
    if (!get_u32(&r, &version) || !get_u32(&r, &flags) || !get_u32(&r, &L) || !get_u32(&r, &cost))
        return dl_fail(DL_EFORMAT, msg, msglen, "truncated header");
    if (version > NETIO_VERSION)
        return dl_fail(DL_EFORMAT, msg, msglen, "format version %u is newer than this "
                       "deltalab reads (%u); upgrade deltalab", (unsigned)version,
                       NETIO_VERSION);
    if (version == 0 || flags != 0)
        return dl_fail(DL_EFORMAT, msg, msglen, "corrupt header (version %u, flags %u)",
                       (unsigned)version, (unsigned)flags);
    if (L < 1 || L > NET_MAX_LAYERS || cost >= DL_COST_COUNT)
        return dl_fail(DL_EFORMAT, msg, msglen, "corrupt header (%u layers, cost %u)",
                       (unsigned)L, (unsigned)cost);
    int sizes[NET_MAX_LAYERS + 1];
    for (uint32_t l = 0; l <= L; l++) {
        if (!get_u32(&r, &u))
            return dl_fail(DL_EFORMAT, msg, msglen, "truncated header");
        if (u < 1 || u > (1u << 24))
            return dl_fail(DL_EFORMAT, msg, msglen, "corrupt header (layer size %u)",
                           (unsigned)u);
        sizes[l] = (int)u;
    }
    dl_act acts[NET_MAX_LAYERS];
    float cs[NET_MAX_LAYERS];
    uint32_t frozen[NET_MAX_LAYERS];
    size_t neuron_pos[NET_MAX_LAYERS];
    for (uint32_t l = 0; l < L; l++) {
        uint32_t act, c, per;
        if (!get_u32(&r, &act) || !get_u32(&r, &c) || !get_u32(&r, &frozen[l]) || !get_u32(&r, &per))
            return dl_fail(DL_EFORMAT, msg, msglen, "truncated header");
        cs[l] = u2f(c);
        if (act >= DL_ACT_COUNT || !(cs[l] > 0) || frozen[l] > 3 || per > 1)
            return dl_fail(DL_EFORMAT, msg, msglen, "corrupt header (layer %u)",
                           (unsigned)l + 1);
        /* A softmax couples the whole layer, so it has no per-neuron form. */
        if (per && act == DL_SOFTMAX)
            return dl_fail(DL_EFORMAT, msg, msglen, "corrupt header (layer %u: per-neuron "
                           "activations on a softmax layer)", (unsigned)l + 1);
        if ((uint64_t)sizes[l + 1] * (uint64_t)sizes[l] > (1ull << 31))
            return dl_fail(DL_EFORMAT, msg, msglen, "corrupt header (layer %u: %dx%d weights, "
                           "more than 2^31)", (unsigned)l + 1, sizes[l + 1], sizes[l]);
        acts[l] = (dl_act)act;
        neuron_pos[l] = 0;
        if (per) {
            size_t n = (size_t)sizes[l + 1], padded = (n + 3) & ~(size_t)3;
            if (r.len - r.pos < padded)
                return dl_fail(DL_EFORMAT, msg, msglen, "truncated header");
            for (size_t j = 0; j < n; j++)
                if (buf[r.pos + j] >= DL_ACT_COUNT || buf[r.pos + j] == DL_SOFTMAX)
                    return dl_fail(DL_EFORMAT, msg, msglen, "corrupt header (layer %u "
                                   "activations)", (unsigned)l + 1);
            neuron_pos[l] = r.pos;
            r.pos += padded;
        }
    }
    uint32_t lo, hi;
    if (!get_u32(&r, &lo) || !get_u32(&r, &hi))
        return dl_fail(DL_EFORMAT, msg, msglen, "truncated header");
    uint64_t count = (uint64_t)hi << 32 | lo, want = 0;
    for (uint32_t l = 0; l < L; l++)
        want += (uint64_t)sizes[l + 1] * sizes[l] + sizes[l + 1];
    if (count != want)
        return dl_fail(DL_EFORMAT, msg, msglen, "corrupt header (%llu values for an "
                       "architecture of %llu)", (unsigned long long)count,
                       (unsigned long long)want);
    if ((r.len - r.pos) / 4 < count)
        return dl_fail(DL_EFORMAT, msg, msglen, "truncated (%llu parameters expected, room "
                       "for %llu)", (unsigned long long)count,
                       (unsigned long long)((r.len - r.pos) / 4));
    if (r.len - r.pos != count * 4)
        return dl_fail(DL_EFORMAT, msg, msglen, "%llu unexpected bytes after the parameters",
                       (unsigned long long)(r.len - r.pos - count * 4));

    net *n;
    dl_status s = net_new(&n, (int)L, sizes, acts, (dl_cost)cost);
    if (s != DL_OK)
        return dl_fail(s, msg, msglen, "%s", dl_strerror(s));
    for (uint32_t l = 0; l < L; l++) {
        layer *ly = &n->layers[l];
        ly->c = acts[l] == DL_SOFTMAX ? cs[l] : 1.0f;
        ly->frozen_W = frozen[l] & 1;
        ly->frozen_b = (frozen[l] >> 1) & 1;
        if (neuron_pos[l])
            for (int j = 0; j < ly->n_out; j++)
                if ((s = net_set_neuron_act(n, (int)l, j, (dl_act)buf[neuron_pos[l] + j])) != DL_OK) {
                    net_free(n);
                    return dl_fail(s, msg, msglen, "%s", dl_strerror(s));
                }
        float *dst[2] = { ly->W.data, ly->b.data };
        size_t cnt[2] = { mat_size(ly->W), (size_t)ly->n_out };
        for (int part = 0; part < 2; part++)
            for (size_t i = 0; i < cnt[part]; i++) {
                get_u32(&r, &u);
                dst[part][i] = u2f(u);
            }
    }
    *out = n;
    return DL_OK;
}

/* The start of a file, read on demand into a growing buffer. */
typedef struct inbuf {
    FILE *f;
    unsigned char *p;
    size_t len, cap;
    int err;           /* errno of a failed read, or ENOMEM; 0 at a plain end */
} inbuf;

/* Make the first n bytes available: 1 when they are, 0 when the file ends
 * first or a read fails (err says which). The buffer grows as data arrives
 * (doubling, never past n), so a header that asks for much more than a pipe
 * delivers costs only what was delivered. */
static int fill(inbuf *in, size_t n)
{
    while (in->len < n) {
        if (in->len == in->cap) {
            size_t cap = !in->cap ? 4096 : in->cap > n / 2 ? n : in->cap * 2;
            if (cap > n)
                cap = n;
            unsigned char *p = realloc(in->p, cap);
            if (!p) {
                in->err = ENOMEM;
                return 0;
            }
            in->p = p;
            in->cap = cap;
        }
        size_t got = fread(in->p + in->len, 1, in->cap - in->len, in->f);
        in->len += got;
        if (got == 0) {
            if (ferror(in->f))
                in->err = errno ? errno : EIO;
            return 0;
        }
    }
    return 1;
}

static uint32_t le32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/*
 * The length the header gives the whole file, reading the header only as
 * far as it needs: an input that is no checkpoint (/dev/zero, a FIFO, a huge
 * wrong file) is refused after a few bytes instead of being read to its end.
 * 0 when the header is cut short or makes no sense; parse() then says which.
 */
static uint64_t expected_length(inbuf *in)
{
    size_t pos = sizeof magic;
    if (!fill(in, pos + 16))
        return 0;
    uint32_t L = le32(in->p + pos + 8), sizes[NET_MAX_LAYERS + 1];
    if (L < 1 || L > NET_MAX_LAYERS)
        return 0;
    pos += 16;
    if (!fill(in, pos + 4 * ((size_t)L + 1)))
        return 0;
    for (uint32_t l = 0; l <= L; l++) {
        sizes[l] = le32(in->p + pos + 4 * l);
        if (sizes[l] < 1 || sizes[l] > (1u << 24))
            return 0;
    }
    pos += 4 * ((size_t)L + 1);
    for (uint32_t l = 0; l < L; l++) {   /* act, c, frozen, per_neuron [, acts] */
        if (!fill(in, pos + 16))
            return 0;
        uint32_t per = le32(in->p + pos + 12);
        if (per > 1)
            return 0;
        pos += 16 + (per ? ((size_t)sizes[l + 1] + 3) & ~(size_t)3 : 0);
    }
    if (!fill(in, pos + 8))
        return 0;
    uint64_t count = le32(in->p + pos) | (uint64_t)le32(in->p + pos + 4) << 32, want = 0;
    for (uint32_t l = 0; l < L; l++)
        want += (uint64_t)sizes[l + 1] * sizes[l] + sizes[l + 1];
    if (count != want)
        return 0;
    return pos + 8 + 4 * count + 4;
}

dl_status net_load(net **out, const char *path, char *msg, size_t msglen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return dl_fail(DL_EIO, msg, msglen, "%s", strerror(errno));
    struct stat st;
    int regular = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
    inbuf in = { f, NULL, 0, 0, 0 };
    dl_status s = DL_OK;
    if (!fill(&in, sizeof magic) || memcmp(in.p, magic, sizeof magic) != 0) {
        s = in.err == ENOMEM ? dl_fail(DL_ENOMEM, msg, msglen, "not enough memory")
          : in.err ? dl_fail(DL_EIO, msg, msglen, "%s", strerror(in.err))
          : dl_fail(DL_EFORMAT, msg, msglen, "not a deltalab network file (bad magic)");
        goto done;
    }
    uint64_t total = expected_length(&in);
    /* Loading needs the file in memory and the network three times over
     * (parameters, gradients, velocities): a header asking for more than
     * this machine has is refused before the body is read (a regular file
     * shorter than that is reported as truncated below). */
    size_t phys = mat_phys_memory();
    int short_file = regular && (uint64_t)st.st_size < total;
    if (total && !short_file && (total > SIZE_MAX || (phys && total > phys))) {
        s = dl_fail(DL_ENOMEM, msg, msglen, "not enough memory: the header asks for %llu "
                    "bytes, more than this machine's %.1f GB", (unsigned long long)total,
                    phys / 1e9);
        goto done;
    }
    if (total && regular && (uint64_t)st.st_size > total) {
        s = dl_fail(DL_EFORMAT, msg, msglen, "%llu unexpected bytes after the parameters",
                    (unsigned long long)((uint64_t)st.st_size - total));
        goto done;
    }
    /* A regular file shorter than the header says is read as far as it goes
     * (parse() then says "truncated"), without allocating what the header asks. */
    if (total)
        fill(&in, regular && (uint64_t)st.st_size < total ? (size_t)st.st_size : (size_t)total);
    if (total && in.len == total && !regular && fill(&in, (size_t)total + 1)) {
        s = dl_fail(DL_EFORMAT, msg, msglen, "unexpected bytes after the parameters");
        goto done;
    }
    if (in.err) {
        s = in.err == ENOMEM ? dl_fail(DL_ENOMEM, msg, msglen, "not enough memory")
                             : dl_fail(DL_EIO, msg, msglen, "%s", strerror(in.err));
        goto done;
    }
    if (!total) {
        /* The header is cut short or wrong: parse() names what. */
        s = parse(out, in.p, in.len, msg, msglen);
        if (s == DL_OK) {   /* cannot happen: parse checks what expected_length does */
            net_free(*out);
            *out = NULL;
            s = dl_fail(DL_EFORMAT, msg, msglen, "truncated header");
        }
        goto done;
    }
    /* Structure first: a cut-off file says "truncated", not "checksum". */
    uint32_t stored = le32(in.p + in.len - 4);
    uint32_t actual = (uint32_t)crc32_z(crc32(0, NULL, 0), in.p, in.len - 4);
    s = parse(out, in.p, in.len - 4, msg, msglen);
    if (s == DL_OK && stored != actual) {
        net_free(*out);
        *out = NULL;
        s = dl_fail(DL_EFORMAT, msg, msglen, "checksum mismatch (stored %08x, computed %08x): "
                    "the file is corrupt", (unsigned)stored, (unsigned)actual);
    }
done:
    fclose(f);
    free(in.p);
    return s;
}

/* ------------------------------------------- embedded in another file */

dl_status net_read_embedded(net **out, const unsigned char *buf, size_t len,
                            char *msg, size_t msglen)
{
    *out = NULL;
    if (len < sizeof magic + 4 || memcmp(buf, magic, sizeof magic) != 0)
        return dl_fail(DL_EFORMAT, msg, msglen, "not a deltalab network (bad magic)");
    uint32_t stored = le32(buf + len - 4);
    uint32_t actual = (uint32_t)crc32_z(crc32(0, NULL, 0), buf, len - 4);
    dl_status s = parse(out, buf, len - 4, msg, msglen);
    if (s == DL_OK && stored != actual) {
        net_free(*out);
        *out = NULL;
        s = dl_fail(DL_EFORMAT, msg, msglen, "network checksum mismatch (stored %08x, "
                    "computed %08x)", (unsigned)stored, (unsigned)actual);
    }
    return s;
}
