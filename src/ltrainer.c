/*
 * ltrainer.c — the Lua face of the core's trainer (src/core/train.h).
 *
 * A trainer is a Lua table with metatable "trainer", so that t.history,
 * t.net, t.settings, t.on_step, t.on_epoch read as plain fields; its core
 * state is a userdata found through a registry table with weak keys (no
 * private field on the user's table), whose user value (a table no Lua code
 * can reach) holds the network, the data sets, their matrices, the schedule
 * and the checkpoint name, keeping them alive as long as the trainer.
 *
 * The loop over batches is the core's (train_run, train_epoch, train_batch):
 * t:run(), t:epoch() and t:step() each make one call into it with one hook,
 * on_event, which draws the progress bar (the core's, on stdout) and runs
 * the Lua side of a batch: the schedule function, the callbacks, t.history.
 * A Lua error must not unwind through the core's loop, so the hook runs all
 * of that under lua_pcall, stops the loop when it fails, and the error is
 * raised again once the core has returned, network and trainer consistent.
 * Ctrl-C is the core's too: it returns DL_INTERRUPTED and t:run() raises
 * "interrupted after batch K of epoch E".
 *
 * Checkpoints are the core's format (src/core/io/trainio.h): t:save(path),
 * trainer.load(path, {train = ..., ...}), and trainer{checkpoint = path,
 * every = k}, which saves from the hook after every k-th epoch (before
 * on_epoch), at the end of t:run() and before reporting a Ctrl-C.
 */
#include "deltalab.h"
#include "largs.h"
#include "core/threads.h"
#include "core/train.h"
#include "core/io/trainio.h"

#include <limits.h>
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
    int has_on_step;
    int every;                /* save the checkpoint every this many epochs (0: no checkpoint) */
    int saved_epoch;          /* epochs done at the last checkpoint saved, -1: none */
    int saved_pos;            /* and rows of the epoch then */
} ltrainer;

/* ------------------------------------------------------------------------ */
/* Data sets and the trainer's state                                          */

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

/* Bring the core's view of the network and data up to date from the objects
 * the state's user value (at uv) keeps: a matrix may have been closed, or a
 * set replaced, which raises here, before the core can touch it. */
static void refresh(lua_State *L, trainer *t, int uv)
{
    int top = lua_gettop(L);
    lua_getfield(L, uv, "net");
    if (dl_checknet(L, -1) != t->net)
        luaL_error(L, "trainer: its network is gone");
    dl_net_changed(L, -1);   /* for net:snapshot: W is about to move under z, a, δ */
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
    lua_settop(L, top);
}

/* Push the registry's table from trainer tables to their states (weak keys:
 * a trainer no one holds is collected with its state). */
static void push_states(lua_State *L)
{
    if (!luaL_getsubtable(L, LUA_REGISTRYINDEX, "deltalab.trainer.states")) {
        lua_createtable(L, 0, 1);
        lua_pushliteral(L, "k");
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
    }
}

/* Push the state of the trainer table at idx (or nil). */
static void push_state_of(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    push_states(L);
    lua_pushvalue(L, idx);
    lua_rawget(L, -2);
    lua_remove(L, -2);
}

/* The trainer table at index 1 and its live state, refreshed; leaves the
 * state and its user value on the stack above the arguments. */
