/*
 * count_alloc.h — counting every allocation of a test program, to prove that
 * a training step allocates nothing. Include it in exactly one file of a test
 * program (each tests/core/test_*.c is its own program). Outside sanitizers
 * (which own malloc), it replaces the malloc family with counting wrappers
 * around glibc's own entry points, so every allocation anywhere is seen;
 * under ASan COUNTING is 0 and tests check workspace pointers instead.
 */
#ifndef COUNT_ALLOC_H
#define COUNT_ALLOC_H

#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define COUNTING 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COUNTING 0
#endif
#endif
#ifndef COUNTING
#define COUNTING 1
#endif

static long n_allocs;

#if COUNTING
void *__libc_malloc(size_t);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);
void *__libc_memalign(size_t, size_t);
void __libc_free(void *);

void *malloc(size_t n) { n_allocs++; return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { n_allocs++; return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { n_allocs++; return __libc_realloc(p, n); }
void *aligned_alloc(size_t al, size_t n) { n_allocs++; return __libc_memalign(al, n); }
void *memalign(size_t al, size_t n) { n_allocs++; return __libc_memalign(al, n); }
int posix_memalign(void **p, size_t al, size_t n)
{
    n_allocs++;
    *p = __libc_memalign(al, n);
    return *p ? 0 : 12;
}
void free(void *p) { __libc_free(p); }
#endif

#endif
