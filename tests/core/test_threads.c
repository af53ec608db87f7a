/*
 * test_threads.c — the thread pool's two ways of running work: dl_parallel's
 * parts (any number, spread over the threads) and dl_team's parts (one a
 * thread, all at once, so that they can meet at a dl_barrier), and that
 * either runs serially, never deadlocking, when called from inside a task.
 */
#include "check.h"
#include "threads.h"

#include <string.h>

enum { ROUNDS = 2000, MAXP = 8 };

/* Each part, each round: arrive (count it), wait at the barrier, then read
 * the count. A barrier that let a part through early shows a count short of
 * the team; one that mixed up rounds shows a count from another round. */
typedef struct meet {
    dl_barrier bar;
    int arrived[ROUNDS];
    int short_count;    /* rounds where a part saw fewer than the team */
    int parts_run[MAXP];
    int team;
} meet;

static void meet_part(void *arg, int i, int n)
{
    meet *m = arg;
    m->parts_run[i]++;
    if (i == 0)
        m->team = n;
    for (int r = 0; r < ROUNDS; r++) {
        __atomic_add_fetch(&m->arrived[r], 1, __ATOMIC_RELAXED);
        dl_barrier_wait(&m->bar, n);
        if (__atomic_load_n(&m->arrived[r], __ATOMIC_RELAXED) != n)
            __atomic_add_fetch(&m->short_count, 1, __ATOMIC_RELAXED);
        dl_barrier_wait(&m->bar, n);   /* nobody starts round r+1 before all read r */
    }
}

static void test_team_meets_at_barrier(void)
{
    for (int th = 1; th <= 3; th++) {
        dl_threads_set(th);
        static meet m;
        memset(&m, 0, sizeof m);
        dl_team(meet_part, &m, MAXP);
        CHECK(m.team == th);   /* as many parts as threads, not the MAXP asked for */
        CHECK(m.short_count == 0);
        for (int i = 0; i < MAXP; i++) CHECK(m.parts_run[i] == (i < th));
        for (int r = 0; r < ROUNDS; r++) CHECK(m.arrived[r] == th);
    }
    dl_threads_set(2);
}

/* Inside a task the pool is taken: a team there is one part on that thread. */
typedef struct nested {
    meet inner[MAXP];
} nested;

static void nested_part(void *arg, int i, int n)
{
    nested *x = arg;
    dl_team(meet_part, &x->inner[i], MAXP);
}

static void test_team_inside_a_task_runs_alone(void)
{
    dl_threads_set(2);
    static nested x;
    memset(&x, 0, sizeof x);
    dl_parallel(nested_part, &x, 2);
    for (int i = 0; i < 2; i++) {
        CHECK(x.inner[i].team == 1);
        CHECK(x.inner[i].parts_run[0] == 1 && x.inner[i].parts_run[1] == 0);
        CHECK(x.inner[i].short_count == 0);
    }
}

/* dl_parallel runs every part exactly once, whatever the number of threads. */
static void count_part(void *arg, int i, int n)
{
    int *hits = arg;
    __atomic_add_fetch(&hits[i], 1, __ATOMIC_RELAXED);
}

static void test_parallel_runs_every_part_once(void)
{
    for (int th = 1; th <= 3; th++) {
        dl_threads_set(th);
        int hits[37] = { 0 };
        dl_parallel(count_part, hits, 37);
        for (int i = 0; i < 37; i++) CHECK(hits[i] == 1);
    }
    dl_threads_set(2);
}

int main(void)
{
    RUN(test_team_meets_at_barrier);
    RUN(test_team_inside_a_task_runs_alone);
    RUN(test_parallel_runs_every_part_once);
    return check_summary();
}
