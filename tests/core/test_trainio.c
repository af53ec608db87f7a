/*
 * test_trainio.c — trainer checkpoints (src/core/io/trainio.c):
 *   - 2 epochs and 3 batches, save, read back, resume, finish: parameters and
 *     history bit-identical to an uninterrupted 4-epoch run (momentum,
 *     shuffling, validation, early stopping with best weights, step record);
 *   - the file's length is the sum doc/formats.md gives;
 *   - fingerprints change with any value and not with the storage;
 *   - a different set is refused with the reason;
 *   - truncations (every one through the header) and flipped bytes of a
 *     checkpoint are refused,
 *     a permutation that is not one is refused even with a valid checksum,
 *     and a header that promises a huge file is refused without reading it.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "io/trainio.h"
#include "toy.h"

static char dir[] = "/tmp/deltalab-trainio-XXXXXX";

static const char *in_dir(const char *name)
{
    static char buf[4][256];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 256, "%s/%s", dir, name);
    return p;
}

typedef struct set {
    mat X, y;
} set;

static set spirals(int n, uint64_t seed)
{
    set s;
    mat_new(&s.X, n, 2);
    mat_new(&s.y, n, 1);
    toy_spirals(s.X, s.y, 3, 0.2f, seed, NULL, 0);
    return s;
}

static train_data as_data(set s)
{
    train_data d = { s.X, s.y, { 0 } };
    return d;
}

static net *make_net(void)
{
    int sizes[] = { 2, 10, 3 };
    dl_act acts[] = { DL_TANH, DL_SOFTMAX };
    net *n = NULL;
    if (net_new(&n, 2, sizes, acts, DL_LOG_LIKELIHOOD) != DL_OK)
        return NULL;
    net_init(n, DL_INIT_XAVIER, 7);
    return n;
}

static train_config config(void)
{
    train_config c = train_config_default();
    c.batch = 8;
    c.epochs = 4;
    c.lr = 0.3f;
    c.momentum = 0.9f;
    c.shuffle = 1;
    c.seed = 42;
    c.patience = 10;
    c.record_steps = 1;
    c.schedule = TRAIN_STEP;
    c.step_every = 2;
    return c;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc((size_t)n + 1);
    *len = fread(p, 1, (size_t)n, f);
    fclose(f);
    return p;
}

static void spit(const char *path, const unsigned char *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    fwrite(p, 1, len, f);
    fclose(f);
}

static set train_set, val_set;

static void test_resume_is_exact(void)
{
    char msg[300];
    train_config c = config();
    net *a = make_net(), *b = make_net();
    trainer *ta, *tb;
    CHECK(train_new(&ta, a, &c, as_data(train_set), as_data(val_set), msg, sizeof msg) == DL_OK);
    CHECK(train_new(&tb, b, &c, as_data(train_set), as_data(val_set), msg, sizeof msg) == DL_OK);
    CHECK(train_run(ta, 0, NULL, NULL) == DL_OK);
    CHECK(train_run(tb, 2, NULL, NULL) == DL_OK);
    for (int i = 0; i < 3; i++)
        CHECK(train_step(tb) == DL_OK);
    CHECK(train_save(tb, in_dir("t.ckpt"), msg, sizeof msg) == DL_OK);
    CHECK(memcmp(a->params, b->params, a->n_params * sizeof(float)) != 0);  /* not there yet */

    train_ckpt *k = NULL;
    CHECK(train_ckpt_read(&k, in_dir("t.ckpt"), msg, sizeof msg) == DL_OK);
    trainer *tc = NULL;
    if (k)
        CHECK(train_resume(&tc, k, as_data(train_set), as_data(val_set), msg, sizeof msg) == DL_OK);
    if (tc) {
        net *n = k->net;
        k->net = NULL;
        train_ckpt_free(k);
        CHECK(tc->epoch == 2 && tc->pos == 24 && tc->batch_in_epoch == 3);
        CHECK(train_run(tc, 0, NULL, NULL) == DL_OK);
        CHECK(memcmp(a->params, n->params, a->n_params * sizeof(float)) == 0);
        CHECK(memcmp(a->vel, n->vel, a->n_params * sizeof(float)) == 0);
        CHECK(tc->history.n == 4 && tc->history.steps == ta->history.steps);
        CHECK(memcmp(ta->history.val_loss, tc->history.val_loss, 4 * sizeof(double)) == 0);
        CHECK(memcmp(ta->history.lr, tc->history.lr, 4 * sizeof(double)) == 0);
        CHECK(memcmp(ta->history.step_loss, tc->history.step_loss,
                     (size_t)ta->history.steps * sizeof(float)) == 0);
        CHECK(tc->best_epoch == ta->best_epoch && tc->best_metric == ta->best_metric);
        CHECK(memcmp(ta->best, tc->best, a->n_params * sizeof(float)) == 0);
        train_free(tc);
        net_free(n);
    } else {
        printf("  resume: %s\n", msg);
        train_ckpt_free(k);
    }
    train_free(ta);
    train_free(tb);
    net_free(a);
    net_free(b);
}

