/* trainio.c — trainer checkpoints (see trainio.h; format in doc/formats.md). */
#include "trainio.h"
#include "../save.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define TRAINIO_VERSION 1u
#define HEADER_SIZE 324            /* magic included: the fields of header_fields */
#define PART_BEST 1u               /* parts: the best parameters are stored */
static const unsigned char magic[8] = { 0x89, 'D', 'L', 'T', '\r', '\n', 0x1a, '\n' };
static const unsigned char net_magic[8] = { 0x89, 'D', 'L', 'N', '\r', '\n', 0x1a, '\n' };

/* ------------------------------------------------------------ fingerprints */

/* FNV-1a over 32-bit words, then splitmix64's finaliser so that every bit of
 * the hash depends on every word. Values are hashed as their IEEE bits, so
 * the hash is the same on every machine. */
static uint64_t mix(uint64_t h, uint32_t w)
{
    return (h ^ w) * 0x100000001b3ULL;
}

static uint64_t hash_mat(uint64_t h, mat m)
{
    h = mix(mix(h, (uint32_t)m.rows), (uint32_t)m.cols);
    for (int i = 0; i < m.rows; i++) {
        const float *r = mat_at(m, i, 0);
        for (int j = 0; j < m.cols; j++) {
            uint32_t u;
            memcpy(&u, &r[j], 4);
            h = mix(h, u);
        }
    }
    return h;
}

train_print train_fingerprint(train_data d)
{
    train_print p;
    memset(&p, 0, sizeof p);
    if (!d.X.data)
        return p;
    p.present = 1;
    p.rows = d.X.rows;
    p.cols = d.X.cols;
    mat y = d.labels.data ? d.labels : d.targets;
    p.kind = d.labels.data ? 1 : 2;
    p.ycols = y.cols;
    uint64_t h = hash_mat(hash_mat(0xcbf29ce484222325ULL, d.X), y);
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
    p.hash = h ^ (h >> 31);
    return p;
}

/* --------------------------------------------------- the fixed header, both ways */

/* One pass over the header's fields, writing them into p or reading them
 * from it: the one list of fields both directions share. */
typedef struct hio {
    unsigned char *p;
    size_t pos;
    int writing;
} hio;

static void io_u32(hio *h, uint32_t *v)
{
    unsigned char *b = h->p + h->pos;
    if (h->writing) {
        for (int k = 0; k < 4; k++)
            b[k] = (unsigned char)(*v >> (8 * k));
    } else {
        *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    }
    h->pos += 4;
}

static void io_u64(hio *h, uint64_t *v)
{
    uint32_t lo = (uint32_t)*v, hi = (uint32_t)(*v >> 32);
    io_u32(h, &lo);
    io_u32(h, &hi);
    *v = (uint64_t)hi << 32 | lo;
}

/* A signed int as its 32-bit two's complement. */
static void io_int(hio *h, int *v)
{
    uint32_t u = (uint32_t)*v;
    io_u32(h, &u);
    int32_t s;
    memcpy(&s, &u, 4);
    *v = s;
}

static void io_f32(hio *h, float *v)
{
    uint32_t u;
    memcpy(&u, v, 4);
    io_u32(h, &u);
    memcpy(v, &u, 4);
}

static void io_f64(hio *h, double *v)
{
    uint64_t u;
    memcpy(&u, v, 8);
    io_u64(h, &u);
    memcpy(v, &u, 8);
}

#define IO_ENUM(h, field) do { int e_ = (int)(field); io_int(h, &e_); (field) = e_; } while (0)

/* The sizes of the variable parts, as the header gives them. */
typedef struct sizes {
    uint64_t net_bytes, values;   /* values: parameters counted as checkpoints do */
    int N, n_hist, n_steps;
    uint32_t parts;
} sizes;

static void io_print(hio *h, train_print *p)
{
    io_int(h, &p->present);
    io_int(h, &p->rows);
    io_int(h, &p->cols);
    io_int(h, &p->kind);
    io_int(h, &p->ycols);
    io_u64(h, &p->hash);
}