static ltrainer *check_trainer(lua_State *L)
{
    if (!lua_istable(L, 1) || !lua_getmetatable(L, 1))
        luaL_typeerror(L, 1, DL_TRAINER);
    luaL_getmetatable(L, DL_TRAINER);
    if (!lua_rawequal(L, -1, -2))
        luaL_typeerror(L, 1, DL_TRAINER);
    lua_pop(L, 2);
    push_state_of(L, 1);
    ltrainer *lt = luaL_testudata(L, -1, DL_TRAINER_STATE);
    if (!lt || !lt->t)
        luaL_error(L, "trainer: this table has no training state (make one with trainer{...})");
    lua_getiuservalue(L, -1, 1);
    refresh(L, lt->t, lua_gettop(L));
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

/* The options trainer{...} takes. */
static const char *const options[] = {
    "net", "train", "validation", "batch", "lr", "epochs", "lambda", "momentum", "shuffle",
    "seed", "patience", "restore_best", "monitor", "schedule", "rule", "on_step", "on_epoch",
    "record_steps", "progress", "eval_batch", "on_nan", "checkpoint", "every", NULL
};

/* The options trainer.load(path, {...}) takes: the data and what a file cannot hold. */
static const char *const load_options[] = {
    "train", "validation", "schedule", "on_step", "on_epoch", "progress", "checkpoint",
    "every", NULL
};

/* What the state's user value keeps alive (from the options, net included). */
static const char *const kept[] = {
    "net", "train", "validation", "schedule", "checkpoint"
};

/* schedule = "step" | {"step", every=, gamma=} | {"inv_t", decay=} | function */
static void read_schedule(lua_State *L, train_config *c, ltrainer *lt)
{
    static const char *const fields[] = { "every", "gamma", "decay", NULL };
    int ty = lua_getfield(L, 1, "schedule");
    int top = lua_gettop(L);
    if (ty == LUA_TFUNCTION) {
        c->schedule = TRAIN_CUSTOM;
        lt->has_schedule_fn = 1;
    } else if (ty == LUA_TSTRING) {
        c->schedule = dl_checkchoice(L, top, "trainer", "schedule", train_schedule_names);
    } else if (ty == LUA_TTABLE) {
        dl_checkoptions(L, top, "trainer schedule", fields, 1);
        lua_rawgeti(L, top, 1);
        c->schedule = dl_checkchoice(L, -1, "trainer", "schedule", train_schedule_names);
        lua_pop(L, 1);
        const char *fn = "trainer schedule";
        c->step_every = (int)dl_optinteger(L, top, fn, "every", c->step_every, 1, INT_MAX);
        c->step_gamma = dl_optnumber(L, top, fn, "gamma", c->step_gamma);
        c->inv_decay = dl_optnumber(L, top, fn, "decay", c->inv_decay);
    } else if (ty != LUA_TNIL) {
        luaL_error(L, "trainer: option 'schedule' must be a name, a table or a function, got %s",
                   luaL_typename(L, top));
    }
    if (c->schedule == TRAIN_CUSTOM && ty != LUA_TFUNCTION)
        luaL_error(L, "trainer: schedule 'custom' is given as a function(epoch) returning lr");
    lua_settop(L, top - 1);
}

/* Whether the option `name` holds a function (nil: no). */
static int optional_function(lua_State *L, const char *name)
{
    int ty = lua_getfield(L, 1, name);
    if (ty != LUA_TNIL && ty != LUA_TFUNCTION)
        luaL_error(L, "trainer: option '%s' must be a function, got %s", name, luaL_typename(L, -1));
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
    lua_pushstring(L, train_on_nan_names[c->on_nan]); lua_setfield(L, -2, "on_nan");
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

/* The options of a run both trainer{} and trainer.load take, from the
 * options table at index 1: callbacks, progress, checkpoint and every. */
static void read_run_options(lua_State *L, ltrainer *lt, const char *fn)
{
    optional_function(L, "on_step");   /* checked here; t.on_step, t.on_epoch are read */
    optional_function(L, "on_epoch");  /* at each event (drive, event_body) */
    lt->progress = dl_optboolean(L, 1, fn, "progress", isatty(STDOUT_FILENO));
    const char *ckpt = dl_optstring(L, 1, fn, "checkpoint", NULL);
    lt->every = (int)dl_optinteger(L, 1, fn, "every", ckpt ? 1 : 0, 1, INT_MAX);
    if (!ckpt && lt->every)
        luaL_error(L, "%s: option 'every' needs option 'checkpoint' (the file to save to)", fn);
    if (ckpt && !*ckpt)
        luaL_error(L, "%s: option 'checkpoint' must name a file, got an empty string", fn);
    lt->saved_epoch = -1;
}

/* The trainer table users hold, for the built state at st, from the options
 * at opts (net, data, callbacks, checkpoint); the state's user value keeps
 * those alive. Leaves the table on top. */
static void push_trainer(lua_State *L, int opts, int st)
{
    ltrainer *lt = check_state(L, st);
    lua_createtable(L, 0, 8);
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        lua_getfield(L, opts, kept[i]);
        lua_setfield(L, -2, kept[i]);
    }
    lua_setiuservalue(L, st, 1);

    lua_createtable(L, 0, 8);
    push_states(L);
    lua_pushvalue(L, -2);
    lua_pushvalue(L, st);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    static const char *const shown[] = { "net", "train", "validation", "on_step", "on_epoch" };
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
        lua_getfield(L, opts, shown[i]);
        lua_setfield(L, -2, shown[i]);
    }
    push_settings(L, &lt->t->cfg);
    lua_setfield(L, -2, "settings");
    push_history(L, lt->t->cfg.record_steps);
    lua_setfield(L, -2, "history");
    luaL_setmetatable(L, DL_TRAINER);
}

