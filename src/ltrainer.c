/*
 * ltrainer.c — the Lua face of the core's trainer (src/core/train.h).
 *
 * A trainer is a Lua table with metatable "trainer", so that t.history,
 * t.net, t.settings read as plain fields; its core state is a userdata kept
 * in the table under "_state", whose user value (a table no Lua code can
 * reach) holds the network, the data sets, their matrices and the callbacks,
 * keeping them alive as long as the trainer.
 *
 * The binding drives the loop and the core does one batch per call
 * (train_step). Between two calls the network and the trainer are
 * consistent, so Lua callbacks run there with nothing of the core's on the C
 * stack: a callback that raises simply propagates its error, and training
 * can be resumed later. Ctrl-C (dl_interrupted) is polled in the same place.
 */
#include "deltalab.h"
#include "core/threads.h"
#include "core/train.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DL_TRAINER "trainer"
#define DL_TRAINER_STATE "deltalab.trainer.state"

typedef struct ltrainer {
    trainer *t;               /* NULL until built, and after __gc */
    int progress;             /* draw the progress bar */
    int has_schedule_fn;      /* a Lua function gives η per epoch */
    double bar_last;          /* clock of the last bar drawn */
    int bar_shown;            /* a bar is on the current line (no newline yet) */
    double bar_rate_t0;       /* clock and rows at the start of the current drive */
    long bar_rate_rows;
} ltrainer;

static double clock_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ------------------------------------------------------------------------ */
/* Argument helpers                                                           */

/* Raise "trainer: <message>" at the caller's level. */
static int opt_error(lua_State *L, const char *fmt, const char *name, const char *got)
{
    return luaL_error(L, fmt, name, got);
}

/* Field `name` of the options table at index 1, as a number (or def). */
static double opt_number(lua_State *L, const char *name, double def)
{
    int ty = lua_getfield(L, 1, name);
    double v = def;
    if (ty == LUA_TNUMBER)
        v = lua_tonumber(L, -1);
    else if (ty != LUA_TNIL)
        opt_error(L, "trainer: %s must be a number, got %s", name, luaL_typename(L, -1));
    lua_pop(L, 1);
    return v;
}

static int opt_integer(lua_State *L, const char *name, int def, int min)
{
    int ty = lua_getfield(L, 1, name);
    lua_Integer v = def;
    if (ty != LUA_TNIL) {
        int isint = 0;
        v = lua_tointegerx(L, -1, &isint);
        if (!isint)
            luaL_error(L, "trainer: %s must be an integer, got %s", name,
                       ty == LUA_TNUMBER ? lua_tostring(L, -1) : luaL_typename(L, -1));
        if (v < min || v > 0x7fffffff)
            luaL_error(L, "trainer: %s must be an integer >= %d, got %I", name, min, v);
    }
    lua_pop(L, 1);
    return (int)v;
}

static int opt_boolean(lua_State *L, const char *name, int def)
{
    int ty = lua_getfield(L, 1, name);
    int v = def;
    if (ty == LUA_TBOOLEAN)
        v = lua_toboolean(L, -1);
    else if (ty != LUA_TNIL)
        opt_error(L, "trainer: %s must be true or false, got %s", name, luaL_typename(L, -1));
    lua_pop(L, 1);
    return v;
}

/* An option string checked against names; the error reads like luaL_checkoption's. */
static int opt_choice(lua_State *L, int idx, const char *name, const char *const names[], int def)
{
    if (lua_isnoneornil(L, idx))
        return def;
    if (lua_type(L, idx) != LUA_TSTRING)
        luaL_error(L, "trainer: %s must be a string, got %s", name, luaL_typename(L, idx));
    const char *s = lua_tostring(L, idx);
    for (int i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return luaL_error(L, "trainer: invalid option '%s' for %s", s, name);
}

static const char *const known_options[] = {
    "net", "train", "batch", "lr", "epochs", "lambda", "momentum", "shuffle", "seed",
    "validation", "patience", "restore_best", "monitor", "schedule", "rule", "on_step",
    "on_epoch", "record_steps", "progress", "eval_batch", NULL
};

static void check_known_options(lua_State *L)
{
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "trainer: option names are strings, got a %s key", luaL_typename(L, -1));
        const char *k = lua_tostring(L, -1);
        int found = 0;
        for (int i = 0; known_options[i]; i++)
            found |= strcmp(k, known_options[i]) == 0;
        if (!found)
            luaL_error(L, "trainer: unknown option '%s'", k);
    }
}