static void header_fields(hio *h, uint32_t *version, uint32_t *flags, sizes *z,
                          train_config *c, train_print *tp, train_print *vp, trainer *st)
{
    h->pos = sizeof magic;
    io_u32(h, version);
    io_u32(h, flags);
    io_u64(h, &z->net_bytes);
    io_u64(h, &z->values);
    io_int(h, &z->N);
    io_int(h, &z->n_hist);
    io_int(h, &z->n_steps);
    io_u32(h, &z->parts);

    io_int(h, &c->batch);
    io_int(h, &c->epochs);
    io_f64(h, &c->lr);
    io_f32(h, &c->lambda);
    io_f32(h, &c->momentum);
    io_int(h, &c->shuffle);
    io_u64(h, &c->seed);
    IO_ENUM(h, c->schedule);
    io_int(h, &c->step_every);
    io_f64(h, &c->step_gamma);
    io_f64(h, &c->inv_decay);
    IO_ENUM(h, c->rule);
    io_int(h, &c->patience);
    IO_ENUM(h, c->monitor);
    io_int(h, &c->restore_best);
    io_int(h, &c->record_steps);
    io_int(h, &c->eval_batch);
    IO_ENUM(h, c->on_nan);

    io_print(h, tp);
    io_print(h, vp);

    io_int(h, &st->epoch);
    io_int(h, &st->pos);
    io_int(h, &st->batch_in_epoch);
    io_f64(h, &st->lr_now);
    io_f64(h, &st->lr_custom);
    io_int(h, &st->last_rows);
    io_int(h, &st->epoch_ended);
    io_f64(h, &st->run_loss);
    io_f64(h, &st->run_correct);
    io_f64(h, &st->last_loss);
    io_f64(h, &st->best_metric);
    io_int(h, &st->best_epoch);
    io_int(h, &st->bad_epochs);
    IO_ENUM(h, st->stop);
    io_f64(h, &st->t_spent);
    for (int k = 0; k < 4; k++)
        io_u64(h, &st->rng.s[k]);
    io_f64(h, &st->rng.spare);
    io_int(h, &st->rng.has_spare);
}

/* The whole file's length from its sizes (0 when it would overflow). */
static uint64_t file_length(const sizes *z)
{
    if (z->net_bytes > (1ULL << 48) || z->values > (1ULL << 40))
        return 0;
    uint64_t floats = z->values * ((z->parts & PART_BEST) ? 2 : 1);
    return HEADER_SIZE + z->net_bytes + 4 * (uint64_t)z->N + 4 * floats
           + 6 * 8 * (uint64_t)z->n_hist + 4 * (uint64_t)z->n_steps + 4;
}

/* ------------------------------------------------------------------ writing */

typedef struct writer {
    dl_save *s;
    uLong crc;
} writer;

static void put(writer *w, const void *p, size_t n)
{
    dl_save_write(w->s, p, n);   /* a failure is kept and reported at commit */
    w->crc = crc32_z(w->crc, p, n);
}

/* n words of `width` bytes (4 or 8) as little-endian, through a buffer. */
static void put_words(writer *w, const void *src, size_t n, int width)
{
    unsigned char buf[4096];
    const unsigned char *p = src;
    size_t per = sizeof buf / (size_t)width;
    while (n) {
        size_t k = n < per ? n : per;
        for (size_t i = 0; i < k; i++) {
            uint64_t v = 0;
            if (width == 4) {
                uint32_t u;
                memcpy(&u, p + 4 * i, 4);
                v = u;
            } else {
                memcpy(&v, p + 8 * i, 8);
            }
            for (int b = 0; b < width; b++)
                buf[(size_t)width * i + (size_t)b] = (unsigned char)(v >> (8 * b));
        }
        put(w, buf, (size_t)width * k);
        p += (size_t)width * k;
        n -= k;
    }
}

