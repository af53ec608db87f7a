/*
 * fault.c — fault injection for a test build of deltalab (make fault).
 *
 * Linked with -Wl,--wrap=malloc,... so that every allocation and every
 * file-writing call made by deltalab's own code (core and bindings; not Lua's
 * nor libc's internal ones) passes through here. The environment arms it:
 *
 *   DELTALAB_FAIL_ALLOC=k   the k-th allocation fails (ENOMEM); 0 or unset: none
 *   DELTALAB_FAIL_IO=k      the k-th write, flush, close, fsync or rename fails,
 *                           with ENOSPC (odd k) or EIO (even k)
 *   DELTALAB_FAULT_COUNT=1  at exit, print "faults: A allocations, W writes"
 *                           to stderr, so a sweep knows how far k must go
 *
 * Only the one failure is injected: the calls after it succeed again, as
 * after a transient shortage, so the test sees whether the program recovers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
size_t __real_fwrite(const void *p, size_t size, size_t n, FILE *f);
int __real_fputs(const char *s, FILE *f);
int __real_fputc(int c, FILE *f);
int __real_fflush(FILE *f);
int __real_fclose(FILE *f);
int __real_fsync(int fd);
int __real_rename(const char *a, const char *b);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t a, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
size_t __wrap_fwrite(const void *p, size_t size, size_t n, FILE *f);
int __wrap_fputs(const char *s, FILE *f);
int __wrap_fputc(int c, FILE *f);
int __wrap_fflush(FILE *f);
int __wrap_fclose(FILE *f);
int __wrap_fsync(int fd);
int __wrap_rename(const char *a, const char *b);

/* A test build's counters: this file is the fault-injection harness, not
 * part of deltalab, so plain globals are the simple truth here. */
static long alloc_count, alloc_fail_at = -1;
static long io_count, io_fail_at = -1;

static void report(void)
{
    fprintf(stderr, "faults: %ld allocations, %ld writes\n", alloc_count, io_count);
}

static void arm(void)
{
    if (alloc_fail_at >= 0)
        return;
    const char *a = getenv("DELTALAB_FAIL_ALLOC"), *w = getenv("DELTALAB_FAIL_IO");
    alloc_fail_at = a ? atol(a) : 0;
    io_fail_at = w ? atol(w) : 0;
    const char *c = getenv("DELTALAB_FAULT_COUNT");
    if (c && *c == '1')
        atexit(report);
}

static int alloc_fails(void)
{
    arm();
    if (++alloc_count == alloc_fail_at) {
        errno = ENOMEM;
        return 1;
    }
    return 0;
}

/* Writes to the standard streams are the program talking, not saving. */
static int io_fails(FILE *f)
{
    arm();
    if (f == stdout || f == stderr)
        return 0;
    if (++io_count == io_fail_at) {
        errno = io_count % 2 ? ENOSPC : EIO;
        return 1;
    }
    return 0;
}

void *__wrap_malloc(size_t n) { return alloc_fails() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t k, size_t n) { return alloc_fails() ? NULL : __real_calloc(k, n); }
void *__wrap_realloc(void *p, size_t n) { return alloc_fails() ? NULL : __real_realloc(p, n); }
void *__wrap_aligned_alloc(size_t a, size_t n)
{
    return alloc_fails() ? NULL : __real_aligned_alloc(a, n);
}
char *__wrap_strdup(const char *s) { return alloc_fails() ? NULL : __real_strdup(s); }
char *__wrap_strndup(const char *s, size_t n)
{
    return alloc_fails() ? NULL : __real_strndup(s, n);
}

size_t __wrap_fwrite(const void *p, size_t size, size_t n, FILE *f)
{
    return io_fails(f) ? 0 : __real_fwrite(p, size, n, f);
}
int __wrap_fputs(const char *s, FILE *f) { return io_fails(f) ? EOF : __real_fputs(s, f); }
int __wrap_fputc(int c, FILE *f) { return io_fails(f) ? EOF : __real_fputc(c, f); }
int __wrap_fflush(FILE *f) { return f && io_fails(f) ? EOF : __real_fflush(f); }

/* A failing close still closes: the stream is gone either way. */
int __wrap_fclose(FILE *f)
{
    int fail = io_fails(f), e = errno;
    int r = __real_fclose(f);
    if (fail) {
        errno = e;
        return EOF;
    }
    return r;
}

int __wrap_fsync(int fd)
{
    arm();
    if (++io_count == io_fail_at) {
        errno = io_count % 2 ? ENOSPC : EIO;
        return -1;
    }
    return __real_fsync(fd);
}

int __wrap_rename(const char *a, const char *b)
{
    arm();
    if (++io_count == io_fail_at) {
        errno = io_count % 2 ? ENOSPC : EIO;
        return -1;
    }
    return __real_rename(a, b);
}