/* The length doc/formats.md gives: 324 + network + 4N + 4P (twice with best
 * weights) + 6·8·epochs + 4·steps + 4; the network's own length from its
 * format: 24 + 4(L+1) + 16 per layer + 8 + 4P + 4. */
static void test_length_is_documented(void)
{
    char msg[300];
    train_config c = config();
    net *n = make_net();
    trainer *t;
    CHECK(train_new(&t, n, &c, as_data(train_set), as_data(val_set), msg, sizeof msg) == DL_OK);
    CHECK(train_run(t, 1, NULL, NULL) == DL_OK);
    CHECK(train_save(t, in_dir("len.ckpt"), msg, sizeof msg) == DL_OK);
    struct stat st;
    CHECK(stat(in_dir("len.ckpt"), &st) == 0);
    size_t P = 2 * 10 + 10 + 10 * 3 + 3;   /* parameters, as checkpoints count them */
    size_t netlen = 24 + 4 * 3 + 16 * 2 + 8 + 4 * P + 4;
    size_t steps = (size_t)t->history.steps;
    CHECK(steps == 12);   /* 90 rows in batches of 8 */
    size_t want = 324 + netlen + 4 * 90 + 4 * P * 2 + 48 * 1 + 4 * steps + 4;
    CHECK((size_t)st.st_size == want);
    if ((size_t)st.st_size != want)
        printf("  size %lld, expected %zu\n", (long long)st.st_size, want);
    train_free(t);
    net_free(n);
}

static void test_fingerprint(void)
{
    train_print p = train_fingerprint(as_data(train_set));
    CHECK(p.present == 1 && p.rows == 90 && p.cols == 2 && p.kind == 1 && p.ycols == 1);
    /* The same values in other storage (a view into a wider matrix). */
    mat wide;
    mat_new(&wide, 90, 5);
    for (int i = 0; i < 90; i++)
        for (int j = 0; j < 2; j++)
            *mat_at(wide, i, j + 1) = *mat_at(train_set.X, i, j);
    train_data v = { mat_sub(wide, 0, 1, 90, 2), train_set.y, { 0 } };
    CHECK(train_fingerprint(v).hash == p.hash);
    *mat_at(wide, 45, 2) = nextafterf(*mat_at(wide, 45, 2), 1.0f);   /* one ulp */
    CHECK(train_fingerprint(v).hash != p.hash);
    *mat_at(wide, 45, 2) = *mat_at(train_set.X, 45, 1);
    float lab = *mat_at(train_set.y, 3, 0);
    *mat_at(train_set.y, 3, 0) = lab == 0 ? 1 : 0;   /* one label */
    CHECK(train_fingerprint(v).hash != p.hash);
    *mat_at(train_set.y, 3, 0) = lab;
    CHECK(train_fingerprint(v).hash == p.hash);
    train_data none;
    memset(&none, 0, sizeof none);
    CHECK(train_fingerprint(none).present == 0);
    mat_free(&wide);
}

static void test_other_set_refused(void)
{
    char msg[300] = "";
    train_ckpt *k = NULL;
    CHECK(train_ckpt_read(&k, in_dir("len.ckpt"), msg, sizeof msg) == DL_OK);
    if (!k)
        return;
    trainer *t = NULL;
    set other = spirals(90, 99);
    CHECK(train_resume(&t, k, as_data(other), as_data(val_set), msg, sizeof msg) == DL_EINVAL);
    CHECK(strstr(msg, "the training set has the checkpoint's sizes (90 x 2) but other values"));
    CHECK(train_resume(&t, k, as_data(val_set), as_data(val_set), msg, sizeof msg) == DL_EINVAL);
    CHECK(strstr(msg, "the training set is 30 x 2 with 1 column of labels, not the checkpoint's "
                      "90 x 2 with 1 column of labels"));
    train_data none;
    memset(&none, 0, sizeof none);
    CHECK(train_resume(&t, k, as_data(train_set), none, msg, sizeof msg) == DL_EINVAL);
    CHECK(strstr(msg, "made with a validation set: give it again"));
    CHECK(t == NULL && k->net != NULL);
    mat_free(&other.X);
    mat_free(&other.y);
    train_ckpt_free(k);
}