/* The parameters' count, as network checkpoints count them: Σ n_out·n_in + n_out. */
static uint64_t value_count(const net *n)
{
    uint64_t c = 0;
    for (int l = 0; l < n->L; l++)
        c += (uint64_t)n->layers[l].n_out * n->layers[l].n_in + n->layers[l].n_out;
    return c;
}

/* A twin of the parameter slab (velocities, best parameters) in the order of
 * network checkpoints: per layer W row-major, then b, without the slab's
 * alignment padding (which is this build's business, not the file's). */
static void put_slab(writer *w, const net *n, const float *slab)
{
    for (int l = 0; l < n->L; l++) {
        const layer *ly = &n->layers[l];
        put_words(w, slab + (ly->W.data - n->params), (size_t)ly->n_out * ly->n_in, 4);
        put_words(w, slab + (ly->b.data - n->params), (size_t)ly->n_out, 4);
    }
}

dl_status train_save(const trainer *t, const char *path, char *msg, size_t msglen)
{
    const net *n = t->net;
    net_settle_weights(n);   /* the slabs below read params directly */
    const train_history *h = &t->history;
    sizes z = { net_checkpoint_size(n), value_count(n), t->N, h->n,
                t->cfg.record_steps ? h->steps : 0, t->best ? PART_BEST : 0 };
    train_config c = t->cfg;
    train_print tp = train_fingerprint(t->train), vp = train_fingerprint(t->val);
    trainer st = *t;   /* header_fields only reads it when writing */
    uint32_t version = TRAINIO_VERSION, flags = 0;
    unsigned char head[HEADER_SIZE];
    memcpy(head, magic, sizeof magic);
    hio hw = { head, 0, 1 };
    header_fields(&hw, &version, &flags, &z, &c, &tp, &vp, &st);

    dl_save sv;
    dl_status s = dl_save_begin(&sv, path, msg, msglen);
    if (s != DL_OK)
        return s;
    writer w = { &sv, crc32(0, NULL, 0) };
    put(&w, head, sizeof head);
    net_write_embedded(n, &sv, &w.crc);
    put_words(&w, t->perm, (size_t)t->N, 4);
    put_slab(&w, n, n->vel);
    if (t->best)
        put_slab(&w, n, t->best);
    const double *lists[] = { h->train_loss, h->train_acc, h->val_loss, h->val_acc,
                              h->seconds, h->lr };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        put_words(&w, lists[i], (size_t)h->n, 8);
    put_words(&w, h->step_loss, (size_t)z.n_steps, 4);
    uint32_t crc = (uint32_t)w.crc;
    put_words(&w, &crc, 1, 4);
    return dl_save_commit(&sv, msg, msglen);
}

/* ------------------------------------------------------------------ reading */

void train_ckpt_free(train_ckpt *c)
{
    if (!c)
        return;
    net_free(c->net);
    free(c->perm);
    dl_free(c->vel);
    dl_free(c->best);
    train_history *h = &c->history;
    free(h->train_loss); free(h->train_acc); free(h->val_loss); free(h->val_acc);
    free(h->seconds); free(h->lr); free(h->step_loss);
    free(c);
}

static int bad_print(const train_print *p, int required)
{
    if (!p->present)
        return required || p->rows || p->cols || p->kind || p->ycols || p->hash;
    return p->present != 1 || p->rows < 1 || p->cols < 1 || p->kind < 1 || p->kind > 2
           || p->ycols < 1 || (p->kind == 1 && p->ycols != 1);
}

