/*
 * kernel_msg.c — receiving, checking, signing and sending Jupyter messages
 * (kernel_msg.h). The signature is HMAC-SHA256 with the connection file's
 * key over header, parent_header, metadata and content, as hex.
 */
#define _GNU_SOURCE
#include "kernel_msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define DELIM "<IDS|MSG>"
#define MAX_FRAMES 64

static void fail(char *msg, size_t msglen, const char *why)
{
    snprintf(msg, msglen, "%s", why);
}

/* A random id of 32 hex digits (a UUID's worth of randomness). */
static void new_id(char out[33])
{
    unsigned char r[16];
    if (RAND_bytes(r, sizeof r) != 1)
        for (size_t i = 0; i < sizeof r; i++)
            r[i] = (unsigned char)rand();
    for (size_t i = 0; i < sizeof r; i++)
        sprintf(out + 2 * i, "%02x", r[i]);
}

int ksession_init(ksession *s, const char *key, char *msg, size_t msglen)
{
    size_t n = strlen(key);
    if (n > sizeof s->key) {
        fail(msg, msglen, "the key is longer than 512 bytes");
        return -1;
    }
    memcpy(s->key, key, n);
    s->keylen = n;
    new_id(s->id);
    return 0;
}

/* The hex HMAC of the four parts; "" when there is no key. */
static void sign(const ksession *s, const char *part[4], const size_t len[4], char hex[65])
{
    hex[0] = '\0';
    if (s->keylen == 0)
        return;
    size_t total = len[0] + len[1] + len[2] + len[3];
    unsigned char *buf = malloc(total ? total : 1);
    if (!buf)
        return;  /* an empty signature: the peer refuses it, which is right */
    size_t off = 0;
    for (int i = 0; i < 4; i++) {
        memcpy(buf + off, part[i], len[i]);
        off += len[i];
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (HMAC(EVP_sha256(), s->key, (int)s->keylen, buf, total, md, &mdlen))
        for (unsigned int i = 0; i < mdlen && i < 32; i++)
            sprintf(hex + 2 * i, "%02x", md[i]);
    free(buf);
}

void kmsg_free(kmsg *m)
{
    for (int i = 0; i < m->nids; i++)
        free(m->ids[i]);
    json_decref(m->header);
    json_decref(m->parent);
    json_decref(m->metadata);
    json_decref(m->content);
    memset(m, 0, sizeof *m);
}

/* All frames of one message, malloc'd; the count, or -1. */
static int recv_frames(void *sock, char **data, size_t *len)
{
    int n = 0, more = 1, ok = 1;
    while (more) {
        zmq_msg_t f;
        zmq_msg_init(&f);
        if (zmq_msg_recv(&f, sock, 0) < 0) {
            zmq_msg_close(&f);
            if (n == 0)
                return -1;
            break;
        }
        more = zmq_msg_more(&f);
        if (n < MAX_FRAMES && ok) {
            len[n] = zmq_msg_size(&f);
            data[n] = malloc(len[n] + 1);
            if (data[n]) {
                memcpy(data[n], zmq_msg_data(&f), len[n]);
                data[n][len[n]] = '\0';
                n++;
            } else {
                ok = 0;
            }
        } else {
            ok = 0;  /* too many frames: read the rest, refuse the message */
        }
        zmq_msg_close(&f);
    }
    return ok ? n : -(n + 2);
}

int kmsg_recv(void *sock, const ksession *s, kmsg *m, char *msg, size_t msglen)
{
    memset(m, 0, sizeof *m);
    char *f[MAX_FRAMES];
    size_t len[MAX_FRAMES];
    int n = recv_frames(sock, f, len);
    int status = -1;
    if (n == -1) {
        fail(msg, msglen, "cannot receive");
        return -1;
    }
    if (n < -1) {
        n = -(n + 2);
        fail(msg, msglen, "too many frames");
        goto done;
    }
    int d = 0;
    while (d < n && !(len[d] == strlen(DELIM) && memcmp(f[d], DELIM, len[d]) == 0))
        d++;
    if (d == n || n - d < 6) {
        fail(msg, msglen, "malformed: no <IDS|MSG> delimiter followed by five frames");
        goto done;
    }
    if (d > KMSG_MAX_IDS) {
        fail(msg, msglen, "malformed: too many identities");
        goto done;
    }
    const char *part[4] = { f[d + 2], f[d + 3], f[d + 4], f[d + 5] };
    const size_t plen[4] = { len[d + 2], len[d + 3], len[d + 4], len[d + 5] };
    char hex[65];
    sign(s, part, plen, hex);
    if (s->keylen && (len[d + 1] != 64 || CRYPTO_memcmp(hex, f[d + 1], 64) != 0)) {
        fail(msg, msglen, "wrong HMAC signature");
        goto done;
    }
    json_t **slot[4] = { &m->header, &m->parent, &m->metadata, &m->content };
    for (int i = 0; i < 4; i++) {
        json_error_t err;
        *slot[i] = json_loadb(part[i], plen[i], 0, &err);
        if (!json_is_object(*slot[i])) {
            static const char *names[4] = { "header", "parent_header", "metadata", "content" };
            snprintf(msg, msglen, "malformed: the %s is not a JSON object", names[i]);
            goto done;
        }
    }
    m->type = json_string_value(json_object_get(m->header, "msg_type"));
    if (!m->type) {
        fail(msg, msglen, "malformed: the header has no msg_type");
        goto done;
    }
    for (int i = 0; i < d; i++) {  /* the identities move into m */
        m->ids[i] = f[i];
        m->idlen[i] = len[i];
        f[i] = NULL;
    }
    m->nids = d;
    status = 0;
done:
    for (int i = 0; i < n; i++)
        free(f[i]);
    if (status != 0)
        kmsg_free(m);
    return status;
}

static json_t *new_header(const ksession *s, const char *msg_type)
{
    char id[33], date[40];
    new_id(id);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t k = strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(date + k, sizeof date - k, ".%06ldZ", ts.tv_nsec / 1000);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "msg_id", id, "session", s->id,
                     "username", "deltalab", "date", date, "msg_type", msg_type,
                     "version", "5.3");
}

