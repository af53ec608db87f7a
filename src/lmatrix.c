/*
 * lmatrix.c — the matrix userdata: the Lua face of the core's mat.
 *
 * A matrix userdata is a header (struct lmatrix) followed, when it owns its
 * elements, by the float buffer itself, aligned to 64 bytes inside the block.
 * Keeping the buffer inside the userdata lets Lua's collector see its true size,
 * so a loop that makes big matrices stays bounded without collectgarbage().
 * A view (row, slice, reshape, a network's weights) has no buffer of its own:
 * its user value holds the owner, so the owner lives as long as the view does.
 *
 * Like liolib.c: static m_* functions, then the method and metamethod tables,
 * one createmeta, one opener. Every function checks its arguments first, then
 * calls the core (src/core/mat.h, npy.h) and pushes the result; the only loops
 * here are over Lua values (tables in, tables out). This file holds the type
 * (creation, access, views, files); lmatrix_ops.c its maths.
 */
#include "lmatrix.h"
#include "core/io/csv.h"
#include "core/io/csv_write.h"
#include "core/io/npy.h"

#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

/* ---- The C API shared with the other bindings (deltalab.h) ---- */

/* Bring the following view lm (at index i) up to date: re-read its source
 * from the owner; a view made from the source moves with it while the source
 * keeps the shape it had, and raises once that has changed. */
static void refresh(lua_State *L, int i, lmatrix *lm)
{
    i = lua_absindex(L, i);
    lua_getiuservalue(L, i, 1);
    mat src = lm->follow->get(L, lua_gettop(L), lm->key);
    lua_pop(L, 1);
    if (!src.data) {                   /* the owner was closed */
        lm->m.data = NULL;
        return;
    }
    if (!lm->derived) {
        lm->m = src;
        return;
    }
    if (src.rows != lm->rows0 || src.cols != lm->cols0) {
        lm->follow->name(L, lm->key);  /* what, where */
        luaL_error(L, "this view into %s is out of date: %s changed from %dx%d to %dx%d; "
                   "take it again from %s", lua_tostring(L, -2), lua_tostring(L, -2),
                   lm->rows0, lm->cols0, src.rows, src.cols, lua_tostring(L, -1));
    }
    lm->m.data = src.data + lm->offset;
}

lmatrix *lmatrix_test(lua_State *L, int i)
{
    lmatrix *lm = luaL_testudata(L, i, DL_MATRIX);
    if (lm && lm->follow && lm->m.data)
        refresh(L, i, lm);
    return lm;
}

mat *dl_testmatrix(lua_State *L, int i)
{
    lmatrix *lm = lmatrix_test(L, i);
    return lm && lm->m.data ? &lm->m : NULL;
}

mat *dl_checkmatrix(lua_State *L, int i)
{
    lmatrix *lm = luaL_checkudata(L, i, DL_MATRIX);
    if (lm->follow && lm->m.data)
        refresh(L, i, lm);
    if (!lm->m.data)  /* which argument: add_(m) with m freed must say so */
        luaL_argerror(L, i, "attempt to use a freed matrix");
    return &lm->m;
}

/*
 * Matrices have no __gc, on purpose. Their buffer lives inside the userdata,
 * so the collector frees it with the block and there is nothing to finalize;
 * a __gc would only make every dead matrix survive one more cycle (Lua must
 * keep it for its finalizer), which lets loops of temporaries creep upward —
 * measured: about 1 GB after 4000 matrices of 4 MB — and makes small
 * temporaries 3× slower. Without it the same loop stays under 16 MB.
 * __close still marks a matrix freed (m:close(), or a <close> variable).
 */

/* The key under which table t (at index t) holds the function at the top,
 * pushed, or NULL. */
static const char *keyof(lua_State *L, int t)
{
    t = lua_absindex(L, t);
    int f = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        if (lua_rawequal(L, -1, f) && lua_type(L, -2) == LUA_TSTRING) {
            lua_pop(L, 1);
            return lua_tostring(L, -1);
        }
        lua_pop(L, 1);
    }
    return NULL;
}

/* The name of the running C function as a message starts with it:
 * "matrix.zeros", "matrix:copy", "matrix *", else what Lua calls it. Found by
 * identity in the module and method tables, so it works under pcall too. */
static const char *callername(lua_State *L)
{
    static const char *const ops[][2] = { { "add", "+" }, { "sub", "-" }, { "mul", "*" },
                                          { "div", "/" }, { "unm", "-" } };
    lua_Debug ar;
    if (!lua_getstack(L, 0, &ar) || !lua_getinfo(L, "nf", &ar))
        return "matrix";
    const char *k;
    int f = lua_gettop(L);
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, "deltalab.matrix") == LUA_TTABLE) {
        lua_pushvalue(L, f);
        if ((k = keyof(L, -2)) != NULL)
            return lua_pushfstring(L, "matrix.%s", k);
    }
    luaL_getmetatable(L, DL_MATRIX);
    if (lua_getfield(L, -1, "__methods") == LUA_TTABLE) {
        lua_pushvalue(L, f);
        if ((k = keyof(L, -2)) != NULL)
            return lua_pushfstring(L, "matrix:%s", k);
    }
    if (ar.name && strcmp(ar.namewhat, "metamethod") == 0)
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
            if (strcmp(ar.name, ops[i][0]) == 0)
                return lua_pushfstring(L, "matrix %s", ops[i][1]);
    return ar.name ? ar.name : "matrix";
}