/* The live matrix at idx, NULL when it is not a matrix; a closed matrix raises
 * "attempt to use a freed matrix" (more useful than "matrix expected"). */
static mat *test_live_matrix(lua_State *L, int idx)
{
    mat *m = dl_testmatrix(L, idx);
    if (!m && luaL_testudata(L, idx, DL_MATRIX))
        m = dl_checkmatrix(L, idx);
    return m;
}

/* Read a data set (a table with X and y or Y) at stack index idx into d;
 * leaves nothing on the stack. `what` names it in errors. */
static void read_dataset(lua_State *L, int idx, train_data *d, const char *what)
{
    idx = lua_absindex(L, idx);
    memset(d, 0, sizeof *d);
    if (!lua_istable(L, idx))
        luaL_error(L, "%s must be a dataset (a table with X and y), got %s", what,
                   luaL_typename(L, idx));
    lua_getfield(L, idx, "X");
    if (!test_live_matrix(L, -1))
        luaL_error(L, "%s.X must be a matrix (N samples x inputs), got %s", what,
                   luaL_typename(L, -1));
    d->X = *test_live_matrix(L, -1);
    lua_getfield(L, idx, "y");
    lua_getfield(L, idx, "Y");
    if (!lua_isnil(L, -2)) {
        if (!test_live_matrix(L, -2))
            luaL_error(L, "%s.y must be an Nx1 matrix of labels, got %s", what,
                       luaL_typename(L, -2));
        d->labels = *test_live_matrix(L, -2);
    } else if (!lua_isnil(L, -1)) {
        if (!test_live_matrix(L, -1))
            luaL_error(L, "%s.Y must be a matrix of targets, got %s", what, luaL_typename(L, -1));
        d->targets = *test_live_matrix(L, -1);
    } else {
        luaL_error(L, "%s has neither y (labels) nor Y (targets)", what);
    }
    lua_pop(L, 3);
}

static ltrainer *check_state(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, DL_TRAINER_STATE);
}

/* The trainer table at index 1 and its live state; refreshes the core's view
 * of the network and data from the objects the state keeps (a matrix may have
 * been closed, which raises here, before the core can touch it). */
static ltrainer *check_trainer(lua_State *L)
{
    if (!lua_istable(L, 1) || !lua_getmetatable(L, 1))
        luaL_typeerror(L, 1, DL_TRAINER);
    luaL_getmetatable(L, DL_TRAINER);
    if (!lua_rawequal(L, -1, -2))
        luaL_typeerror(L, 1, DL_TRAINER);
    lua_pop(L, 2);
    lua_getfield(L, 1, "_state");
    ltrainer *lt = luaL_testudata(L, -1, DL_TRAINER_STATE);
    if (!lt || !lt->t)
        luaL_error(L, "trainer: its state is gone (the _state field was changed)");
    trainer *t = lt->t;
    lua_getiuservalue(L, -1, 1);
    int uv = lua_gettop(L);
    lua_getfield(L, uv, "net");
    if (dl_checknet(L, -1) != t->net)
        luaL_error(L, "trainer: its network is gone");
    lua_getfield(L, uv, "train");
    train_data d;
    read_dataset(L, -1, &d, "train");
    if (!mat_same_shape(d.X, t->train.X) || !d.labels.data != !t->train.labels.data
        || !d.targets.data != !t->train.targets.data
        || (d.labels.data && d.labels.rows != t->train.labels.rows))
        luaL_error(L, "trainer: the training set changed shape since the trainer was made");
    t->train = d;
    lua_getfield(L, uv, "validation");
    if (!lua_isnil(L, -1)) {
        read_dataset(L, -1, &d, "validation");
        if (!mat_same_shape(d.X, t->val.X))
            luaL_error(L, "trainer: the validation set changed shape since the trainer was made");
        t->val = d;
    }
    lua_settop(L, uv);   /* keeps _state and its user value above the arguments */
    return lt;
}

/* ------------------------------------------------------------------------ */
/* Construction                                                               */

static int state_gc(lua_State *L)
{
    ltrainer *lt = check_state(L, 1);
    train_free(lt->t);
    lt->t = NULL;
    return 0;
}