static int send_frame(void *sock, const void *data, size_t len, int more)
{
    return zmq_send(sock, data, len, more ? ZMQ_SNDMORE : 0) < 0 ? -1 : 0;
}

int kmsg_send(void *sock, const ksession *s, const kmsg *parent, int iopub,
              const char *msg_type, json_t *content)
{
    json_t *header = new_header(s, msg_type);
    char *part[4] = {
        header ? json_dumps(header, JSON_COMPACT) : NULL,
        parent ? json_dumps(parent->header, JSON_COMPACT) : strdup("{}"),
        strdup("{}"),
        content ? json_dumps(content, JSON_COMPACT) : NULL,
    };
    int status = -1;
    for (int i = 0; i < 4; i++)
        if (!part[i])
            goto done;
    size_t len[4];
    for (int i = 0; i < 4; i++)
        len[i] = strlen(part[i]);
    char hex[65];
    sign(s, (const char **)part, len, hex);
    status = 0;
    if (iopub)
        status |= send_frame(sock, msg_type, strlen(msg_type), 1);
    else if (parent)
        for (int i = 0; i < parent->nids; i++)
            status |= send_frame(sock, parent->ids[i], parent->idlen[i], 1);
    status |= send_frame(sock, DELIM, strlen(DELIM), 1);
    status |= send_frame(sock, hex, strlen(hex), 1);
    for (int i = 0; i < 4; i++)
        status |= send_frame(sock, part[i], len[i], i < 3);
done:
    for (int i = 0; i < 4; i++)
        free(part[i]);
    json_decref(header);
    return status;
}