/* The block of a new matrix userdata, allocated under a protected call when
 * it is big, so that running out of memory says which operation and what
 * size instead of Lua's bare "not enough memory". */
static int alloc_block(lua_State *L)
{
    lua_newuserdatauv(L, *(size_t *)lua_touserdata(L, 1), 1);
    return 1;
}

#define PROTECT_BYTES (1 << 20)   /* below this, running out is not this matrix's doing */

static lmatrix *newblock(lua_State *L, int rows, int cols, size_t bytes)
{
    size_t size = sizeof(lmatrix) + 64 + bytes;
    if (bytes < PROTECT_BYTES)
        return lua_newuserdatauv(L, size, 1);
    lua_pushcfunction(L, alloc_block);
    lua_pushlightuserdata(L, &size);
    int st = lua_pcall(L, 1, 1, 0);
    if (st == LUA_ERRMEM) {
        lua_pop(L, 1);
        char size_text[32];
        snprintf(size_text, sizeof size_text, "%.1f %s", bytes >= 1e9 ? bytes / 1e9 : bytes / 1e6,
                 bytes >= 1e9 ? "GB" : "MB");
        luaL_error(L, "%s: not enough memory for a %dx%d matrix (%s)", callername(L), rows, cols,
                   size_text);
    }
    if (st != LUA_OK)
        lua_error(L);
    return lua_touserdata(L, -1);
}

/* A new owning matrix; zero = 0 leaves the elements unset, for callers that
 * write every one of them before anyone can see the matrix (matrix.load). */
static mat *newmatrix(lua_State *L, int rows, int cols, int zero)
{
    size_t bytes = 0;
    char msg[160];
    if (mat_alloc_bytes(rows, cols, &bytes, msg, sizeof msg) != DL_OK)
        luaL_error(L, "%s: %s", callername(L), msg);
    lmatrix *lm = newblock(L, rows, cols, bytes);
    uintptr_t p = ((uintptr_t)(lm + 1) + 63) & ~(uintptr_t)63;
    *lm = (lmatrix){ .m = { (float *)p, rows, cols, cols } };
    mat_advise_huge(lm->m.data, bytes);
    if (zero)
        memset(lm->m.data, 0, bytes);
    luaL_setmetatable(L, DL_MATRIX);
    return &lm->m;
}

mat *dl_newmatrix(lua_State *L, int rows, int cols)
{
    return newmatrix(L, rows, cols, 1);
}

/* A view of a following view follows the same source (see refresh); its
 * user value is the source's owner, which keeps the memory alive. */
mat *dl_pushview(lua_State *L, mat view, int owner)
{
    owner = lua_absindex(L, owner);
    lmatrix *src = luaL_testudata(L, owner, DL_MATRIX);
    lmatrix *lm = lua_newuserdatauv(L, sizeof(lmatrix), 1);
    *lm = (lmatrix){ .m = view };
    luaL_setmetatable(L, DL_MATRIX);
    if (src && src->follow) {
        lm->follow = src->follow;
        lm->key = src->key;
        lm->derived = 1;
        lm->rows0 = src->derived ? src->rows0 : src->m.rows;
        lm->cols0 = src->derived ? src->cols0 : src->m.cols;
        lm->offset = (view.data - src->m.data) + (src->derived ? src->offset : 0);
        lua_getiuservalue(L, owner, 1);
    } else {
        lua_pushvalue(L, owner);
    }
    lua_setiuservalue(L, -2, 1);
    return &lm->m;
}

mat *dl_pushfollowing(lua_State *L, const dl_follow *f, int key, int owner)
{
    owner = lua_absindex(L, owner);
    lmatrix *lm = lua_newuserdatauv(L, sizeof(lmatrix), 1);
    *lm = (lmatrix){ .m = f->get(L, owner, key), .follow = f, .key = key };
    luaL_setmetatable(L, DL_MATRIX);
    lua_pushvalue(L, owner);
    lua_setiuservalue(L, -2, 1);
    return &lm->m;
}

const char *dl_checkpath(lua_State *L, int i)
{
    size_t len;
    const char *path = luaL_checklstring(L, i, &len);
    if (strlen(path) != len)
        luaL_argerror(L, i, "file name contains a zero byte");
    return path;
}

/* ---- Argument helpers ---- */

/* An element as a Lua value: a whole number as an integer, so a label reads
 * 5, not 5.0 (the bound keeps products of two such integers exact). */
static void pushelement(lua_State *L, float x)
{
    if (x == floorf(x) && fabsf(x) < 2147483648.0f)
        lua_pushinteger(L, (lua_Integer)x);
    else
        lua_pushnumber(L, x);
}

mat *lmatrix_newlike(lua_State *L, mat m)
{
    return dl_newmatrix(L, m.rows, m.cols);
}