/* schedule = "step" | {"step", every=, gamma=} | {"inv_t", decay=} | function */
static void read_schedule(lua_State *L, train_config *c, ltrainer *lt)
{
    int ty = lua_getfield(L, 1, "schedule");
    int top = lua_gettop(L);
    if (ty == LUA_TFUNCTION) {
        c->schedule = TRAIN_CUSTOM;
        lt->has_schedule_fn = 1;
    } else if (ty == LUA_TSTRING) {
        c->schedule = opt_choice(L, top, "schedule", train_schedule_names, TRAIN_CONSTANT);
    } else if (ty == LUA_TTABLE) {
        lua_rawgeti(L, top, 1);
        c->schedule = opt_choice(L, -1, "schedule", train_schedule_names, TRAIN_CONSTANT);
        lua_pop(L, 1);
        lua_getfield(L, top, "every");
        lua_getfield(L, top, "gamma");
        lua_getfield(L, top, "decay");
        if (!lua_isnil(L, -3)) {
            int isint = 0;
            lua_Integer e = lua_tointegerx(L, -3, &isint);
            if (!isint || e < 1 || e > 0x7fffffff)
                luaL_error(L, "trainer: schedule every must be an integer >= 1");
            c->step_every = (int)e;
        }
        if (!lua_isnil(L, -2)) {
            if (!lua_isnumber(L, -2))
                luaL_error(L, "trainer: schedule gamma must be a number");
            c->step_gamma = (float)lua_tonumber(L, -2);
        }
        if (!lua_isnil(L, -1)) {
            if (!lua_isnumber(L, -1))
                luaL_error(L, "trainer: schedule decay must be a number");
            c->inv_decay = (float)lua_tonumber(L, -1);
        }
        if (c->schedule == TRAIN_CUSTOM)
            luaL_error(L, "trainer: schedule 'custom' is given as a function(epoch) returning lr");
    } else if (ty != LUA_TNIL) {
        luaL_error(L, "trainer: schedule must be a name, a table or a function, got %s",
                   luaL_typename(L, top));
    }
    lua_settop(L, top - 1);
}

static int optional_function(lua_State *L, const char *name)
{
    int ty = lua_getfield(L, 1, name);
    if (ty != LUA_TNIL && ty != LUA_TFUNCTION)
        luaL_error(L, "trainer: %s must be a function, got %s", name, luaL_typename(L, -1));
    lua_pop(L, 1);
    return ty == LUA_TFUNCTION;
}

/* Build the Lua table t.settings from the configuration (what records store). */
static void push_settings(lua_State *L, const train_config *c)
{
    lua_createtable(L, 0, 16);
    lua_pushinteger(L, c->batch); lua_setfield(L, -2, "batch");
    lua_pushinteger(L, c->epochs); lua_setfield(L, -2, "epochs");
    lua_pushnumber(L, c->lr); lua_setfield(L, -2, "lr");
    lua_pushnumber(L, c->lambda); lua_setfield(L, -2, "lambda");
    lua_pushnumber(L, c->momentum); lua_setfield(L, -2, "momentum");
    lua_pushboolean(L, c->shuffle); lua_setfield(L, -2, "shuffle");
    lua_pushinteger(L, (lua_Integer)c->seed); lua_setfield(L, -2, "seed");
    lua_pushstring(L, train_schedule_names[c->schedule]); lua_setfield(L, -2, "schedule");
    if (c->schedule == TRAIN_STEP) {
        lua_pushinteger(L, c->step_every); lua_setfield(L, -2, "schedule_every");
        lua_pushnumber(L, c->step_gamma); lua_setfield(L, -2, "schedule_gamma");
    } else if (c->schedule == TRAIN_INV_T) {
        lua_pushnumber(L, c->inv_decay); lua_setfield(L, -2, "schedule_decay");
    }
    lua_pushstring(L, train_rule_names[c->rule]); lua_setfield(L, -2, "rule");
    lua_pushinteger(L, c->patience); lua_setfield(L, -2, "patience");
    lua_pushstring(L, train_monitor_names[c->monitor]); lua_setfield(L, -2, "monitor");
    lua_pushboolean(L, c->restore_best); lua_setfield(L, -2, "restore_best");
}

/* The empty history table: lists filled as epochs end. */
static void push_history(lua_State *L, int steps)
{
    static const char *const lists[] = {
        "train_loss", "train_acc", "val_loss", "val_acc", "seconds", "lr"
    };
    lua_createtable(L, 0, 8);
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        lua_newtable(L);
        lua_setfield(L, -2, lists[i]);
    }
    if (steps) {
        lua_newtable(L);
        lua_setfield(L, -2, "step_loss");
    }
    lua_pushinteger(L, 0);
    lua_setfield(L, -2, "epochs");
}