/* trainer{net=, train=, ...} */
static int t_new(lua_State *L)
{
    if (lua_type(L, 1) != LUA_TTABLE)
        return luaL_typeerror(L, 1, "table of options");
    lua_settop(L, 1);
    dl_checkoptions(L, 1, "trainer", options, 0);

    lua_getfield(L, 1, "net");
    if (lua_isnil(L, -1))
        luaL_error(L, "trainer: option 'net' is required (a network to train)");
    if (!luaL_testudata(L, -1, "network"))
        luaL_error(L, "trainer: option 'net' must be a network, got %s", luaL_typename(L, -1));
    net *n = dl_checknet(L, -1);   /* raises for a closed network */
    lua_pop(L, 1);
    train_data train, val;
    memset(&val, 0, sizeof val);
    lua_getfield(L, 1, "train");
    if (lua_isnil(L, -1))
        luaL_error(L, "trainer: option 'train' is required (a dataset with X and y)");
    read_dataset(L, -1, &train, "trainer: train");
    lua_pop(L, 1);
    lua_getfield(L, 1, "validation");
    if (!lua_isnil(L, -1))
        read_dataset(L, -1, &val, "trainer: validation");
    lua_pop(L, 1);

    ltrainer *lt = lua_newuserdatauv(L, sizeof *lt, 1);   /* index 2 */
    memset(lt, 0, sizeof *lt);
    luaL_setmetatable(L, DL_TRAINER_STATE);

    const char *fn = "trainer";
    train_config c = train_config_default();
    c.batch = (int)dl_optinteger(L, 1, fn, "batch", c.batch, 1, INT_MAX);
    c.epochs = (int)dl_optinteger(L, 1, fn, "epochs", c.epochs, 1, INT_MAX);
    c.lr = dl_optnumber(L, 1, fn, "lr", c.lr);
    c.lambda = (float)dl_optnumber(L, 1, fn, "lambda", c.lambda);
    c.momentum = (float)dl_optnumber(L, 1, fn, "momentum", c.momentum);
    c.shuffle = dl_optboolean(L, 1, fn, "shuffle", c.shuffle);
    c.seed = (uint64_t)dl_optinteger(L, 1, fn, "seed", (lua_Integer)c.seed,
                                     LUA_MININTEGER, LUA_MAXINTEGER);
    c.patience = (int)dl_optinteger(L, 1, fn, "patience", c.patience, 0, INT_MAX);
    c.restore_best = dl_optboolean(L, 1, fn, "restore_best", c.restore_best);
    c.monitor = dl_optchoice(L, 1, fn, "monitor", "monitor", train_monitor_names, c.monitor);
    c.rule = dl_optchoice(L, 1, fn, "rule", "rule", train_rule_names, c.rule);
    c.record_steps = dl_optboolean(L, 1, fn, "record_steps", c.record_steps);
    c.eval_batch = (int)dl_optinteger(L, 1, fn, "eval_batch", c.eval_batch, 1, INT_MAX);
    c.on_nan = dl_optchoice(L, 1, fn, "on_nan", "on_nan", train_on_nan_names, c.on_nan);
    read_schedule(L, &c, lt);
    read_run_options(L, lt, fn);

    char msg[256];
    dl_status s = train_new(&lt->t, n, &c, train, val, msg, sizeof msg);
    if (s != DL_OK)
        return luaL_error(L, "trainer: %s", msg);
    push_trainer(L, 1, 2);
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

/* ------------------------------------------------------------------------ */
/* The hook: what Lua does between the core's batches                         */

/* One call into the core's loop from t:run(), t:epoch() or t:step(). */
typedef struct lrun {
    lua_State *L;
    ltrainer *lt;
    int uv;                    /* stack index of the state's user value */
    train_progress bar;        /* drawn when lt->progress */
    const train_event *ev;     /* the event on_event is handling */
    int failed;                /* the Lua side raised: its error is on top of the stack */
} lrun;

/* The epoch and batch of the last batch done (as the hook was told them). */
static void last_batch(const trainer *t, int *e, int *b)
{
    *e = t->pos == 0 && t->epoch > 0 ? t->epoch : t->epoch + 1;
    *b = t->batch_in_epoch;
}

/* Whether the table at idx has a function in its field name. */
static int has_field_function(lua_State *L, int idx, const char *name)
{
    int yes = lua_getfield(L, idx, name) == LUA_TFUNCTION;
    lua_pop(L, 1);
    return yes;
}

/* Call the trainer's callback `name` (the field t.on_step or t.on_epoch of
 * the trainer table at index 1, so it may be set after trainer{}) with the
 * trainer and nargs arguments already pushed; true unless it returned false. */
static int call_back(lua_State *L, const char *name, int nargs)
{
    if (lua_getfield(L, 1, name) != LUA_TFUNCTION) {
        lua_pop(L, 1 + nargs);
        return 1;
    }
    lua_insert(L, -(nargs + 1));
    lua_pushvalue(L, 1);
    lua_insert(L, -(nargs + 1));
    lua_call(L, nargs + 1, 1);
    int go_on = !(lua_isboolean(L, -1) && !lua_toboolean(L, -1));
    lua_pop(L, 1);
    return go_on;
}

/* The η of the coming epoch from the Lua schedule function. */
static void schedule_lr(lua_State *L, int uv, trainer *t)
{
    lua_getfield(L, uv, "schedule");
    lua_pushinteger(L, t->epoch + 1);
    lua_call(L, 1, 1);
    int ok = 0;
    double lr = lua_tonumberx(L, -1, &ok);
    if (!ok || !(lr >= 0) || !isfinite(lr))
        luaL_error(L, "trainer: schedule(%d) must return a learning rate >= 0, got %s",
                   t->epoch + 1, lua_isnumber(L, -1) ? lua_tostring(L, -1) : luaL_typename(L, -1));
    lua_pop(L, 1);
    t->lr_custom = lr;
}

/* Save the trainer to its checkpoint file (the user value at uv names it),
 * unless there is none or it already holds this state: DL_OK, or the
 * failure with "path: reason" in msg. */
static dl_status save_checkpoint(lua_State *L, int uv, ltrainer *lt, char *msg, size_t msglen)
{
    trainer *t = lt->t;
    if (!lt->every || (lt->saved_epoch == t->epoch && lt->saved_pos == t->pos))
        return DL_OK;
    lua_getfield(L, uv, "checkpoint");
    dl_status s = train_save(t, lua_tostring(L, -1), msg, msglen);
    lua_pop(L, 1);
    if (s == DL_OK) {
        lt->saved_epoch = t->epoch;
        lt->saved_pos = t->pos;
    }
    return s;
}

/* The Lua side of one event, called protected by on_event with the trainer
 * table (1), the state's user value (2) and the lrun (3); returns whether
 * training goes on. */
static int event_body(lua_State *L)
{
    lrun *r = lua_touserdata(L, 3);
    const train_event *ev = r->ev;
    trainer *t = ev->t;
    int go_on = 1;
    switch (ev->kind) {
    case TRAIN_EPOCH_BEGIN:
        schedule_lr(L, 2, t);
        break;
    case TRAIN_BATCH_END:
        if (t->cfg.record_steps || t->epoch_ended)
            sync_history(L, t);
        if (t->epoch_ended)
            sync_fields(L, t);
        lua_pushinteger(L, ev->epoch);
        lua_pushinteger(L, ev->batch);
        lua_pushnumber(L, ev->loss);
        go_on = call_back(L, "on_step", 3);
        break;
    case TRAIN_EPOCH_END:
        /* Saved before on_epoch runs, so that the file holds the trainer as
         * the loop left it, whatever the callback does. */
        if (r->lt->every && t->epoch % r->lt->every == 0) {
            char msg[400];
            if (save_checkpoint(L, 2, r->lt, msg, sizeof msg) != DL_OK)
                luaL_error(L, "trainer: cannot save the checkpoint %s", msg);
        }
        lua_pushinteger(L, ev->epoch);
        go_on = call_back(L, "on_epoch", 1);
        break;
    }
    refresh(L, t, 2);   /* a callback may have closed what the next batch reads */
    r->lt->has_on_step = has_field_function(L, 1, "on_step");   /* it may have set one */
    lua_pushboolean(L, go_on);
    return 1;
}

/* Whether an event has anything to do on the Lua side. */
static int needs_lua(const ltrainer *lt, const train_event *ev)
{
    switch (ev->kind) {
    case TRAIN_EPOCH_BEGIN: return lt->has_schedule_fn;
    case TRAIN_BATCH_END:   return lt->has_on_step || ev->t->cfg.record_steps || ev->t->epoch_ended;
    case TRAIN_EPOCH_END:   return 1;  /* rare; on_epoch may be set after trainer{} (plot.live) */
    }
    return 0;
}

/* The one hook the binding gives the core's loop. */
static int on_event(void *ctx, const train_event *ev)
{
    lrun *r = ctx;
    lua_State *L = r->L;
    if (r->lt->progress)
        train_progress_hook(&r->bar, ev);
    if (!needs_lua(r->lt, ev))
        return 0;
    net_sync_grads(ev->t->net);   /* a callback may read layer.dW (net_backward_update) */
    r->ev = ev;
    lua_pushcfunction(L, event_body);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, r->uv);
    lua_pushlightuserdata(L, r);
    if (lua_pcall(L, 3, 1, 0) != LUA_OK) {
        r->failed = 1;   /* the error stays on the stack until the core has returned */
        return 1;
    }
    int go_on = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return !go_on;
}