const char *lmatrix_numstr(lua_State *L, lua_Number x)
{
    if (x != x)
        return "nan";
    if (x == floor(x) && fabs(x) < 1e15)
        return lua_pushfstring(L, "%I", (lua_Integer)x);
    lua_pushnumber(L, x);
    return lua_tostring(L, -1);
}

/* A size argument (rows, cols, n): a whole number in 0..MAT_MAX_DIM. */
static int checkdim(lua_State *L, int arg, const char *what)
{
    if (lua_type(L, arg) != LUA_TNUMBER)
        luaL_typeerror(L, arg, "number");
    lua_Integer n;
    if (lua_isinteger(L, arg)) {
        n = lua_tointeger(L, arg);
    } else {
        lua_Number x = lua_tonumber(L, arg);
        if (!(x == floor(x)) || x < -1e18 || x > 1e18)
            return luaL_argerror(L, arg, lua_pushfstring(L,
                   "%s must be a non-negative integer, got %s", what, lmatrix_numstr(L, x)));
        n = (lua_Integer)x;
    }
    if (n < 0)
        luaL_argerror(L, arg, lua_pushfstring(L,
                      "%s must be a non-negative integer, got %I", what, n));
    if (n > MAT_MAX_DIM)
        luaL_argerror(L, arg, lua_pushfstring(L, "%s %I is too large", what, n));
    return (int)n;
}

static int optdim(lua_State *L, int arg, const char *what, int def)
{
    return lua_isnoneornil(L, arg) ? def : checkdim(L, arg, what);
}

/* The message for a bad 1-based index k into 1..n of `what` (rows/cols), or
 * NULL if k is fine; *out gets the 0-based index. */
static const char *badindex(lua_State *L, int idx, int n, const char *what, int *out)
{
    lua_Integer k;
    if (lua_isinteger(L, idx)) {
        k = lua_tointeger(L, idx);
    } else if (lua_type(L, idx) == LUA_TNUMBER) {
        lua_Number x = lua_tonumber(L, idx);
        if (!(x == floor(x)) || fabs(x) > 1e18)
            return lua_pushfstring(L, "index %s is not an integer", lmatrix_numstr(L, x));
        k = (lua_Integer)x;
    } else {
        return lua_pushfstring(L, "index must be a number, got %s", luaL_typename(L, idx));
    }
    if (k < 1 || k > n)
        return lua_pushfstring(L, "index %I out of range 1..%d (%s)", k, n, what);
    *out = (int)(k - 1);
    return NULL;
}

static int checkindex(lua_State *L, int arg, int n, const char *what)
{
    int k = 0;
    const char *msg = badindex(L, arg, n, what, &k);
    if (msg)
        luaL_argerror(L, arg, msg);
    return k;
}

/* Out of memory and the rest alike: "fname: <what went wrong>". */
void lmatrix_check_status(lua_State *L, dl_status s, const char *fname)
{
    if (s == DL_OK)
        return;
    if (s == DL_ENOMEM)   /* a temporary of the core's (a copy of an operand) */
        luaL_error(L, "%s: not enough memory for a temporary copy of an operand", fname);
    luaL_error(L, "%s: %s", fname, dl_strerror(s));
}

/* ---- Construction ---- */

/* Fill m from the table at index t: nested rows {{..},{..}} or, when flat, a
 * column vector. Elements must be numbers. */
static void fill_from_table(lua_State *L, int t, mat m, int nested, const char *fname)
{
    for (int i = 0; i < m.rows; i++) {
        lua_geti(L, t, i + 1);
        if (nested) {
            if (!lua_istable(L, -1))
                luaL_error(L, "%s: row %d is a %s, rows must be tables", fname, i + 1,
                           luaL_typename(L, -1));
            if (luaL_len(L, -1) != m.cols)
                luaL_error(L, "%s: row %d has %d elements, row 1 has %d", fname, i + 1,
                           (int)luaL_len(L, -1), m.cols);
            for (int j = 0; j < m.cols; j++) {
                if (lua_geti(L, -1, j + 1) != LUA_TNUMBER)
                    luaL_error(L, "%s: element (%d, %d) is a %s, not a number", fname,
                               i + 1, j + 1, luaL_typename(L, -1));
                *mat_at(m, i, j) = (float)lua_tonumber(L, -1);
                lua_pop(L, 1);
            }
        } else if (lua_type(L, -1) == LUA_TNUMBER) {
            *mat_at(m, i, 0) = (float)lua_tonumber(L, -1);
        } else {
            luaL_error(L, "%s: element %d is a %s, not a number", fname, i + 1,
                       luaL_typename(L, -1));
        }
        lua_pop(L, 1);
    }
}

/* matrix{{1,2},{3,4}} or matrix{1,2,3} (a column vector, as in the book). */
static int fromtable(lua_State *L, int t, const char *fname)
{
    lua_Integer rows = luaL_len(L, t);
    if (rows > MAT_MAX_DIM)
        luaL_error(L, "%s: too many rows (%I)", fname, rows);
    lua_geti(L, t, 1);
    int nested = lua_istable(L, -1);
    lua_Integer cols = nested ? luaL_len(L, -1) : rows ? 1 : 0;
    lua_pop(L, 1);
    if (cols > MAT_MAX_DIM)
        luaL_error(L, "%s: too many columns (%I)", fname, cols);
    mat *m = dl_newmatrix(L, (int)rows, (int)cols);
    fill_from_table(L, t, *m, nested, fname);
    return 1;
}