/* trainer{net=, train=, ...} */
static int t_new(lua_State *L)
{
    if (lua_type(L, 1) != LUA_TTABLE)
        return luaL_typeerror(L, 1, "table of options");
    lua_settop(L, 1);
    check_known_options(L);

    lua_getfield(L, 1, "net");
    if (lua_isnil(L, -1))
        luaL_error(L, "trainer: net is required (a network to train)");
    if (!luaL_testudata(L, -1, "network"))
        luaL_error(L, "trainer: net must be a network, got %s", luaL_typename(L, -1));
    net *n = dl_checknet(L, -1);   /* raises for a closed network */
    lua_pop(L, 1);
    train_data train, val;
    memset(&val, 0, sizeof val);
    lua_getfield(L, 1, "train");
    if (lua_isnil(L, -1))
        luaL_error(L, "trainer: train is required (a dataset with X and y)");
    read_dataset(L, -1, &train, "trainer: train");
    lua_pop(L, 1);
    lua_getfield(L, 1, "validation");
    if (!lua_isnil(L, -1))
        read_dataset(L, -1, &val, "trainer: validation");
    lua_pop(L, 1);

    ltrainer *lt = lua_newuserdatauv(L, sizeof *lt, 1);   /* index 2 */
    memset(lt, 0, sizeof *lt);
    luaL_setmetatable(L, DL_TRAINER_STATE);

    train_config c = train_config_default();
    c.batch = opt_integer(L, "batch", c.batch, 1);
    c.epochs = opt_integer(L, "epochs", c.epochs, 1);
    c.lr = (float)opt_number(L, "lr", c.lr);
    c.lambda = (float)opt_number(L, "lambda", c.lambda);
    c.momentum = (float)opt_number(L, "momentum", c.momentum);
    c.shuffle = opt_boolean(L, "shuffle", c.shuffle);
    lua_getfield(L, 1, "seed");
    if (!lua_isnil(L, -1)) {
        int isint = 0;
        lua_Integer s = lua_tointegerx(L, -1, &isint);
        if (!isint)
            luaL_error(L, "trainer: seed must be an integer, got %s",
                       lua_type(L, -1) == LUA_TNUMBER ? lua_tostring(L, -1) : luaL_typename(L, -1));
        c.seed = (uint64_t)s;
    }
    lua_pop(L, 1);
    c.patience = opt_integer(L, "patience", 0, 0);
    c.restore_best = opt_boolean(L, "restore_best", 1);
    lua_getfield(L, 1, "monitor");
    c.monitor = opt_choice(L, -1, "monitor", train_monitor_names, TRAIN_VAL_LOSS);
    lua_getfield(L, 1, "rule");
    c.rule = opt_choice(L, -1, "rule", train_rule_names, TRAIN_BACKPROP);
    lua_pop(L, 2);
    c.record_steps = opt_boolean(L, "record_steps", 0);
    c.eval_batch = opt_integer(L, "eval_batch", 256, 1);
    read_schedule(L, &c, lt);
    int has_step = optional_function(L, "on_step");
    int has_epoch = optional_function(L, "on_epoch");
    (void)has_step; (void)has_epoch;
    lua_getfield(L, 1, "progress");
    if (lua_isnil(L, -1))
        lt->progress = isatty(STDOUT_FILENO);
    else if (lua_isboolean(L, -1))
        lt->progress = lua_toboolean(L, -1);
    else
        luaL_error(L, "trainer: progress must be true or false, got %s", luaL_typename(L, -1));
    lua_pop(L, 1);

    /* The state's user value keeps what the core points into alive. */
    lua_createtable(L, 0, 8);
    static const char *const kept[] = {
        "net", "train", "validation", "on_step", "on_epoch", "schedule"
    };
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        lua_getfield(L, 1, kept[i]);
        lua_setfield(L, -2, kept[i]);
    }
    lua_setiuservalue(L, 2, 1);

    char msg[256];
    dl_status s = train_new(&lt->t, n, &c, train, val, msg, sizeof msg);
    if (s != DL_OK)
        return luaL_error(L, "trainer: %s", msg);

    /* The trainer table users hold. */
    lua_createtable(L, 0, 8);
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, "_state");
    static const char *const shown[] = { "net", "train", "validation" };
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
        lua_getfield(L, 1, shown[i]);
        lua_setfield(L, -2, shown[i]);
    }
    push_settings(L, &lt->t->cfg);
    lua_setfield(L, -2, "settings");
    push_history(L, c.record_steps);
    lua_setfield(L, -2, "history");
    luaL_setmetatable(L, DL_TRAINER);
    return 1;
}