/* Raise "interrupted after batch K of epoch E" (that epoch is still under
 * way) or "interrupted after the last batch of epoch E", and leave t.stopped
 * saying so. A trainer with a checkpoint file saves itself first, and says so. */
static int interrupted(lua_State *L, ltrainer *lt, int uv)
{
    const trainer *t = lt->t;
    int e, b;
    last_batch(t, &e, &b);
    lua_pushliteral(L, "interrupted");
    lua_setfield(L, 1, "stopped");
    char where[64];
    if (t->pos == 0 && t->epoch > 0)
        snprintf(where, sizeof where, "the last batch of epoch %d", e);
    else
        snprintf(where, sizeof where, "batch %d of epoch %d", b, e);
    if (!lt->every)
        return luaL_error(L, "interrupted after %s", where);
    char msg[400];
    if (save_checkpoint(L, uv, lt, msg, sizeof msg) != DL_OK)
        return luaL_error(L, "interrupted after %s (the checkpoint could not be saved: %s)",
                          where, msg);
    lua_getfield(L, uv, "checkpoint");
    return luaL_error(L, "interrupted after %s (saved to %s)", where, lua_tostring(L, -1));
}

/* The batch whose loss was NaN or infinite: where, what overflowed, and what
 * to change. The network is as it was before that batch's update. */