/* "1 2; 3 4" or lines of numbers separated by blanks or commas. */
static int fromstring(lua_State *L, int s)
{
    const char *str = lua_tostring(L, s);
    int rows = 0, cols = -1, n = 0;
    /* First pass: count and check the shape. */
    for (const char *p = str;; p++) {
        if (*p == ';' || *p == '\n' || *p == '\0') {
            if (n > 0) {
                if (cols >= 0 && n != cols)
                    luaL_error(L, "matrix.from: row %d has %d numbers, row 1 has %d",
                               rows + 1, n, cols);
                cols = n;
                rows++;
            }
            n = 0;
            if (!*p)
                break;
        } else if (*p != ' ' && *p != '\t' && *p != ',' && *p != '\r') {
            size_t len = strcspn(p, " \t,;\n\r");
            lua_pushlstring(L, p, len);
            if (!lua_stringtonumber(L, lua_tostring(L, -1)))
                luaL_error(L, "matrix.from: '%s' is not a number", lua_tostring(L, -1));
            lua_pop(L, 2);
            n++;
            p += len - 1;
        }
    }
    mat *m = dl_newmatrix(L, rows, cols < 0 ? 0 : cols);
    size_t k = 0;
    for (const char *p = str; *p; p++) {
        if (strchr(" \t,;\n\r", *p))
            continue;
        size_t len = strcspn(p, " \t,;\n\r");
        lua_pushlstring(L, p, len);
        lua_stringtonumber(L, lua_tostring(L, -1));
        m->data[k++] = (float)lua_tonumber(L, -1);
        lua_pop(L, 2);
        p += len - 1;
    }
    return 1;
}

static int m_from(lua_State *L)
{
    mat *src;
    if (lua_istable(L, 1))
        return fromtable(L, 1, "matrix.from");
    if ((src = dl_testmatrix(L, 1)) != NULL) {
        mat_copy(*lmatrix_newlike(L, *src), *src);
        return 1;
    }
    if (lua_type(L, 1) == LUA_TSTRING)
        return fromstring(L, 1);
    if (lmatrix_test(L, 1))
        checkm(L, 1);  /* a freed matrix */
    return luaL_typeerror(L, 1, "table, string or matrix");
}

static int m_call(lua_State *L)
{
    if (!lua_istable(L, 2))
        return luaL_error(L, "matrix{...}: expected a table of rows or of numbers, got %s",
                          luaL_typename(L, 2));
    return fromtable(L, 2, "matrix{...}");
}

static int m_zeros(lua_State *L)
{
    int r = checkdim(L, 1, "rows"), c = optdim(L, 2, "cols", 1);
    dl_newmatrix(L, r, c);
    return 1;
}

static int m_ones(lua_State *L)
{
    int r = checkdim(L, 1, "rows"), c = optdim(L, 2, "cols", 1);
    mat_fill(*dl_newmatrix(L, r, c), 1);
    return 1;
}

static int m_fill(lua_State *L)
{
    int r = checkdim(L, 1, "rows"), c = checkdim(L, 2, "cols");
    float v = lmatrix_checkfloat(L, 3);
    mat_fill(*dl_newmatrix(L, r, c), v);
    return 1;
}

static int m_eye(lua_State *L)
{
    int n = checkdim(L, 1, "n"), c = optdim(L, 2, "cols", n);
    mat_eye(*dl_newmatrix(L, n, c));
    return 1;
}

/* rand/randn(r [, c] [, opts]): opts.seed gives a private generator; without
 * it the module's shared generator (upvalue 1, seeded by matrix.seed) is used. */
static int random_matrix(lua_State *L, int normal)
{
    static const char *const uniform[] = { "min", "max", "seed", NULL };
    static const char *const gauss[] = { "mean", "std", "seed", NULL };
    const char *fn = normal ? "matrix.randn" : "matrix.rand";
    int r = checkdim(L, 1, "rows");
    int optarg = lua_istable(L, 2) ? 2 : 3;
    int c = optarg == 2 ? 1 : optdim(L, 2, "cols", 1);
    dl_isopts(L, optarg, fn);
    dl_checkoptions(L, optarg, fn, normal ? gauss : uniform, 0);
    lua_Number a = dl_optnumber(L, optarg, fn, normal ? "mean" : "min", 0);
    lua_Number b = dl_optnumber(L, optarg, fn, normal ? "std" : "max", 1);
    rng own, *g = lua_touserdata(L, lua_upvalueindex(1));
    if (lua_istable(L, optarg)) {
        int has_seed = lua_getfield(L, optarg, "seed") != LUA_TNIL;
        lua_pop(L, 1);
        if (has_seed) {
            lua_Integer seed = dl_optinteger(L, optarg, fn, "seed", 0, LUA_MININTEGER,
                                             LUA_MAXINTEGER);
            rng_seed(&own, (uint64_t)seed);
            g = &own;
        }
    }
    mat *m = dl_newmatrix(L, r, c);
    if (normal)
        mat_rand_normal(*m, g, a, b);
    else
        mat_rand_uniform(*m, g, a, b);
    return 1;
}