/* ------------------------------------------------------------------------ */
/* History, progress, the loop                                                */

static void append_number(lua_State *L, int tbl, const char *field, double v)
{
    lua_getfield(L, tbl, field);
    if (lua_istable(L, -1)) {
        lua_pushnumber(L, v);
        lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
    }
    lua_pop(L, 1);
}

/* Bring t.history up to the core's: append the epochs and steps it lacks. */
static void sync_history(lua_State *L, const trainer *t)
{
    const train_history *h = &t->history;
    if (lua_getfield(L, 1, "history") != LUA_TTABLE) {
        lua_pop(L, 1);
        push_history(L, t->cfg.record_steps);
        lua_pushvalue(L, -1);
        lua_setfield(L, 1, "history");
    }
    int ht = lua_gettop(L);
    lua_getfield(L, ht, "epochs");
    lua_Integer have = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (have < 0 || have > h->n)
        have = 0;   /* the table was edited: start afresh is not possible; append */
    for (int e = (int)have; e < h->n; e++) {
        append_number(L, ht, "train_loss", h->train_loss[e]);
        if (t->classes)
            append_number(L, ht, "train_acc", h->train_acc[e]);
        if (t->val.X.data) {
            append_number(L, ht, "val_loss", h->val_loss[e]);
            if (t->val.labels.data)
                append_number(L, ht, "val_acc", h->val_acc[e]);
        }
        append_number(L, ht, "seconds", h->seconds[e]);
        append_number(L, ht, "lr", h->lr[e]);
    }
    lua_pushinteger(L, h->n);
    lua_setfield(L, ht, "epochs");
    if (t->cfg.record_steps && lua_getfield(L, ht, "step_loss") == LUA_TTABLE) {
        lua_Integer n = luaL_len(L, -1);
        for (lua_Integer i = n; i < h->steps; i++) {
            lua_pushnumber(L, h->step_loss[i]);
            lua_rawseti(L, -2, i + 1);
        }
    }
    lua_settop(L, ht - 1);
}

static void sync_fields(lua_State *L, const trainer *t)
{
    static const char *const why[] = { NULL, "early", "callback" };
    lua_pushstring(L, why[t->stop]);
    lua_setfield(L, 1, "stopped");
    if (t->best_epoch) {
        lua_pushinteger(L, t->best_epoch);
        lua_setfield(L, 1, "best_epoch");
    }
}

static void fmt_duration(char *buf, size_t n, double s)
{
    if (!(s >= 0) || s > 1e7)
        snprintf(buf, n, "--:--");
    else if (s >= 3600)
        snprintf(buf, n, "%d:%02d:%02d", (int)s / 3600, (int)s / 60 % 60, (int)s % 60);
    else
        snprintf(buf, n, "%d:%02d", (int)s / 60, (int)s % 60);
}

/* One line, redrawn in place: epoch, batch, bar, loss, acc, samples/s, ETA. */
static void draw_bar(ltrainer *lt, int goal_epochs, int force)
{
    trainer *t = lt->t;
    double now = clock_now();
    if (!force && now - lt->bar_last < 0.1)
        return;
    lt->bar_last = now;
    lt->bar_shown = 1;
    int spe = (t->N + t->cfg.batch - 1) / t->cfg.batch;
    int e = t->epoch_ended ? t->epoch : t->epoch + 1;
    int b = t->batch_in_epoch;
    int rows = t->epoch_ended ? t->N : t->pos;
    double secs = now - lt->bar_rate_t0;
    double rate = secs > 0 ? lt->bar_rate_rows / secs : 0;
    long left = (long)(goal_epochs - e) * t->N + (t->N - rows);
    char eta[32];
    fmt_duration(eta, sizeof eta, rate > 0 ? left / rate : -1);
    char bar[24];
    int fill = (int)(20.0 * b / spe);
    for (int i = 0; i < 20; i++)
        bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
    bar[20] = '\0';
    double loss = rows ? t->run_loss / rows : NAN;
    printf("\r\033[Kepoch %d/%d [%s] %d/%d  loss %.4f", e, goal_epochs, bar, b, spe, loss);
    if (t->classes)
        printf("  acc %.2f%%", rows ? 100.0 * t->run_correct / rows : 0.0);
    printf("  %.0f samples/s  ETA %s", rate, eta);
    fflush(stdout);
}

/* Take the bar off its line, so that what is printed next starts clean. */
static void clear_bar(ltrainer *lt)
{
    if (lt->bar_shown) {
        printf("\r\033[K");
        fflush(stdout);
        lt->bar_shown = 0;
    }
}

