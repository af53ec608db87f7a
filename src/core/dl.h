/*
 * dl.h — what every part of the compute core shares: status codes, the version,
 * and the interrupt flag that long loops poll between batches.
 *
 * The core is plain C11. It knows nothing of Lua, never prints and never exits:
 * functions that can fail return a dl_status and leave their outputs untouched
 * or consistent, and the caller (a binding, a test) decides what to say.
 */
#ifndef DL_H
#define DL_H

#include <stddef.h>

#define DL_VERSION "0.1.0"

typedef enum dl_status {
    DL_OK = 0,
    DL_ENOMEM,       /* an allocation failed or its size overflowed */
    DL_ESHAPE,       /* operand shapes do not fit together */
    DL_EINVAL,       /* an argument is out of its range */
    DL_EIO,          /* a read or write failed (errno says more) */
    DL_EFORMAT,      /* a file is not in the expected format */
    DL_ESINGULAR,    /* a linear system has no unique solution */
    DL_INTERRUPTED,  /* the interrupt flag was seen; state is consistent */
    DL_DIVERGED      /* a loss became NaN or infinite; the update was not made */
} dl_status;

/* A short English phrase for a status, e.g. "out of memory". */
const char *dl_strerror(dl_status s);

/*
 * The one way a fallible core function reports why: every such function takes
 * (char *msg, size_t msglen) as its last two parameters (msg may be NULL), and
 * its error paths read `return dl_fail(DL_EFORMAT, msg, msglen, "...", ...);`,
 * which formats the reason into msg when there is room and returns the status.
 */
dl_status dl_fail(dl_status s, char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * The one piece of mutable global state in deltalab. A signal handler may only
 * touch a volatile sig_atomic_t, so Ctrl-C sets this flag and nothing else;
 * loops in the core (training, long sweeps) check it between batches, finish
 * the batch, and return DL_INTERRUPTED. Whoever reports the interruption clears it.
 */
int dl_interrupted(void);
void dl_interrupt_set(int on);

/* 64-byte aligned float buffer of n elements, or NULL (also when n*4 overflows). */
float *dl_alloc(size_t n);
/* Zeroed variant of dl_alloc. */
float *dl_calloc(size_t n);
void dl_free(float *p);

/*
 * Where a save to path should go. Files are written to a temporary name and
 * renamed into place, so a failed save never leaves half a file; but renaming
 * over a device (/dev/null, /dev/stdout) or a symbolic link would replace the
 * device or the link itself. Returns 0 and sets *target (malloc'd, the caller
 * frees it) to the regular file to replace — path, or what its links point to
 * — when temp-and-rename is right; 1 when path exists and is neither a regular
 * file nor a directory, to be opened and written directly; -1 with errno set
 * (EISDIR for a directory, ENOMEM).
 */
int dl_save_target(const char *path, char **target);

#endif