static int m_rand(lua_State *L) { return random_matrix(L, 0); }
static int m_randn(lua_State *L) { return random_matrix(L, 1); }

static int m_seed(lua_State *L)
{
    lua_Integer s = luaL_checkinteger(L, 1);
    rng_seed(lua_touserdata(L, lua_upvalueindex(1)), (uint64_t)s);
    return 0;
}

/* matrix.range(a, b [, step]): a, a+step, ... up to b inclusive, like a
 * numeric for; a column vector. */
static int m_range(lua_State *L)
{
    lua_Number a = luaL_checknumber(L, 1), b = luaL_checknumber(L, 2);
    lua_Number step = luaL_optnumber(L, 3, 1);
    luaL_argcheck(L, step != 0 && step == step, 3, "step must not be zero");
    luaL_argcheck(L, a == a && isfinite(a), 1, "start must be a finite number");
    luaL_argcheck(L, b == b && isfinite(b), 2, "stop must be a finite number");
    /* A relative slack so that range(0, 1, 0.1) includes 1 despite rounding. */
    double n = floor((b - a) / step * (1 + 1e-12) + 1e-9) + 1;
    if (n < 0)
        n = 0;
    if (n > MAT_MAX_DIM)
        luaL_error(L, "matrix.range: %f elements are too many", n);
    mat_arange(*dl_newmatrix(L, (int)n, 1), a, step);
    return 1;
}

/* hcat/vcat(a, b, ...) or ({a, b, ...}): place the matrices side by side or
 * one above the other. */
static int concat(lua_State *L, int horizontal)
{
    const char *fname = horizontal ? "matrix.hcat" : "matrix.vcat";
    int n = lua_gettop(L), list = 0;
    if (n == 1 && lua_istable(L, 1) && !lmatrix_test(L, 1)) {
        list = 1;
        n = (int)luaL_len(L, 1);
        luaL_checkstack(L, n + 4, "too many matrices");
        for (int k = 1; k <= n; k++) lua_geti(L, 1, k);
    }
    int base = list ? 1 : 0, rows = 0, cols = 0;
    for (int k = 1; k <= n; k++) {
        mat *m = dl_testmatrix(L, base + k);
        if (!m) {
            if (lmatrix_test(L, base + k))
                checkm(L, base + k);
            return luaL_error(L, "%s: argument %d is a %s, matrix expected", fname, k,
                              luaL_typename(L, base + k));
        }
        if (k == 1) {
            rows = m->rows;
            cols = m->cols;
        } else if (horizontal ? m->rows != rows : m->cols != cols) {
            mat *f = dl_checkmatrix(L, base + 1);
            return luaL_error(L, "%s: matrix %d is %dx%d, matrix 1 is %dx%d — %s differ",
                              fname, k, m->rows, m->cols, f->rows, f->cols,
                              horizontal ? "row counts" : "column counts");
        } else if (horizontal) {
            if (cols > MAT_MAX_DIM - m->cols) return luaL_error(L, "%s: too large", fname);
            cols += m->cols;
        } else {
            if (rows > MAT_MAX_DIM - m->rows) return luaL_error(L, "%s: too large", fname);
            rows += m->rows;
        }
    }
    mat *r = dl_newmatrix(L, rows, cols);
    int at = 0;
    for (int k = 1; k <= n; k++) {
        mat *m = dl_checkmatrix(L, base + k);
        mat dst = horizontal ? mat_sub(*r, 0, at, m->rows, m->cols)
                             : mat_sub(*r, at, 0, m->rows, m->cols);
        mat_copy(dst, *m);
        at += horizontal ? m->cols : m->rows;
    }
    return 1;
}

static int m_hcat(lua_State *L) { return concat(L, 1); }
static int m_vcat(lua_State *L) { return concat(L, 0); }

/* ---- Shape and access ---- */

static int m_shape(lua_State *L)
{
    mat *m = checkm(L, 1);
    lua_pushinteger(L, m->rows);
    lua_pushinteger(L, m->cols);
    return 2;
}

static int m_rows(lua_State *L)
{
    lua_pushinteger(L, checkm(L, 1)->rows);
    return 1;
}

static int m_cols(lua_State *L)
{
    lua_pushinteger(L, checkm(L, 1)->cols);
    return 1;
}

static int m_get(lua_State *L)
{
    mat *m = checkm(L, 1);
    int i = checkindex(L, 2, m->rows, "rows"), j = checkindex(L, 3, m->cols, "cols");
    pushelement(L, *mat_at(*m, i, j));
    return 1;
}

static int m_set(lua_State *L)
{
    mat *m = checkm(L, 1);
    int i = checkindex(L, 2, m->rows, "rows"), j = checkindex(L, 3, m->cols, "cols");
    float v = lmatrix_checkfloat(L, 4);
    *mat_at(*m, i, j) = v;
    lua_settop(L, 1);
    return 1;
}