/* After an epoch: replace the bar by a summary line that stays. */
static void epoch_line(const trainer *t, int goal_epochs)
{
    const train_history *h = &t->history;
    int e = h->n - 1;
    printf("\r\033[Kepoch %d/%d  loss %.4f", t->epoch, goal_epochs, h->train_loss[e]);
    if (t->classes)
        printf("  acc %.2f%%", 100 * h->train_acc[e]);
    if (t->val.X.data) {
        printf("  val_loss %.4f", h->val_loss[e]);
        if (t->val.labels.data)
            printf("  val_acc %.2f%%", 100 * h->val_acc[e]);
    }
    printf("  %.1fs\n", h->seconds[e]);
    fflush(stdout);
}

enum { DRIVE_STEP, DRIVE_EPOCH, DRIVE_RUN };

/* Call the callback `name` kept in the state's user value (at uv) with the
 * trainer and extra arguments already pushed (nargs); true unless it
 * returned false. Errors propagate (the core is between batches), after the
 * progress bar is taken off its line. */
static int call_back(lua_State *L, ltrainer *lt, int uv, const char *name, int nargs)
{
    if (lua_getfield(L, uv, name) != LUA_TFUNCTION) {
        lua_pop(L, 1 + nargs);
        return 1;
    }
    lua_insert(L, -(nargs + 1));
    lua_pushvalue(L, 1);
    lua_insert(L, -(nargs + 1));
    if (lua_pcall(L, nargs + 1, 1, 0) != LUA_OK) {
        clear_bar(lt);   /* the error message gets a line of its own */
        return lua_error(L);
    }
    int go_on = !(lua_isboolean(L, -1) && !lua_toboolean(L, -1));
    lua_pop(L, 1);
    return go_on;
}

/* The η of the coming epoch from the Lua schedule function. */
static void schedule_lr(lua_State *L, ltrainer *lt, int uv, trainer *t)
{
    lua_getfield(L, uv, "schedule");
    lua_pushinteger(L, t->epoch + 1);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        clear_bar(lt);
        lua_error(L);
    }
    int ok = 0;
    double lr = lua_tonumberx(L, -1, &ok);
    if (!ok || !(lr >= 0) || !isfinite(lr))
        luaL_error(L, "trainer: schedule(%d) must return a learning rate >= 0, got %s",
                   t->epoch + 1, lua_isnumber(L, -1) ? lua_tostring(L, -1) : luaL_typename(L, -1));
    lua_pop(L, 1);
    t->lr_custom = (float)lr;
}

static int drive(lua_State *L, int mode, int goal)
{
    ltrainer *lt = check_trainer(L);
    int uv = lua_gettop(L);
    trainer *t = lt->t;
    if (mode == DRIVE_RUN && t->stop == TRAIN_CALLER)
        t->stop = TRAIN_RUNNING;   /* a callback's stop lasts one run */
    int bar_goal = mode == DRIVE_RUN ? goal : t->epoch + 1;
    lt->bar_rate_t0 = clock_now();
    lt->bar_rate_rows = 0;
    lt->bar_last = 0;
    lt->bar_shown = 0;
    while (!(mode == DRIVE_RUN && (t->epoch >= goal || t->stop == TRAIN_EARLY))) {
        if (t->pos == 0 && lt->has_schedule_fn)
            schedule_lr(L, lt, uv, t);
        dl_status s = train_step(t);
        if (s != DL_OK) {
            sync_history(L, t);
            clear_bar(lt);
            return luaL_error(L, "trainer: training failed at epoch %d, batch %d: %s",
                              t->epoch + 1, t->batch_in_epoch + 1, dl_strerror(s));
        }
        lt->bar_rate_rows += t->last_rows;
        int ended = t->epoch_ended;
        int e = ended ? t->epoch : t->epoch + 1, b = t->batch_in_epoch;
        if (t->cfg.record_steps || ended)
            sync_history(L, t);
        if (ended)
            sync_fields(L, t);
        if (lt->progress) {   /* t:step() draws no bar: the prompt prints its cost */
            if (ended) {
                epoch_line(t, bar_goal > t->epoch ? bar_goal : t->epoch);
                lt->bar_shown = 0;
            } else if (mode != DRIVE_STEP) {
                draw_bar(lt, bar_goal, 0);
            }
        }
        /* Before any callback: calling Lua would let the REPL's Ctrl-C hook
         * raise a bare "interrupted" instead of saying where training stopped. */
        if (dl_interrupted()) {
            dl_interrupt_set(0);   /* reported here: see dl.h */
            clear_bar(lt);
            lua_pushliteral(L, "interrupted");
            lua_setfield(L, 1, "stopped");
            return luaL_error(L, "interrupted after epoch %d, batch %d", e, b);
        }
        int go_on = 1;
        lua_pushinteger(L, e);
        lua_pushinteger(L, b);
        lua_pushnumber(L, t->last_loss);
        go_on = call_back(L, lt, uv, "on_step", 3);
        if (go_on && ended) {
            lua_pushinteger(L, e);
            go_on = call_back(L, lt, uv, "on_epoch", 1);
        }
        if (!go_on) {
            t->stop = TRAIN_CALLER;
            sync_fields(L, t);
            break;
        }
        if (mode == DRIVE_STEP || (mode == DRIVE_EPOCH && ended))
            break;
    }
    clear_bar(lt);
    if (mode == DRIVE_RUN && t->stop != TRAIN_CALLER)
        train_finish(t);
    sync_history(L, t);
    sync_fields(L, t);
    lua_pushvalue(L, 1);
    return 1;
}