/* The header's values that cannot be (a reason, or NULL when all can). */
static const char *check_header(const sizes *z, const train_config *c, const train_print *tp,
                                const train_print *vp, const trainer *st)
{
    if (z->N < 1 || z->n_hist < 0 || z->n_steps < 0 || (z->parts & ~PART_BEST)
        || z->net_bytes < 12 || z->values < 1)
        return "sizes";
    if (c->batch < 1 || c->epochs < 1 || (unsigned)c->shuffle > 1 || c->schedule < 0
        || c->schedule >= TRAIN_SCHEDULE_COUNT || c->step_every < 1 || c->rule < 0
        || c->rule >= TRAIN_RULE_COUNT || c->patience < 0 || c->monitor < 0
        || c->monitor >= TRAIN_MONITOR_COUNT || (unsigned)c->restore_best > 1
        || (unsigned)c->record_steps > 1 || c->eval_batch < 1
        || (unsigned)c->on_nan >= TRAIN_ON_NAN_COUNT
        || (!c->record_steps && z->n_steps != 0))
        return "configuration";
    int best_kept = c->patience > 0 && c->restore_best;
    if (best_kept != !!(z->parts & PART_BEST))
        return "best parameters";
    if (bad_print(tp, 1) || bad_print(vp, 0) || tp->rows != z->N)
        return "data fingerprints";
    if (st->epoch < 0 || st->epoch != z->n_hist || st->pos < 0 || st->pos >= z->N
        || st->pos % c->batch != 0 || st->batch_in_epoch < 0
        || (st->pos > 0 && st->batch_in_epoch != st->pos / c->batch)
        || st->batch_in_epoch > (z->N - 1) / c->batch + 1   /* at an epoch's end: all of it */
        || st->last_rows < 0 || st->last_rows > c->batch || (unsigned)st->epoch_ended > 1
        || st->best_epoch < 0 || st->best_epoch > st->epoch || st->bad_epochs < 0
        || st->stop < TRAIN_RUNNING || st->stop > TRAIN_CALLER
        || (unsigned)st->rng.has_spare > 1)
        return "training state";
    if ((st->rng.s[0] | st->rng.s[1] | st->rng.s[2] | st->rng.s[3]) == 0)
        return "random state";
    return NULL;
}

/* Read what the header says the file holds, and not a byte more: a regular
 * file must be exactly `total` bytes long; another (a pipe) is read as far
 * as total, into a buffer that grows only as bytes arrive. */