static int diverged(lua_State *L, const trainer *t)
{
    const net *n = t->net;
    char where[64] = "";
    int l = net_first_nonfinite(n);
    if (l >= 0 && l < n->L - 1)
        snprintf(where, sizeof where, " (layer %d's activations overflowed)", l + 2);
    else if (l == n->L - 1)
        snprintf(where, sizeof where, " (the output layer overflowed)");
    char hint[96];
    int big_init = n->init == DL_INIT_NIELSEN || n->init == DL_INIT_COUNT;
    snprintf(hint, sizeof hint, "lower lr (%g)%s", (double)t->lr_now,
             big_init ? " or use init = \"auto\" (He for ReLU layers)" : "");
    lua_pushliteral(L, "diverged");
    lua_setfield(L, 1, "stopped");
    return luaL_error(L, "trainer: training diverged at epoch %d, batch %d: the loss is %s%s; %s "
                      "(on_nan = \"continue\" trains on regardless)", t->epoch + 1,
                      t->batch_in_epoch + 1, isnan(t->last_loss) ? "NaN" : "infinite", where,
                      hint);
}

enum { DRIVE_STEP, DRIVE_EPOCH, DRIVE_RUN };

/* One call into the core's loop; returns the trainer, or raises what the
 * loop or the hook ran into once the core has returned. */
