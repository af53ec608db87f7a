/*
 * kernel_msg.h — the Jupyter wire protocol (messaging 5.3): a message is
 * the routing identities, "<IDS|MSG>", the HMAC-SHA256 signature (hex) of
 * the next four frames, and header, parent_header, metadata and content as
 * JSON. Receiving checks the signature; sending signs.
 */
#ifndef KERNEL_MSG_H
#define KERNEL_MSG_H

#include <stddef.h>
#include <jansson.h>

#define KMSG_MAX_IDS 16

typedef struct kmsg {
    int nids;
    char *ids[KMSG_MAX_IDS];   /* the identity frames, as received */
    size_t idlen[KMSG_MAX_IDS];
    json_t *header, *parent, *metadata, *content;
    const char *type;          /* header.msg_type (owned by header) */
} kmsg;

typedef struct ksession {
    unsigned char key[512];
    size_t keylen;             /* 0: messages are neither signed nor checked */
    char id[40];               /* this kernel's session id */
} ksession;

/* Fill s from the key of the connection file, with a new session id. */
int ksession_init(ksession *s, const char *key, char *msg, size_t msglen);

/* Receive one message from sock (all its frames are read, even when it is
 * refused): 0, or -1 with why in msg (bad signature, malformed frames). */
int kmsg_recv(void *sock, const ksession *s, kmsg *m, char *msg, size_t msglen);
void kmsg_free(kmsg *m);

/* Send msg_type with content (the caller keeps its reference) as a reply to parent
 * (NULL: none), to parent's identities, or on iopub (topic = the type). */
int kmsg_send(void *sock, const ksession *s, const kmsg *parent, int iopub,
              const char *msg_type, json_t *content);

#endif