static int pushrow(lua_State *L, int self, mat m, int i)
{
    dl_pushview(L, mat_sub(m, i, 0, 1, m.cols), self);
    return 1;
}

static int m_row(lua_State *L)
{
    mat *m = checkm(L, 1);
    return pushrow(L, 1, *m, checkindex(L, 2, m->rows, "rows"));
}

static int m_col(lua_State *L)
{
    mat *m = checkm(L, 1);
    int j = checkindex(L, 2, m->cols, "cols");
    dl_pushview(L, mat_sub(*m, 0, j, m->rows, 1), 1);
    return 1;
}

/* m:slice(r1, r2 [, c1, c2]): rows r1..r2 and columns c1..c2, inclusive. */
static int m_slice(lua_State *L)
{
    mat *m = checkm(L, 1);
    int r1 = checkindex(L, 2, m->rows, "rows"), r2 = checkindex(L, 3, m->rows, "rows");
    int c1 = lua_isnoneornil(L, 4) ? 0 : checkindex(L, 4, m->cols, "cols");
    int c2 = lua_isnoneornil(L, 5) ? m->cols - 1 : checkindex(L, 5, m->cols, "cols");
    if (r2 < r1)
        luaL_argerror(L, 3, lua_pushfstring(L, "last row %d is before first row %d", r2 + 1, r1 + 1));
    if (c2 < c1)
        luaL_argerror(L, 5, lua_pushfstring(L, "last column %d is before first column %d",
                                            c2 + 1, c1 + 1));
    dl_pushview(L, mat_sub(*m, r1, c1, r2 - r1 + 1, c2 - c1 + 1), 1);
    return 1;
}

static int m_copy(lua_State *L)
{
    mat *m = checkm(L, 1);
    mat_copy(*lmatrix_newlike(L, *m), *m);
    return 1;
}

/* m:reshape(r, c): a view with the same elements in row-major order; one of r,
 * c may be -1 to be inferred. Needs contiguous elements. */
static int m_reshape(lua_State *L)
{
    mat *m = checkm(L, 1);
    size_t n = mat_size(*m);
    int infer_r = lua_isinteger(L, 2) && lua_tointeger(L, 2) == -1;
    int infer_c = lua_isinteger(L, 3) && lua_tointeger(L, 3) == -1;
    int r = infer_r ? 0 : checkdim(L, 2, "rows"), c = infer_c ? 0 : checkdim(L, 3, "cols");
    if (infer_r && infer_c)
        luaL_argerror(L, 3, "only one size may be -1");
    if (infer_r && c && n % (size_t)c == 0) r = (int)(n / (size_t)c);
    if (infer_c && r && n % (size_t)r == 0) c = (int)(n / (size_t)r);
    if ((size_t)r * (size_t)c != n)
        return luaL_error(L, "reshape: cannot reshape %dx%d (%d elements) to %s%s%s",
                          m->rows, m->cols, (int)n, infer_r ? "-1" : lua_pushfstring(L, "%d", r),
                          "x", infer_c ? "-1" : lua_pushfstring(L, "%d", c));
    if (!mat_contiguous(*m))
        return luaL_error(L, "reshape: this %dx%d view is not contiguous (its rows are %d "
                          "elements apart); reshape m:copy() instead", m->rows, m->cols, m->stride);
    dl_pushview(L, mat_wrap(m->data, r, c), 1);
    return 1;
}

/* m:T(): a new matrix (a copy), mᵀ. */
static int m_T(lua_State *L)
{
    mat *m = checkm(L, 1);
    mat_transpose(*dl_newmatrix(L, m->cols, m->rows), *m);
    return 1;
}

/* A vector is 1×n or n×1, however it was made: v[i] is its element i and
 * #v its length n. Any other matrix is a sequence of rows: m[i] is row i. */
static int isvector(mat m)
{
    return m.rows == 1 || m.cols == 1;
}

static int m_len(lua_State *L)
{
    mat *m = checkm(L, 1);
    lua_pushinteger(L, isvector(*m) ? (lua_Integer)mat_size(*m) : m->rows);
    return 1;
}

/* Element k (0-based) of the vector m. */
static float *vector_at(mat m, int k)
{
    return m.rows == 1 ? mat_at(m, 0, k) : mat_at(m, k, 0);
}

/* The 0-based position of m[k] (k at index 2): an element of a vector, else a
 * row; raises for a bad k. *end is set when k is one past the last position:
 * m[n + 1] is nil, as at the end of a Lua sequence, so ipairs(m) stops there. */
static int subscript(lua_State *L, mat m, int *end)
{
    int vec = isvector(m), n = vec ? (int)mat_size(m) : m.rows, k = 0;
    const char *msg = badindex(L, 2, n, vec ? "elements" : "rows", &k);
    *end = msg && lua_isinteger(L, 2) && lua_tointeger(L, 2) == (lua_Integer)n + 1;
    if (msg && !*end)
        luaL_error(L, "%s", msg);
    return k;
}

/* __index: v[i] is element i of a vector, m[i] row i (a view) of any other
 * matrix; names are methods. */