static int drive(lua_State *L, int mode, int goal)
{
    ltrainer *lt = check_trainer(L);
    trainer *t = lt->t;
    lt->has_on_step = has_field_function(L, 1, "on_step");   /* t.on_step may be new */
    lt->saved_epoch = -1;   /* the state may have changed since the last save */
    lrun r = { L, lt, lua_gettop(L), { 0 }, NULL, 0 };
    train_progress_start(&r.bar, stdout, mode == DRIVE_RUN ? goal : t->epoch + 1,
                         mode != DRIVE_STEP);   /* t:step() draws no bar: the prompt prints its cost */
    luaL_checkstack(L, 8, "trainer");   /* room for on_event, which must not raise */
    dl_status s = mode == DRIVE_RUN ? train_run(t, goal, on_event, &r)
                : mode == DRIVE_EPOCH ? train_epoch(t, on_event, &r)
                : train_batch(t, on_event, &r);
    train_progress_clear(&r.bar);   /* what is printed next gets a line of its own */
    if (r.failed) {
        t->stop = TRAIN_RUNNING;   /* an error is not a stop the user asked for */
        sync_history(L, t);
        /* Ctrl-C while Lua ran: the REPL's hook raised its bare "interrupted"
         * inside the callback; say where training stopped instead. */
        if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "interrupted") == 0)
            return interrupted(L, lt, r.uv);
        return lua_error(L);
    }
    sync_history(L, t);
    sync_fields(L, t);
    if (s == DL_INTERRUPTED) {
        dl_interrupt_set(0);   /* reported here: see dl.h */
        return interrupted(L, lt, r.uv);
    }
    if (s == DL_DIVERGED)
        return diverged(L, t);
    if (s != DL_OK)   /* the batch that failed is not counted */
        return luaL_error(L, "trainer: training failed at epoch %d, batch %d: %s",
                          t->epoch + 1, t->batch_in_epoch + 1, dl_strerror(s));
    char msg[400];
    if (mode == DRIVE_RUN && save_checkpoint(L, r.uv, lt, msg, sizeof msg) != DL_OK)
        return luaL_error(L, "trainer: cannot save the checkpoint %s", msg);
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
    dl_net_changed(L, 1);   /* for net:snapshot: its workspace is about to hold other batches */
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

/* ------------------------------------------------------------------------ */
/* Checkpoints                                                                */

/* t:save(path): the whole trainer, to go on later with trainer.load. */
static int t_save(lua_State *L)
{
    ltrainer *lt = check_trainer(L);
    const char *path = dl_checkpath(L, 2);
    char msg[400];
    if (train_save(lt->t, path, msg, sizeof msg) != DL_OK)
        return luaL_error(L, "trainer:save: cannot write %s", msg);   /* msg: "path: reason" */
    lua_settop(L, 1);
    return 1;
}

#define DL_TRAINER_CKPT "deltalab.trainer.checkpoint"

/* A checkpoint being read, freed by the GC if trainer.load raises. */
typedef struct lckpt {
    train_ckpt *c;
} lckpt;

static int ckpt_gc(lua_State *L)
{
    lckpt *k = luaL_checkudata(L, 1, DL_TRAINER_CKPT);
    train_ckpt_free(k->c);
    k->c = NULL;
    return 0;
}

/* The schedule option of trainer.load: a function exactly when the
 * checkpoint's schedule was one (a file cannot hold a Lua function). */
