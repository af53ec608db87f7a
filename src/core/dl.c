/* dl.c — status strings, the interrupt flag, aligned allocation. */
#define _XOPEN_SOURCE 700  /* realpath */
#include "dl.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>

const char *dl_strerror(dl_status s)
{
    switch (s) {
    case DL_OK:          return "no error";
    case DL_ENOMEM:      return "not enough memory";
    case DL_ESHAPE:      return "shapes do not match";
    case DL_EINVAL:      return "invalid argument";
    case DL_EIO:         return "input/output error";
    case DL_EFORMAT:     return "bad file format";
    case DL_ESINGULAR:   return "matrix is singular";
    case DL_INTERRUPTED: return "interrupted";
    case DL_DIVERGED:    return "the loss is not finite";
    }
    return "unknown error";
}

dl_status dl_fail(dl_status s, char *msg, size_t msglen, const char *fmt, ...)
{
    if (msg && msglen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, msglen, fmt, ap);
        va_end(ap);
    }
    return s;
}

/* Written by the SIGINT handler, read by long loops: see dl.h. */
static volatile sig_atomic_t interrupt_flag;

int dl_interrupted(void) { return interrupt_flag != 0; }
void dl_interrupt_set(int on) { interrupt_flag = on ? 1 : 0; }

float *dl_alloc(size_t n)
{
    if (n == 0)
        n = 1;
    if (n > (SIZE_MAX - 64) / sizeof(float))
        return NULL;
    size_t bytes = (n * sizeof(float) + 63) & ~(size_t)63;
    return aligned_alloc(64, bytes);
}

float *dl_calloc(size_t n)
{
    float *p = dl_alloc(n);
    if (p)
        memset(p, 0, (n ? n : 1) * sizeof(float));
    return p;
}

void dl_free(float *p) { free(p); }

int dl_save_target(const char *path, char **target)
{
    struct stat st;
    *target = NULL;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            errno = EISDIR;
            return -1;
        }
        if (!S_ISREG(st.st_mode))
            return 1;
        *target = realpath(path, NULL);  /* through symbolic links */
    }
    if (!*target)
        *target = strdup(path);
    if (!*target) {
        errno = ENOMEM;
        return -1;
    }
    return 0;
}