static int m_index(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TNUMBER) {
        mat *m = checkm(L, 1);
        int end, k = subscript(L, *m, &end);
        if (end)
            lua_pushnil(L);
        else if (isvector(*m))
            pushelement(L, *vector_at(*m, k));
        else
            pushrow(L, 1, *m, k);
        return 1;
    }
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(1));
    return 1;
}

/* __newindex: v[i] = x sets an element of a vector; m[i] = number | table |
 * vector fills row i of any other matrix. */
static int m_newindex(lua_State *L)
{
    if (lua_type(L, 2) != LUA_TNUMBER)
        return luaL_error(L, "cannot set field '%s' of a matrix", luaL_tolstring(L, 2, NULL));
    mat *m = checkm(L, 1);
    int end, k = subscript(L, *m, &end);
    if (end)  /* no nil to give here: one past the end is out of range */
        return luaL_error(L, "%s", badindex(L, 2, isvector(*m) ? (int)mat_size(*m) : m->rows,
                                            isvector(*m) ? "elements" : "rows", &k));
    if (isvector(*m)) {
        if (lua_type(L, 3) != LUA_TNUMBER)
            return luaL_error(L, "cannot store a %s in a matrix (number expected)",
                              luaL_typename(L, 3));
        *vector_at(*m, k) = (float)lua_tonumber(L, 3);
        return 0;
    }
    mat row = mat_sub(*m, k, 0, 1, m->cols);
    mat *v;
    if (lua_type(L, 3) == LUA_TNUMBER) {
        mat_fill(row, (float)lua_tonumber(L, 3));
    } else if ((v = dl_testmatrix(L, 3)) != NULL) {
        if (mat_size(*v) != (size_t)m->cols || (v->rows != 1 && v->cols != 1))
            return luaL_error(L, "cannot assign a %dx%d matrix to row %d of a %dx%d matrix",
                              v->rows, v->cols, k + 1, m->rows, m->cols);
        for (int j = 0; j < m->cols; j++)
            row.data[j] = v->rows == 1 ? *mat_at(*v, 0, j) : *mat_at(*v, j, 0);
    } else if (lua_istable(L, 3) && !lmatrix_test(L, 3)) {
        if (luaL_len(L, 3) != m->cols)
            return luaL_error(L, "cannot assign a table of %d to row %d of a %dx%d matrix",
                              (int)luaL_len(L, 3), k + 1, m->rows, m->cols);
        mat tmp = *lmatrix_newlike(L, row);   /* all-or-nothing if an element is bad */
        fill_from_table(L, 3, (mat){ tmp.data, m->cols, 1, 1 }, 0, "row assignment");
        mat_copy(row, tmp);
    } else {
        if (lmatrix_test(L, 3))
            checkm(L, 3);
        return luaL_error(L, "cannot assign a %s to a matrix row (number, table or vector expected)",
                          luaL_typename(L, 3));
    }
    return 0;
}

/* ---- Conversion, files, memory ---- */