static void load_schedule(lua_State *L, const train_config *c, ltrainer *lt)
{
    int ty = lua_getfield(L, 1, "schedule");
    lua_pop(L, 1);
    if (c->schedule == TRAIN_CUSTOM && ty != LUA_TFUNCTION)
        luaL_error(L, "trainer.load: the checkpoint's schedule is a Lua function, which a "
                   "file cannot hold: give it again (schedule = function(epoch) ... end)");
    if (c->schedule != TRAIN_CUSTOM && ty != LUA_TNIL)
        luaL_error(L, "trainer.load: option 'schedule' is only for a checkpoint whose "
                   "schedule is a function (this one's is '%s', kept in the file)",
                   train_schedule_names[c->schedule]);
    lt->has_schedule_fn = c->schedule == TRAIN_CUSTOM;
}

/* trainer.load(path, {train = set [, validation = set, ...]}) → the trainer
 * saved in path, going on where it stopped. */
static int t_load(lua_State *L)
{
    const char *fn = "trainer.load";
    const char *path = dl_checkpath(L, 1);
    if (lua_type(L, 2) != LUA_TTABLE)
        return luaL_typeerror(L, 2, "table of options (train = the training set, ...)");
    lua_settop(L, 2);
    lua_insert(L, 1);   /* the options at 1, as the helpers read them; the path at 2 */
    dl_checkoptions(L, 1, fn, load_options, 0);
    train_data train, val;
    memset(&val, 0, sizeof val);
    lua_getfield(L, 1, "train");
    if (lua_isnil(L, -1))
        luaL_error(L, "trainer.load: option 'train' is required (the training set the "
                   "checkpoint was made with)");
    read_dataset(L, -1, &train, "trainer.load: train");
    lua_pop(L, 1);
    lua_getfield(L, 1, "validation");
    if (!lua_isnil(L, -1))
        read_dataset(L, -1, &val, "trainer.load: validation");
    lua_pop(L, 1);

    lckpt *k = lua_newuserdatauv(L, sizeof *k, 0);   /* index 3 */
    k->c = NULL;
    luaL_setmetatable(L, DL_TRAINER_CKPT);
    char msg[400];
    if (train_ckpt_read(&k->c, path, msg, sizeof msg) != DL_OK)
        return luaL_error(L, "%s: %s: %s", fn, path, msg);

    ltrainer *lt = lua_newuserdatauv(L, sizeof *lt, 1);   /* index 4 */
    memset(lt, 0, sizeof *lt);
    luaL_setmetatable(L, DL_TRAINER_STATE);
    load_schedule(L, &k->c->cfg, lt);
    read_run_options(L, lt, fn);
    if (train_resume(&lt->t, k->c, train, val, msg, sizeof msg) != DL_OK)
        return luaL_error(L, "%s: %s: %s", fn, path, msg);
    dl_pushnet(L, &k->c->net);   /* index 5: the network is Lua's now */

    lua_createtable(L, 0, 8);     /* index 6: the options, with the network */
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        lua_getfield(L, 1, kept[i]);
        lua_setfield(L, -2, kept[i]);
    }
    lua_pushvalue(L, 5);
    lua_setfield(L, -2, "net");
    push_trainer(L, 6, 4);
    lua_replace(L, 1);   /* the trainer table at 1, where sync_history looks */
    sync_history(L, lt->t);
    sync_fields(L, lt->t);
    lua_settop(L, 1);
    return 1;
}

static const luaL_Reg meth[] = {
    { "run", t_run },
    { "epoch", t_epoch },
    { "step", t_step },
    { "position", t_position },
    { "lr", t_lr },
    { "restore_best", t_restore_best },
    { "save", t_save },
    { NULL, NULL }
};

static const luaL_Reg funcs[] = {
    { "new", t_new },
    { "load", t_load },
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
    push_state_of(L, 1);
    ltrainer *lt = luaL_testudata(L, -1, DL_TRAINER_STATE);
    if (!lt || !lt->t) {
        lua_pushliteral(L, "trainer (no state)");
        return 1;
    }
    trainer *t = lt->t;
    char lr[32];  /* %g: short, as typed */
    snprintf(lr, sizeof lr, "%g", t->cfg.lr);
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
    luaL_newmetatable(L, DL_TRAINER_CKPT);
    lua_pushcfunction(L, ckpt_gc);
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