/* t:run([n]): until `epochs` epochs are done in total, or n more. */
static int t_run(lua_State *L)
{
    lua_Integer more = luaL_optinteger(L, 2, -1);
    if (!lua_isnoneornil(L, 2) && more < 1)
        return luaL_argerror(L, 2, "number of epochs must be at least 1");
    ltrainer *lt = check_trainer(L);
    lua_settop(L, 1);
    trainer *t = lt->t;
    int goal = t->cfg.epochs;
    if (more > 0) {
        if (more > 0x7fffffff - t->epoch)
            return luaL_argerror(L, 2, "too many epochs");
        goal = t->epoch + (int)more;   /* a partial epoch is finished first, and counts */
        if (t->stop == TRAIN_EARLY) {   /* asked for more: go on, with new patience */
            t->stop = TRAIN_RUNNING;
            t->bad_epochs = 0;
        }
    }
    return drive(L, DRIVE_RUN, goal);
}

static int t_epoch(lua_State *L)
{
    lua_settop(L, 1);
    return drive(L, DRIVE_EPOCH, 0);
}

static int t_step(lua_State *L)
{
    lua_settop(L, 1);
    drive(L, DRIVE_STEP, 0);
    ltrainer *lt = check_trainer(L);
    lua_pushnumber(L, lt->t->last_loss);
    return 1;
}

/* t:position() → epochs completed, batches done in the current epoch, steps. */
static int t_position(lua_State *L)
{
    trainer *t = check_trainer(L)->t;
    lua_pushinteger(L, t->epoch);
    lua_pushinteger(L, t->pos ? t->batch_in_epoch : 0);
    return 2;
}

/* t:lr() → η of the current (or next) epoch. */
static int t_lr(lua_State *L)
{
    trainer *t = check_trainer(L)->t;
    lua_pushnumber(L, t->pos ? t->lr_now : train_schedule_lr(&t->cfg, t->epoch));
    return 1;
}

/* t:restore_best() → the epoch restored */
static int t_restore_best(lua_State *L)
{
    trainer *t = check_trainer(L)->t;
    if (train_restore_best(t) != DL_OK)
        return luaL_error(L, "trainer: no best epoch kept (needs validation, patience > 0 "
                             "and restore_best)");
    lua_pushinteger(L, t->best_epoch);
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Evaluation                                                                 */

/* The network at index 1 and the dataset at index 2, checked against each other. */
static net *check_net_and_set(lua_State *L, train_data *d, const char *fname)
{
    net *n = dl_checknet(L, 1);
    if (lua_type(L, 2) != LUA_TTABLE)
        luaL_typeerror(L, 2, "dataset");
    read_dataset(L, 2, d, fname);
    if (d->X.cols != n->sizes[0])
        luaL_error(L, "%s: set.X has %d columns but the network takes %d inputs", fname,
                   d->X.cols, n->sizes[0]);
    if (d->X.rows < 1)
        luaL_error(L, "%s: the set has no rows", fname);
    char msg[200];
    train_config c = train_config_default();
    train_data none;
    memset(&none, 0, sizeof none);
    if (train_check(n, &c, *d, none, msg, sizeof msg) != DL_OK)
        luaL_error(L, "%s: %s", fname, msg);
    return n;
}

/* trainer.evaluate(net, set) → loss, accuracy, confusion matrix */
static int t_evaluate(lua_State *L)
{
    train_data d;
    net *n = check_net_and_set(L, &d, "evaluate");
    int k = n->sizes[n->L] == 1 ? 2 : n->sizes[n->L];
    int *conf = NULL;
    if (d.labels.data)
        conf = lua_newuserdatauv(L, (size_t)k * k * sizeof(int), 0);   /* freed by the GC */
    train_eval ev;
    dl_status s = train_evaluate(n, d, 256, &ev, conf);
    if (s != DL_OK)
        return luaL_error(L, "evaluate: %s", dl_strerror(s));
    lua_pushnumber(L, ev.loss);
    if (!d.labels.data)
        return 1;
    lua_pushnumber(L, ev.accuracy);
    mat *m = dl_newmatrix(L, k, k);
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++)
            *mat_at(*m, i, j) = (float)conf[i * k + j];
    return 3;
}