static int m_totable(lua_State *L)
{
    mat *m = checkm(L, 1);
    lua_createtable(L, m->rows, 0);
    for (int i = 0; i < m->rows; i++) {
        lua_createtable(L, m->cols, 0);
        for (int j = 0; j < m->cols; j++) {
            pushelement(L, *mat_at(*m, i, j));
            lua_rawseti(L, -2, j + 1);
        }
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int m_tostring(lua_State *L)
{
    luaL_checkudata(L, 1, DL_MATRIX);
    lmatrix *lm = lmatrix_test(L, 1);
    if (!lm->m.data) {
        lua_pushliteral(L, "[matrix, freed]");
        return 1;
    }
    size_t n = mat_format(NULL, 0, lm->m, NULL);
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, n + 1);
    mat_format(p, n + 1, lm->m, NULL);
    luaL_pushresultsize(&b, n);
    return 1;
}

/* The formats matrix.load and m:save know, by file name extension. A name
 * without one (a device, os.tmpname()) is NPY, as it always was. */
enum { FILE_NPY, FILE_CSV };

static int file_format(lua_State *L, const char *path, const char *fname)
{
    const char *base = strrchr(path, '/');
    const char *dot = strrchr(base ? base + 1 : path, '.');
    if (!dot || dot == (base ? base + 1 : path))   /* no extension, or a dot file */
        return FILE_NPY;
    if (strcmp(dot, ".npy") == 0)
        return FILE_NPY;
    if (strcmp(dot, ".csv") == 0)
        return FILE_CSV;
    return luaL_error(L, "%s: unknown file extension '%s' in '%s' (known: .npy, .csv)", fname,
                      dot, path);
}

static int load_npy(lua_State *L, const char *path)
{
    npy_info info;
    char msg[160];
    dl_status s = npy_read_header(path, &info, msg, sizeof msg);
    if (s == DL_EIO)
        return luaL_error(L, "matrix.load: cannot open '%s': %s", path, msg);
    if (s != DL_OK)
        return luaL_error(L, "matrix.load: '%s': %s", path,
                          s == DL_EFORMAT ? msg : dl_strerror(s));
    mat *m = newmatrix(L, info.rows, info.cols, 0);   /* every element is read or we raise */
    s = npy_read_data(path, &info, *m, msg, sizeof msg);
    if (s != DL_OK)
        return luaL_error(L, "matrix.load: cannot read '%s': %s", path,
                          s == DL_EIO || s == DL_EFORMAT ? msg : dl_strerror(s));
    return 1;
}

/* A CSV file of numbers, as m:save writes it (a header line is skipped). */
static int load_csv(lua_State *L, const char *path)
{
    csv_info info;
    char msg[256];
    if (csv_scan(path, ',', -1, CSV_NO_LABEL, &info, msg, sizeof msg) != DL_OK)
        return luaL_error(L, "matrix.load: '%s': %s", path, msg);
    mat *m = newmatrix(L, info.rows, info.cols, 0);
    csv_names none = { NULL, 0, 0 };
    if (csv_read_data(path, ',', &info, *m, &none, msg, sizeof msg) != DL_OK)
        return luaL_error(L, "matrix.load: cannot read '%s': %s", path, msg);
    return 1;
}

static int m_load(lua_State *L)
{
    const char *path = dl_checkpath(L, 1);
    return file_format(L, path, "matrix.load") == FILE_CSV ? load_csv(L, path)
                                                            : load_npy(L, path);
}

/* m:save(path [, dtype]): NPY (dtype float32 or float64) or CSV, by extension. */
static int m_save(lua_State *L)
{
    static const char *const dtypes[] = { "float32", "float64", NULL };
    mat *m = checkm(L, 1);
    const char *path = dl_checkpath(L, 2);
    int format = file_format(L, path, "save");
    int fp64 = lua_isnoneornil(L, 3) ? 0
             : (luaL_checkstring(L, 3), dl_checkchoice(L, 3, "matrix:save", "dtype", dtypes));
    if (format == FILE_CSV && !lua_isnoneornil(L, 3))
        return luaL_error(L, "save: a dtype is for .npy files; '%s' is CSV, written as text "
                          "with 9 significant digits (exact for float32)", path);
    char msg[160];
    dl_status s = format == FILE_CSV ? csv_write(path, *m, msg, sizeof msg)
                                     : npy_write(path, *m, fp64, msg, sizeof msg);
    if (s == DL_EIO || s == DL_ENOMEM)
        return luaL_error(L, "save: cannot write %s", msg);   /* msg: "path: reason" */
    lmatrix_check_status(L, s, "save");
    lua_settop(L, 1);
    return 1;
}

/* __close (and m:close()): mark the matrix freed and let go of the owner. */
static int m_close(lua_State *L)
{
    lmatrix *lm = luaL_checkudata(L, 1, DL_MATRIX);
    lm->m.data = NULL;
    lm->follow = NULL;
    lua_pushnil(L);
    lua_setiuservalue(L, 1, 1);
    return 0;
}

static const luaL_Reg meth[] = {
    { "shape", m_shape },
    { "rows", m_rows },
    { "cols", m_cols },
    { "get", m_get },
    { "set", m_set },
    { "row", m_row },
    { "col", m_col },
    { "slice", m_slice },
    { "copy", m_copy },
    { "reshape", m_reshape },
    { "T", m_T },
    { "totable", m_totable },
    { "save", m_save },
    { "close", m_close },
    { NULL, NULL }
};

static const luaL_Reg metameth[] = {
    { "__index", NULL },     /* a function over meth, set in createmeta */
    { "__newindex", m_newindex },
    { "__close", m_close },
    { "__tostring", m_tostring },
    { "__len", m_len },
    { NULL, NULL }
};

static const luaL_Reg funcs[] = {
    { "zeros", m_zeros },
    { "ones", m_ones },
    { "fill", m_fill },
    { "eye", m_eye },
    { "rand", m_rand },
    { "randn", m_randn },
    { "seed", m_seed },
    { "range", m_range },
    { "from", m_from },
    { "hcat", m_hcat },
    { "vcat", m_vcat },
    { "load", m_load },
    { NULL, NULL }
};

/* The metatable "matrix". __index must be a function (m[i] needs the matrix
 * itself), so the method table is also kept as __methods for help() to list. */
static void createmeta(lua_State *L)
{
    luaL_newmetatable(L, DL_MATRIX);
    luaL_setfuncs(L, metameth, 0);
    luaL_setfuncs(L, lmatrix_ops_metameth, 0);
    luaL_newlibtable(L, meth);
    luaL_setfuncs(L, meth, 0);
    luaL_setfuncs(L, lmatrix_ops_meth, 0);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "__methods");
    lua_pushcclosure(L, m_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}

/* The default generator of rand/randn starts from a fixed seed, so a script
 * draws the same numbers on every run until it calls matrix.seed. */
#define DEFAULT_SEED 20240601

int luaopen_deltalab_matrix(lua_State *L)
{
    luaL_newlibtable(L, funcs);
    rng *g = lua_newuserdatauv(L, sizeof(rng), 0);
    rng_seed(g, DEFAULT_SEED);
    luaL_setfuncs(L, funcs, 1);
    luaL_setfuncs(L, lmatrix_ops_funcs, 0);
    createmeta(L);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, m_call);
    lua_setfield(L, -2, "__call");
    lua_setmetatable(L, -2);
    return 1;
}