static dl_status read_body(FILE *f, int regular, uint64_t size, uint64_t total,
                           unsigned char **out, char *msg, size_t msglen)
{
    *out = NULL;
    if (regular && size < total)
        return dl_fail(DL_EFORMAT, msg, msglen, "truncated (%llu bytes expected, the file "
                       "has %llu)", (unsigned long long)total, (unsigned long long)size);
    if (regular && size > total)
        return dl_fail(DL_EFORMAT, msg, msglen, "%llu unexpected bytes after the end",
                       (unsigned long long)(size - total));
    if (total > SIZE_MAX)
        return dl_fail(DL_ENOMEM, msg, msglen, "not enough memory for %llu bytes",
                       (unsigned long long)total);
    size_t cap = regular ? (size_t)total : (total < 65536 ? (size_t)total : 65536);
    unsigned char *buf = malloc(cap);
    if (!buf)
        return dl_fail(DL_ENOMEM, msg, msglen, "not enough memory for %zu bytes", cap);
    size_t len = HEADER_SIZE;   /* the caller has read the header; it is copied in later */
    while (len < total) {
        if (len == cap) {
            size_t ncap = cap > (size_t)total / 2 ? (size_t)total : 2 * cap;
            unsigned char *p = realloc(buf, ncap);
            if (!p) {
                free(buf);
                return dl_fail(DL_ENOMEM, msg, msglen, "not enough memory for %zu bytes", ncap);
            }
            buf = p;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        if (got == 0)
            break;
        len += got;
    }
    if (len < total) {
        int err = ferror(f) ? (errno ? errno : EIO) : 0;
        free(buf);
        return err ? dl_fail(DL_EIO, msg, msglen, "%s", strerror(err))
                   : dl_fail(DL_EFORMAT, msg, msglen, "truncated (%llu bytes expected, "
                             "%zu read)", (unsigned long long)total, len);
    }
    if (!regular && fgetc(f) != EOF) {
        free(buf);
        return dl_fail(DL_EFORMAT, msg, msglen, "unexpected bytes after the end");
    }
    *out = buf;
    return DL_OK;
}

static uint32_t le32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* n little-endian words of `width` bytes from *p into dst (advancing *p). */
static void get_words(const unsigned char **p, void *dst, size_t n, int width)
{
    unsigned char *d = dst;
    for (size_t i = 0; i < n; i++) {
        uint64_t v = 0;
        for (int b = 0; b < width; b++)
            v |= (uint64_t)(*p)[b] << (8 * b);
        if (width == 4) {
            uint32_t u = (uint32_t)v;
            memcpy(d + 4 * i, &u, 4);
        } else {
            memcpy(d + 8 * i, &v, 8);
        }
        *p += width;
    }
}

/* Read a slab twin written by put_slab into slab (n->n_params, zeroed). */
static void get_slab(const unsigned char **p, const net *n, float *slab)
{
    for (int l = 0; l < n->L; l++) {
        const layer *ly = &n->layers[l];
        get_words(p, slab + (ly->W.data - n->params), (size_t)ly->n_out * ly->n_in, 4);
        get_words(p, slab + (ly->b.data - n->params), (size_t)ly->n_out, 4);
    }
}

/* The body after the header: the network, then the arrays (sizes already
 * checked against the file's length, checksum against its bytes). */
static dl_status parse_body(train_ckpt *c, const sizes *z, const unsigned char *buf,
                            char *msg, size_t msglen)
{
    const unsigned char *p = buf + HEADER_SIZE;
    char why[200];
    dl_status s = net_read_embedded(&c->net, p, (size_t)z->net_bytes, why, sizeof why);
    if (s != DL_OK)
        return dl_fail(s, msg, msglen, "its network: %s", why);
    p += z->net_bytes;
    if (value_count(c->net) != z->values)
        return dl_fail(DL_EFORMAT, msg, msglen, "corrupt header (%llu parameters for a "
                       "network of %llu)", (unsigned long long)z->values,
                       (unsigned long long)value_count(c->net));
    train_history *h = &c->history;
    size_t hist = z->n_hist ? (size_t)z->n_hist : 1;
    c->perm = malloc((size_t)z->N * sizeof(int));
    size_t slab = c->net->n_params;
    c->vel = dl_calloc(slab);
    c->best = (z->parts & PART_BEST) ? dl_calloc(slab) : NULL;
    double **lists[] = { &h->train_loss, &h->train_acc, &h->val_loss, &h->val_acc,
                         &h->seconds, &h->lr };
    int ok = c->perm && c->vel && (c->best || !(z->parts & PART_BEST));
    for (size_t i = 0; i < 6; i++)
        ok = (*lists[i] = malloc(hist * sizeof(double))) != NULL && ok;
    h->step_loss = malloc((z->n_steps ? (size_t)z->n_steps : 1) * sizeof(float));
    if (!ok || !h->step_loss)
        return dl_fail(DL_ENOMEM, msg, msglen, "not enough memory for a trainer of %d rows",
                       z->N);
    get_words(&p, c->perm, (size_t)z->N, 4);
    get_slab(&p, c->net, c->vel);
    if (c->best)
        get_slab(&p, c->net, c->best);
    for (size_t i = 0; i < 6; i++)
        get_words(&p, *lists[i], (size_t)z->n_hist, 8);
    get_words(&p, h->step_loss, (size_t)z->n_steps, 4);
    h->n = h->cap = z->n_hist;
    h->steps = h->step_cap = z->n_steps;

    /* The permutation indexes the training rows: it must be one. */
    unsigned char *seen = calloc((size_t)z->N, 1);
    if (!seen)
        return dl_fail(DL_ENOMEM, msg, msglen, "not enough memory for a trainer of %d rows",
                       z->N);
    int perm_ok = 1;
    for (int i = 0; i < z->N && perm_ok; i++) {
        int k = c->perm[i];
        perm_ok = k >= 0 && k < z->N && !seen[k];
        if (perm_ok)
            seen[k] = 1;
    }
    free(seen);
    if (!perm_ok)
        return dl_fail(DL_EFORMAT, msg, msglen, "corrupt sample order (not a permutation "
                       "of the %d rows)", z->N);
    return DL_OK;
}

dl_status train_ckpt_read(train_ckpt **out, const char *path, char *msg, size_t msglen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return dl_fail(DL_EIO, msg, msglen, "%s", strerror(errno));
    struct stat fs;
    int regular = fstat(fileno(f), &fs) == 0 && S_ISREG(fs.st_mode);
    unsigned char head[HEADER_SIZE];
    unsigned char *buf = NULL;
    train_ckpt *c = calloc(1, sizeof *c);
    dl_status s = DL_OK;
    size_t got = fread(head, 1, sizeof magic, f);
    if (!c) {
        s = dl_fail(DL_ENOMEM, msg, msglen, "not enough memory");
    } else if (got == sizeof magic && memcmp(head, net_magic, sizeof magic) == 0) {
        s = dl_fail(DL_EFORMAT, msg, msglen, "a network checkpoint, not a trainer's "
                    "(network.load reads it)");
    } else if (got < sizeof magic || memcmp(head, magic, sizeof magic) != 0) {
        s = ferror(f) ? dl_fail(DL_EIO, msg, msglen, "%s", strerror(errno ? errno : EIO))
                      : dl_fail(DL_EFORMAT, msg, msglen, "not a deltalab trainer checkpoint "
                                "(bad magic)");
    } else if (fread(head + sizeof magic, 1, HEADER_SIZE - sizeof magic, f)
               != HEADER_SIZE - sizeof magic) {
        s = ferror(f) ? dl_fail(DL_EIO, msg, msglen, "%s", strerror(errno ? errno : EIO))
                      : dl_fail(DL_EFORMAT, msg, msglen, "truncated header");
    }
    if (s != DL_OK)
        goto done;

    uint32_t version, flags;
    sizes z;
    hio hr = { head, 0, 0 };
    header_fields(&hr, &version, &flags, &z, &c->cfg, &c->train, &c->val, &c->state);
    if (version > TRAINIO_VERSION) {
        s = dl_fail(DL_EFORMAT, msg, msglen, "format version %u is newer than this deltalab "
                    "reads (%u); upgrade deltalab", (unsigned)version, TRAINIO_VERSION);
        goto done;
    }
    const char *bad = version == 0 || flags != 0 ? "version or flags"
                    : check_header(&z, &c->cfg, &c->train, &c->val, &c->state);
    uint64_t total = bad ? 0 : file_length(&z);
    if (bad || total == 0) {
        s = dl_fail(DL_EFORMAT, msg, msglen, "corrupt header (%s)", bad ? bad : "sizes");
        goto done;
    }
    s = read_body(f, regular, (uint64_t)fs.st_size, total, &buf, msg, msglen);
    if (s != DL_OK)
        goto done;
    memcpy(buf, head, HEADER_SIZE);
    uint32_t stored = le32(buf + total - 4);
    uint32_t actual = (uint32_t)crc32_z(crc32(0, NULL, 0), buf, (size_t)total - 4);
    if (stored != actual) {
        s = dl_fail(DL_EFORMAT, msg, msglen, "checksum mismatch (stored %08x, computed %08x): "
                    "the file is corrupt", (unsigned)stored, (unsigned)actual);
        goto done;
    }
    c->state.N = z.N;
    s = parse_body(c, &z, buf, msg, msglen);
done:
    fclose(f);
    free(buf);
    if (s != DL_OK) {
        train_ckpt_free(c);
        return s;
    }
    *out = c;
    return DL_OK;
}

/* --------------------------------------------------------------- resuming */

static const char *kind_name(int kind)
{
    return kind == 1 ? "labels" : "targets";
}

/* Whether the set `what` matches its fingerprint; else the reason in msg. */
static dl_status same_set(const char *what, const train_print *want, train_data d,
                          char *msg, size_t msglen)
{
    train_print got = train_fingerprint(d);
    if (want->present != got.present)
        return dl_fail(DL_EINVAL, msg, msglen, want->present
                       ? "the checkpoint was made with a %s set: give it again"
                       : "the checkpoint was made without a %s set, but one was given", what);
    if (!got.present)
        return DL_OK;
    if (want->rows != got.rows || want->cols != got.cols || want->kind != got.kind
        || want->ycols != got.ycols)
        return dl_fail(DL_EINVAL, msg, msglen, "the %s set is %d x %d with %d column%s of "
                       "%s, not the checkpoint's %d x %d with %d column%s of %s", what,
                       got.rows, got.cols, got.ycols, got.ycols == 1 ? "" : "s",
                       kind_name(got.kind), want->rows, want->cols, want->ycols,
                       want->ycols == 1 ? "" : "s", kind_name(want->kind));
    if (want->hash != got.hash)
        return dl_fail(DL_EINVAL, msg, msglen, "the %s set has the checkpoint's sizes (%d x %d) "
                       "but other values (fingerprint %016llx, the checkpoint's %016llx)",
                       what, got.rows, got.cols, (unsigned long long)got.hash,
                       (unsigned long long)want->hash);
    return DL_OK;
}

dl_status train_resume(trainer **out, train_ckpt *c, train_data train, train_data val,
                       char *msg, size_t msglen)
{
    *out = NULL;
    dl_status s = same_set("training", &c->train, train, msg, msglen);
    if (s == DL_OK)
        s = same_set("validation", &c->val, val, msg, msglen);
    if (s != DL_OK)
        return s;
    trainer *t;
    if ((s = train_new(&t, c->net, &c->cfg, train, val, msg, msglen)) != DL_OK)
        return s;
    const train_history *from = &c->history;
    if ((s = train_history_fit(t, from->n, from->steps)) != DL_OK) {
        train_free(t);
        return dl_fail(s, msg, msglen, "not enough memory for the history of %d epochs",
                       from->n);
    }
    const trainer *st = &c->state;
    t->epoch = st->epoch;
    t->pos = st->pos;
    t->batch_in_epoch = st->batch_in_epoch;
    t->lr_now = st->lr_now;
    t->lr_custom = st->lr_custom;
    t->run_loss = st->run_loss;
    t->run_correct = st->run_correct;
    t->last_loss = st->last_loss;
    t->last_rows = st->last_rows;
    t->epoch_ended = st->epoch_ended;
    t->best_metric = st->best_metric;
    t->best_epoch = st->best_epoch;
    t->bad_epochs = st->bad_epochs;
    t->stop = st->stop;
    t->t_spent = st->t_spent;
    t->rng = st->rng;
    memcpy(t->perm, c->perm, (size_t)t->N * sizeof(int));
    memcpy(c->net->vel, c->vel, c->net->n_params * sizeof(float));
    if (t->best)
        memcpy(t->best, c->best, c->net->n_params * sizeof(float));
    train_history *h = &t->history;
    double *const to_lists[] = { h->train_loss, h->train_acc, h->val_loss, h->val_acc,
                                 h->seconds, h->lr };
    double *const from_lists[] = { from->train_loss, from->train_acc, from->val_loss,
                                   from->val_acc, from->seconds, from->lr };
    for (size_t i = 0; i < 6 && from->n > 0; i++)
        memcpy(to_lists[i], from_lists[i], (size_t)from->n * sizeof(double));
    h->n = from->n;
    if (from->steps > 0)   /* no step record: step_loss may be NULL */
        memcpy(h->step_loss, from->step_loss, (size_t)from->steps * sizeof(float));
    h->steps = from->steps;
    *out = t;
    return DL_OK;
}
