/*
 * save.h — writing a file so that its name holds either the old contents or
 * the whole new ones, never half, and no temporary file is left behind.
 *
 *   dl_save s;
 *   if ((st = dl_save_begin(&s, path, msg, msglen)) != DL_OK) return st;
 *   dl_save_write(&s, buf, n);               // any number of writes (or fwrite to s.f)
 *   return dl_save_commit(&s, msg, msglen);  // or dl_save_cancel(&s)
 *
 * The new contents go to a temporary beside the target whose name is derived
 * from it (".name.deltalab-tmp"), so a save that a kill -9 cut short leaves at
 * most one such file, which the next save of the same name replaces. Commit
 * flushes and fsyncs the file, renames it over the target and fsyncs the
 * directory (so a power cut keeps either name); any failure removes the
 * temporary and leaves the old file intact. The rename is the commit point:
 * once it has happened the save is done, and what fails after it (closing
 * the flushed and synced file, syncing the directory) is not reported.
 * SIGTERM and SIGHUP during a save remove the temporaries of saves in
 * progress before the process dies; so
 * does a SIGINT that kills the process (the default action, or the program's
 * own handler choosing it, as deltalab's does at a second Ctrl-C). A SIGINT
 * the program handles (the first Ctrl-C sets the interrupt flag) does not
 * stop a save: it completes, and the caller sees the flag afterwards.
 *
 * A target that is a device or a pipe (/dev/stdout, a FIFO) is written in
 * place; a symbolic link is followed, so the file it points to is replaced.
 * Error messages name the path and the reason.
 */
#ifndef DL_SAVE_H
#define DL_SAVE_H

#include <stdio.h>

#include "dl.h"

typedef struct dl_save {
    FILE *f;          /* the stream to write the new contents to */
    char *path;       /* the name the user gave, for messages */
    char *target;     /* the regular file replaced on commit; NULL: written in place */
    char *tmp;        /* the temporary beside target, NULL when written in place */
    int slot;         /* the temporary's entry in the cleanup list, or -1 */
    int err;          /* errno of the first failed dl_save_write, 0: none */
} dl_save;

/* Open a save to path. On failure nothing is left open or created. */
dl_status dl_save_begin(dl_save *s, const char *path, char *msg, size_t msglen);

/* Write n bytes to the save: 0, or -1 when it failed (the first failure's
 * errno is kept and reported by commit; later writes do nothing). */
int dl_save_write(dl_save *s, const void *p, size_t n);

/* Finish the save: the target now holds what was written, durably. Also
 * reports a write error that happened earlier on s->f. Frees s either way. */
dl_status dl_save_commit(dl_save *s, char *msg, size_t msglen);

/* Give the save up: the temporary is removed, the target untouched. */
void dl_save_cancel(dl_save *s);

/* The temporary's name for target (malloc'd), e.g. "dir/.net.dln.deltalab-tmp". */
char *dl_save_tmpname(const char *target);

#endif
