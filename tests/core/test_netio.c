/*
 * test_netio.c — checkpoints: a bit-exact round trip, and every damaged file
 * refused with a reason: each truncation length, each flipped byte, a foreign
 * file, a newer version, a missing file, an unwritable directory.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "net.h"

static char dir[64], path[128];

static net *sample_net(void)
{
    net *n;
    int sizes[] = { 5, 4, 3 };
    dl_act acts[] = { DL_TANH, DL_SOFTMAX };
    net_new(&n, 2, sizes, acts, DL_LOG_LIKELIHOOD);
    net_init(n, DL_INIT_NIELSEN, 11);
    n->layers[0].frozen_b = 1;
    n->layers[1].c = 2.5f;
    net_set_neuron_act(n, 0, 2, DL_RELU);
    n->layers[0].W.data[3] = -0.0f;      /* the sign of zero survives too */
    return n;
}

static unsigned char *slurp(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    unsigned char *b = malloc(*len + 1);
    if (fread(b, 1, *len, f) != *len) { free(b); b = NULL; }
    fclose(f);
    return b;
}

static void spit(const char *p, const unsigned char *b, size_t len)
{
    FILE *f = fopen(p, "wb");
    fwrite(b, 1, len, f);
    fclose(f);
}

static void test_round_trip(void)
{
    net *n = sample_net(), *m = NULL;
    char msg[256];
    CHECK(net_save(n, path, msg, sizeof msg) == DL_OK);
    CHECK(net_load(&m, path, msg, sizeof msg) == DL_OK);
    if (!m) return;
    CHECK(m->L == 2 && m->cost == DL_LOG_LIKELIHOOD && m->sizes[0] == 5 && m->sizes[2] == 3);
    CHECK(m->layers[1].act == DL_SOFTMAX && m->layers[1].c == 2.5f);
    CHECK(m->layers[0].frozen_b == 1 && m->layers[0].frozen_W == 0);
    CHECK(net_neuron_act(m, 0, 2) == DL_RELU && net_neuron_act(m, 0, 1) == DL_TANH);
    for (int l = 0; l < 2; l++) {
        CHECK(memcmp(n->layers[l].W.data, m->layers[l].W.data,
                     mat_size(n->layers[l].W) * sizeof(float)) == 0);
        CHECK(memcmp(n->layers[l].b.data, m->layers[l].b.data,
                     (size_t)n->layers[l].n_out * sizeof(float)) == 0);
    }
    /* saving the loaded net gives the same bytes */
    char path2[160];
    snprintf(path2, sizeof path2, "%s/again.dln", dir);
    net_save(m, path2, msg, sizeof msg);
    size_t l1, l2;
    unsigned char *a = slurp(path, &l1), *b = slurp(path2, &l2);
    CHECK(a && b && l1 == l2 && memcmp(a, b, l1) == 0);
    free(a); free(b);
    unlink(path2);
    net_free(n);
    net_free(m);
}

static void test_every_truncation_refused(void)
{
    net *n = sample_net(), *m;
    char msg[256], cut[160];
    net_save(n, path, msg, sizeof msg);
    size_t len;
    unsigned char *b = slurp(path, &len);
    snprintf(cut, sizeof cut, "%s/cut.dln", dir);
    int refused = 0, said_truncated = 0;
    for (size_t k = 0; k < len; k++) {
        spit(cut, b, k);
        msg[0] = 0;
        dl_status s = net_load(&m, cut, msg, sizeof msg);
        refused += s == DL_EFORMAT && m == NULL;
        said_truncated += strstr(msg, "truncated") != NULL;
    }
    CHECK(refused == (int)len);
    CHECK(said_truncated >= (int)len - 12);   /* all but the first bytes, which lack the magic */
    unlink(cut);
    free(b);
    net_free(n);
}

static void test_every_flipped_byte_refused(void)
{
    net *n = sample_net(), *m;
    char msg[256];
    net_save(n, path, msg, sizeof msg);
    size_t len;
    unsigned char *b = slurp(path, &len);
    char bad[160];
    snprintf(bad, sizeof bad, "%s/bad.dln", dir);
    int refused = 0, checksum = 0;
    for (size_t k = 0; k < len; k++) {
        b[k] ^= 0x10;
        spit(bad, b, len);
        b[k] ^= 0x10;
        dl_status s = net_load(&m, bad, msg, sizeof msg);
        refused += s == DL_EFORMAT && m == NULL;
        checksum += strstr(msg, "checksum mismatch") != NULL;
        if (m) net_free(m);
    }
    CHECK(refused == (int)len);
    CHECK(checksum > (int)len / 2);    /* the parameters are most of the file */
    unlink(bad);
    free(b);
    net_free(n);
}

static void test_foreign_newer_missing(void)
{
    net *n = sample_net(), *m;
    char msg[256], other[160];
    snprintf(other, sizeof other, "%s/other.dln", dir);
    spit(other, (const unsigned char *)"return {1,2,3}\n", 15);
    CHECK(net_load(&m, other, msg, sizeof msg) == DL_EFORMAT);
    CHECK(strstr(msg, "bad magic") != NULL);
    spit(other, (const unsigned char *)"", 0);
    CHECK(net_load(&m, other, msg, sizeof msg) == DL_EFORMAT);

    net_save(n, path, msg, sizeof msg);
    size_t len;
    unsigned char *b = slurp(path, &len);
    b[8] = 2;                                 /* version 2, checksum made valid */
    uint32_t crc = (uint32_t)crc32(0, b, (uInt)(len - 4));
    for (int i = 0; i < 4; i++) b[len - 4 + i] = (unsigned char)(crc >> (8 * i));
    spit(other, b, len);
    CHECK(net_load(&m, other, msg, sizeof msg) == DL_EFORMAT);
    CHECK(strstr(msg, "newer") != NULL);
    free(b);

    CHECK(net_load(&m, "/nonexistent/x.dln", msg, sizeof msg) == DL_EIO);
    CHECK(strstr(msg, "No such file") != NULL);
    CHECK(net_save(n, "/nonexistent/x.dln", msg, sizeof msg) == DL_EIO);
    unlink(other);
    net_free(n);
}

/* A failed save leaves no temporary file and the old file intact. */
static void test_save_is_atomic(void)
{
    net *n = sample_net();
    char msg[256];
    net_save(n, path, msg, sizeof msg);
    size_t len;
    unsigned char *before = slurp(path, &len);
    n->layers[0].W.data[0] = 42;
    net_save(n, path, msg, sizeof msg);
    size_t len2;
    unsigned char *after = slurp(path, &len2);
    CHECK(len == len2 && memcmp(before, after, len) != 0);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c tmp >/dev/null", dir);
    CHECK(system(cmd) != 0);                  /* no *.tmp.* left over */
    free(before); free(after);
    net_free(n);
}

/* The magic is checked before anything else is read: an endless input is
 * refused at once instead of being read into memory (run under a timeout). */
static void test_endless_input_refused(void)
{
    net *m;
    char msg[256];
    CHECK(net_load(&m, "/dev/zero", msg, sizeof msg) == DL_EFORMAT);
    CHECK(strstr(msg, "not a deltalab network file") != NULL);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/dl_netio_XXXXXX");
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    snprintf(path, sizeof path, "%s/n.dln", dir);
    RUN(test_round_trip);
    RUN(test_every_truncation_refused);
    RUN(test_every_flipped_byte_refused);
    RUN(test_foreign_newer_missing);
    RUN(test_save_is_atomic);
    RUN(test_endless_input_refused);
    unlink(path);
    rmdir(dir);
    return check_summary();
}