/* trainer.most_confident_errors(net, set, k) → indices, labels, confidences */
static int t_confident_errors(lua_State *L)
{
    train_data d;
    net *n = check_net_and_set(L, &d, "most_confident_errors");
    lua_Integer k = luaL_optinteger(L, 3, 10);
    if (k < 0)
        return luaL_argerror(L, 3, lua_pushfstring(L, "k must be >= 0, got %I", k));
    if (!d.labels.data)
        return luaL_error(L, "most_confident_errors: the set has no labels (y)");
    if (k > d.X.rows)
        k = d.X.rows;   /* "up to k": there cannot be more errors than rows */
    size_t kk = k ? (size_t)k : 1;
    int *idx = lua_newuserdatauv(L, kk * (2 * sizeof(int) + sizeof(float)), 0);
    int *pred = idx + kk;
    float *conf = (float *)(pred + kk);
    int found = 0;
    dl_status s = train_confident_errors(n, d, (int)k, idx, pred, conf, &found);
    if (s != DL_OK)
        return luaL_error(L, "most_confident_errors: %s", dl_strerror(s));
    lua_createtable(L, found, 0);
    lua_createtable(L, found, 0);
    lua_createtable(L, found, 0);
    for (int i = 0; i < found; i++) {
        lua_pushinteger(L, idx[i] + 1);
        lua_rawseti(L, -4, i + 1);
        lua_pushinteger(L, pred[i]);
        lua_rawseti(L, -3, i + 1);
        lua_pushnumber(L, conf[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 3;
}

static const luaL_Reg meth[] = {
    { "run", t_run },
    { "epoch", t_epoch },
    { "step", t_step },
    { "position", t_position },
    { "lr", t_lr },
    { "restore_best", t_restore_best },
    { NULL, NULL }
};

static const luaL_Reg funcs[] = {
    { "new", t_new },
    { "evaluate", t_evaluate },
    { "most_confident_errors", t_confident_errors },
    { NULL, NULL }
};

static int module_call(lua_State *L)
{
    lua_remove(L, 1);   /* trainer{...} is trainer.new{...} */
    return t_new(L);
}

static int t_tostring(lua_State *L)
{
    lua_getfield(L, 1, "_state");
    ltrainer *lt = luaL_testudata(L, -1, DL_TRAINER_STATE);
    if (!lt || !lt->t) {
        lua_pushliteral(L, "trainer (no state)");
        return 1;
    }
    trainer *t = lt->t;
    char lr[32];  /* %g: lr is a float, whose 0.1 reads 0.10000000149012 in full */
    snprintf(lr, sizeof lr, "%g", (double)t->cfg.lr);
    lua_pushfstring(L, "trainer: %d samples, batch %d, lr %s, epoch %d of %d%s",
                    t->N, t->cfg.batch, lr, t->epoch, t->cfg.epochs,
                    t->stop == TRAIN_EARLY ? " (stopped early)" : "");
    return 1;
}

int luaopen_deltalab_trainer(lua_State *L)
{
    luaL_newmetatable(L, DL_TRAINER_STATE);
    lua_pushcfunction(L, state_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);

    luaL_newlib(L, funcs);
    int mod = lua_gettop(L);
    luaL_newmetatable(L, DL_TRAINER);
    int mt = lua_gettop(L);
    luaL_newlib(L, meth);
    int methods = lua_gettop(L);
    lua_pushvalue(L, methods);
    lua_setfield(L, mt, "__index");
    lua_pushcfunction(L, t_tostring);
    lua_setfield(L, mt, "__tostring");
    lua_settop(L, mod);

    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, module_call);
    lua_setfield(L, -2, "__call");
    lua_setmetatable(L, mod);
    return 1;
}