/* Every prefix and every byte changed: an error each time, never a trainer. */
static void test_damage_refused(void)
{
    size_t len;
    unsigned char *good = slurp(in_dir("len.ckpt"), &len);
    CHECK(good != NULL);
    if (!good)
        return;
    unsigned char *bad = malloc(len);
    int accepted = 0, wrong_reason = 0;
    char msg[300];
    /* every cut through the header, then one in 13 (each a file of its own) */
    for (size_t cut = 0; cut < len; cut += cut < 320 ? 1 : 13) {
        spit(in_dir("cut.ckpt"), good, cut);
        train_ckpt *k = NULL;
        dl_status s = train_ckpt_read(&k, in_dir("cut.ckpt"), msg, sizeof msg);
        accepted += s == DL_OK;
        wrong_reason += s == DL_EFORMAT && !strstr(msg, "truncated") && !strstr(msg, "bad magic");
        train_ckpt_free(k);
    }
    CHECK(accepted == 0 && wrong_reason == 0);
    for (size_t i = 0; i < len; i += 7) {
        memcpy(bad, good, len);
        bad[i] ^= 0x10;
        spit(in_dir("flip.ckpt"), bad, len);
        train_ckpt *k = NULL;
        accepted += train_ckpt_read(&k, in_dir("flip.ckpt"), msg, sizeof msg) == DL_OK;
        train_ckpt_free(k);
    }
    CHECK(accepted == 0);

    /* A valid checksum over a permutation with a repeated row. */
    memcpy(bad, good, len);
    uint32_t netlen;
    uint64_t nb = 0;
    for (int b = 0; b < 8; b++)
        nb |= (uint64_t)good[16 + b] << (8 * b);
    netlen = (uint32_t)nb;
    unsigned char *perm = bad + 324 + netlen;
    memcpy(perm + 4, perm, 4);
    uint32_t crc = (uint32_t)crc32(crc32(0, NULL, 0), bad, (uInt)(len - 4));
    for (int b = 0; b < 4; b++)
        bad[len - 4 + b] = (unsigned char)(crc >> (8 * b));
    spit(in_dir("perm.ckpt"), bad, len);
    train_ckpt *k = NULL;
    CHECK(train_ckpt_read(&k, in_dir("perm.ckpt"), msg, sizeof msg) == DL_EFORMAT);
    CHECK(strstr(msg, "corrupt sample order (not a permutation of the 90 rows)"));

    /* A header that promises 2^40 bytes of network: refused at once, from the
     * file's size, without reading or allocating them. */
    memcpy(bad, good, len);
    uint64_t huge = 1ULL << 40;
    for (int b = 0; b < 8; b++)
        bad[16 + b] = (unsigned char)(huge >> (8 * b));
    spit(in_dir("huge.ckpt"), bad, len);
    CHECK(train_ckpt_read(&k, in_dir("huge.ckpt"), msg, sizeof msg) == DL_EFORMAT);
    CHECK(strstr(msg, "truncated (") != NULL);
    free(bad);
    free(good);
}

/* Endless input: refused after the magic. */
static void test_endless_input(void)
{
    char msg[300];
    train_ckpt *k = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(train_ckpt_read(&k, "/dev/zero", msg, sizeof msg) == DL_EFORMAT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(strstr(msg, "bad magic") != NULL);
    CHECK(t1.tv_sec - t0.tv_sec < 2);
    CHECK(train_ckpt_read(&k, in_dir("none.ckpt"), msg, sizeof msg) == DL_EIO);
    CHECK(strstr(msg, "No such file or directory") != NULL);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    train_set = spirals(90, 5);
    val_set = spirals(30, 6);
    RUN(test_resume_is_exact);
    RUN(test_length_is_documented);
    RUN(test_fingerprint);
    RUN(test_other_set_refused);
    RUN(test_damage_refused);
    RUN(test_endless_input);
    mat_free(&train_set.X);
    mat_free(&train_set.y);
    mat_free(&val_set.X);
    mat_free(&val_set.y);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        perror(cmd);
    return check_summary();
}
