/*
 * ldata.c — deltalab.datacore: the C half of the data module.
 *
 * These functions are the building blocks lua/deltalab/data.lua composes into
 * the user-facing `data` module and the dataset object; users are not meant
 * to call them directly. Each checks its arguments, calls the core (src/core/io/, dataset.c, toy.c),
 * and pushes the result. Loader failures raise "<path>: <reason>".
 * Positions given from Lua are 1-based; the core's are 0-based.
 */
#include "deltalab.h"

#include <stdio.h>
#include <string.h>

#include "core/dataset.h"
#include "core/io/cifar.h"
#include "core/io/csv.h"
#include "core/io/idx.h"
#include "core/toy.h"

static int checkint(lua_State *L, int i, lua_Integer lo, lua_Integer hi)
{
    lua_Integer v = luaL_checkinteger(L, i);
    if (v < lo || v > hi)
        luaL_argerror(L, i, lua_pushfstring(L, "%I is outside %I..%I", v, lo, hi));
    return (int)v;
}

static uint64_t checkseed(lua_State *L, int i)
{
    return (uint64_t)luaL_optinteger(L, i, 0);
}

/* A scratch array of n ints owned by a userdata on the stack, so a raise
 * cannot leak it. */
static int *newints(lua_State *L, int n)
{
    return lua_newuserdatauv(L, (n ? (size_t)n : 1) * sizeof(int), 0);
}

/* The 0-based positions in the list at index i, each in 1..limit. */
static int *checkpositions(lua_State *L, int i, int limit, int *n, const char *what)
{
    luaL_checktype(L, i, LUA_TTABLE);
    lua_Integer len = luaL_len(L, i);
    if (len > MAT_MAX_DIM)
        luaL_argerror(L, i, "list too long");
    int *p = newints(L, (int)len);
    for (lua_Integer k = 1; k <= len; k++) {
        int isnum;
        lua_Integer v = (lua_geti(L, i, k), lua_tointegerx(L, -1, &isnum));
        lua_pop(L, 1);
        if (!isnum)
            luaL_error(L, "%s %I is not an integer", what, k);
        if (v < 1 || v > limit)
            luaL_error(L, "%s %I is %I, outside 1..%d", what, k, v, limit);
        p[k - 1] = (int)v - 1;
    }
    *n = (int)len;
    return p;
}

/* idx(path [, scale [, limit]]) -> X, dims (X holds at most limit items;
 * dims are the file's) */
static int d_idx(lua_State *L)
{
    const char *path = dl_checkpath(L, 1);
    lua_Integer limit = luaL_optinteger(L, 3, MAT_MAX_DIM);
    luaL_argcheck(L, limit >= 0, 3, "limit must be >= 0");
    char err[256];
    idx_info info;
    if (idx_read_header(path, &info, err, sizeof err))
        return luaL_error(L, "%s: %s", path, err);
    int scale = lua_isnoneornil(L, 2) ? info.type == IDX_U8 && info.ndim >= 2
                                      : lua_toboolean(L, 2);
    mat *X = dl_newmatrix(L, limit < info.rows ? (int)limit : info.rows, info.cols);
    if (idx_read_data(path, &info, *X, scale, err, sizeof err))
        return luaL_error(L, "%s: %s", path, err);
    lua_createtable(L, info.ndim, 0);
    for (int k = 0; k < info.ndim; k++) {
        lua_pushinteger(L, info.dims[k]);
        lua_rawseti(L, -2, k + 1);
    }
    return 2;
}

/* cifar(path) -> X (N×3072), y (N×1) */
static int d_cifar(lua_State *L)
{
    const char *path = dl_checkpath(L, 1);
    char err[256];
    int n;
    if (cifar_read_header(path, &n, err, sizeof err))
        return luaL_error(L, "%s: %s", path, err);
    mat *X = dl_newmatrix(L, n, CIFAR_PIXELS);
    mat *y = dl_newmatrix(L, n, 1);
    if (cifar_read_data(path, n, *X, *y, err, sizeof err))
        return luaL_error(L, "%s: %s", path, err);
    return 2;
}

/* csv(path, sep, header: true|false|nil, label column: 1-based, negative from
 * the end, or nil) -> M (every field), has_header, class names (a list, when
 * the label column holds text; M then holds their 0-based positions) */
static int d_csv(lua_State *L)
{
    const char *path = dl_checkpath(L, 1);
    size_t seplen;
    const char *sep = luaL_optlstring(L, 2, ",", &seplen);
    luaL_argcheck(L, seplen == 1 && sep[0] != '"' && sep[0] != '\n', 2,
                  "the separator must be one character (not a quote or newline)");
    int mode = lua_isnoneornil(L, 3) ? -1 : lua_toboolean(L, 3);
    lua_Integer label = luaL_optinteger(L, 4, 0);
    int label_col = label > 0 && label <= MAT_MAX_DIM ? (int)label - 1
                  : label < 0 && label >= -MAT_MAX_DIM ? (int)label : MAT_MAX_DIM;
    char err[256];
    csv_info info;
    if (csv_scan(path, sep[0], mode, label_col, &info, err, sizeof err))
        return luaL_error(L, "%s: %s", path, err);
    mat *M = dl_newmatrix(L, info.rows, info.cols);
    csv_names names = { NULL, 0, 0 };
    if (info.text_col >= 0) {
        names.name = lua_newuserdatauv(L, (size_t)CSV_NAMES_MAX * CSV_NAME_MAX, 0);
        names.cap = CSV_NAMES_MAX;
    }
    if (csv_read_data(path, sep[0], &info, *M, &names, err, sizeof err))
        return luaL_error(L, "%s: %s", path, err);
    lua_pushvalue(L, -1 - (info.text_col >= 0));   /* M */
    lua_pushboolean(L, info.header);
    if (info.text_col < 0)
        return 2;
    lua_createtable(L, names.n, 0);
    for (int c = 0; c < names.n; c++) {
        lua_pushstring(L, names.name[c]);
        lua_rawseti(L, -2, c + 1);
    }
    return 3;
}

/* rows(M, positions) -> a new matrix of those rows */
static int d_rows(lua_State *L)
{
    mat *M = dl_checkmatrix(L, 1);
    int n;
    int *idx = checkpositions(L, 2, M->rows, &n, "row position");
    mat *D = dl_newmatrix(L, n, M->cols);
    dataset_gather_rows(*D, *M, idx, n, NULL, 0);
    return 1;
}

/* cols(M, positions) -> a new matrix of those columns */
static int d_cols(lua_State *L)
{
    mat *M = dl_checkmatrix(L, 1);
    int n;
    int *idx = checkpositions(L, 2, M->cols, &n, "column position");
    mat *D = dl_newmatrix(L, M->rows, n);
    dataset_gather_cols(*D, *M, idx, n, NULL, 0);
    return 1;
}

/* vcat(list of matrices) -> their rows stacked into one new matrix */
static int d_vcat(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 1);
    luaL_argcheck(L, n >= 1, 1, "empty list");
    lua_Integer rows = 0;
    int cols = 0;
    for (lua_Integer k = 1; k <= n; k++) {
        lua_geti(L, 1, k);
        mat *m = dl_testmatrix(L, -1);
        if (!m)
            return luaL_error(L, "vcat: element %I is not a matrix", k);
        if (k == 1)
            cols = m->cols;
        else if (m->cols != cols)
            return luaL_error(L, "vcat: element %I has %d columns, the first has %d", k,
                              m->cols, cols);
        rows += m->rows;
        lua_pop(L, 1);
    }
    if (rows > MAT_MAX_DIM)
        return luaL_error(L, "vcat: %I rows are too many", rows);
    mat *D = dl_newmatrix(L, (int)rows, cols);
    int r = 0;
    for (lua_Integer k = 1; k <= n; k++) {
        lua_geti(L, 1, k);
        mat *m = dl_testmatrix(L, -1);
        mat_copy(mat_sub(*D, r, 0, m->rows, cols), *m);
        r += m->rows;
        lua_pop(L, 1);
    }
    return 1;
}

/* view(M, first, count) -> a view of rows first .. first+count-1 */
static int d_view(lua_State *L)
{
    mat *M = dl_checkmatrix(L, 1);
    int first = checkint(L, 2, 1, M->rows + 1);
    int count = checkint(L, 3, 0, M->rows - first + 1);
    dl_pushview(L, mat_sub(*M, first - 1, 0, count, M->cols), 1);
    return 1;
}

/* image(M, i, offset, h, w) -> an h×w view of row i's elements offset .. */
static int d_image(lua_State *L)
{
    mat *M = dl_checkmatrix(L, 1);
    int i = checkint(L, 2, 1, M->rows);
    int off = checkint(L, 3, 0, M->cols);
    int h = checkint(L, 4, 1, M->cols), w = checkint(L, 5, 1, M->cols);
    if ((lua_Integer)off + (lua_Integer)h * w > M->cols)
        return luaL_error(L, "image of %dx%d at %d does not fit in a row of %d", h, w, off,
                          M->cols);
    dl_pushview(L, (mat){ mat_at(*M, i - 1, off), h, w, w }, 1);
    return 1;
}

/* perm(n, seed) -> a list holding a random permutation of 1..n */
static int d_perm(lua_State *L)
{
    int n = checkint(L, 1, 0, MAT_MAX_DIM);
    int *p = newints(L, n);
    dataset_permutation(p, n, checkseed(L, 2));
    lua_createtable(L, n, 0);
    for (int k = 0; k < n; k++) {
        lua_pushinteger(L, p[k] + 1);
        lua_rawseti(L, -2, k + 1);
    }
    return 1;
}

/* permute(seed, M1, M2, ...) permutes the rows of every matrix in place with
 * one random permutation (all must have the same number of rows). */
static int d_permute(lua_State *L)
{
    uint64_t seed = (uint64_t)luaL_checkinteger(L, 1);
    int top = lua_gettop(L);
    mat *first = dl_checkmatrix(L, 2);
    for (int i = 3; i <= top; i++) {
        mat *m = dl_checkmatrix(L, i);
        if (m->rows != first->rows)
            return luaL_error(L, "permute: %dx%d and %dx%d have different numbers of rows",
                              first->rows, first->cols, m->rows, m->cols);
    }
    int *p = newints(L, first->rows);
    char err[256];
    dataset_permutation(p, first->rows, seed);
    for (int i = 2; i <= top; i++)
        if (dataset_permute_rows(*dl_checkmatrix(L, i), p, err, sizeof err))
            return luaL_error(L, "permute: %s", err);
    return 0;
}

static mat *checklabels(lua_State *L, int i)
{
    mat *y = dl_checkmatrix(L, i);
    if (y->cols != 1)
        luaL_error(L, "labels must be an Nx1 matrix, got %dx%d", y->rows, y->cols);
    return y;
}

/* check_labels(y) -> classes */
static int d_check_labels(lua_State *L)
{
    mat *y = checklabels(L, 1);
    int classes;
    char err[256];
    if (dataset_check_labels(*y, &classes, err, sizeof err))
        return luaL_error(L, "%s", err);
    lua_pushinteger(L, classes);
    return 1;
}

/* onehot(y, k) -> N×k */
static int d_onehot(lua_State *L)
{
    mat *y = checklabels(L, 1);
    int k = checkint(L, 2, 1, MAT_MAX_DIM);
    mat *T = dl_newmatrix(L, y->rows, k);
    char err[256];
    if (dataset_onehot(*T, *y, err, sizeof err))
        return luaL_error(L, "onehot: %s", err);
    return 1;
}

/* counts(y, k) -> {count of label 0, ...} */
static int d_counts(lua_State *L)
{
    mat *y = checklabels(L, 1);
    int k = checkint(L, 2, 0, 1 << 24);
    int *c = newints(L, k);
    dataset_label_counts(*y, k, c);
    lua_createtable(L, k, 0);
    for (int i = 0; i < k; i++) {
        lua_pushinteger(L, c[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* labels(y) -> {label of row 1, ...} */
static int d_labels(lua_State *L)
{
    mat *y = checklabels(L, 1);
    lua_createtable(L, y->rows, 0);
    for (int i = 0; i < y->rows; i++) {
        float v = *mat_at(*y, i, 0);
        if (v == (float)(lua_Integer)v)
            lua_pushinteger(L, (lua_Integer)v);
        else
            lua_pushnumber(L, v);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* column(list) -> N×1 matrix */
static int d_column(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 1);
    if (n > MAT_MAX_DIM)
        luaL_argerror(L, 1, "list too long");
    mat *c = dl_newmatrix(L, (int)n, 1);
    for (lua_Integer k = 1; k <= n; k++) {
        lua_geti(L, 1, k);
        int isnum;
        lua_Number v = lua_tonumberx(L, -1, &isnum);
        if (!isnum)
            return luaL_error(L, "element %I is not a number", k);
        *mat_at(*c, (int)k - 1, 0) = (float)v;
        lua_pop(L, 1);
    }
    return 1;
}

/* colstats(X [, min_std]) -> mean (1×d), std (1×d) */
static int d_colstats(lua_State *L)
{
    mat *X = dl_checkmatrix(L, 1);
    float min_std = (float)luaL_optnumber(L, 2, 1e-6);
    mat *mean = dl_newmatrix(L, 1, X->cols);
    mat *std = dl_newmatrix(L, 1, X->cols);
    char err[256];
    if (dataset_column_stats(*mean, *std, *X, min_std, err, sizeof err))
        return luaL_error(L, "normalize: %s", err);
    return 2;
}

/* globalstats(X) -> mean, std */
static int d_globalstats(lua_State *L)
{
    mat *X = dl_checkmatrix(L, 1);
    double mean, std;
    dataset_global_stats(*X, &mean, &std);
    lua_pushnumber(L, mean);
    lua_pushnumber(L, std);
    return 2;
}

/* standardize(X, mean, std): both numbers or both 1×d matrices */
static int d_standardize(lua_State *L)
{
    mat *X = dl_checkmatrix(L, 1);
    if (lua_type(L, 2) == LUA_TNUMBER) {
        float mean = (float)luaL_checknumber(L, 2), std = (float)luaL_checknumber(L, 3);
        luaL_argcheck(L, std > 0, 3, "std must be > 0");
        dataset_standardize_all(*X, mean, std);
        return 0;
    }
    mat *mean = dl_checkmatrix(L, 2), *std = dl_checkmatrix(L, 3);
    char err[256];
    if (dataset_standardize(*X, *mean, *std, err, sizeof err))
        return luaL_error(L, "normalize: %s", err);
    return 0;
}

/* A set of n points in the plane made by gen(X, y, noise, seed): the
 * arguments (n, noise, seed) of xor and moons. */
typedef dl_status (*plane_set_fn)(mat X, mat y, float noise, uint64_t seed, char *msg,
                                  size_t msglen);

static int plane_set(lua_State *L, plane_set_fn gen)
{
    int n = checkint(L, 1, 1, MAT_MAX_DIM);
    float noise = (float)luaL_checknumber(L, 2);
    luaL_argcheck(L, noise >= 0, 2, "noise must be >= 0");
    mat *X = dl_newmatrix(L, n, 2);
    mat *y = dl_newmatrix(L, n, 1);
    gen(*X, *y, noise, checkseed(L, 3), NULL, 0);
    return 2;
}

/* xor(n, noise, seed) -> X, y */
static int d_xor(lua_State *L)
{
    return plane_set(L, toy_xor);
}

/* spirals(n, classes, noise, seed) -> X, y */
static int d_spirals(lua_State *L)
{
    int n = checkint(L, 1, 1, MAT_MAX_DIM);
    int k = checkint(L, 2, 1, 1 << 24);
    float noise = (float)luaL_checknumber(L, 3);
    luaL_argcheck(L, noise >= 0, 3, "noise must be >= 0");
    mat *X = dl_newmatrix(L, n, 2);
    mat *y = dl_newmatrix(L, n, 1);
    toy_spirals(*X, *y, k, noise, checkseed(L, 4), NULL, 0);
    return 2;
}

/* moons(n, noise, seed) -> X, y */
static int d_moons(lua_State *L)
{
    return plane_set(L, toy_moons);
}

/* blobs(n, k, dim, spread, box, seed [, centers k×dim]) -> X, y, centers */
static int d_blobs(lua_State *L)
{
    int n = checkint(L, 1, 1, MAT_MAX_DIM);
    int k = checkint(L, 2, 1, 1 << 24);
    int dim = checkint(L, 3, 1, 1 << 20);
    float spread = (float)luaL_checknumber(L, 4), box = (float)luaL_checknumber(L, 5);
    luaL_argcheck(L, spread >= 0, 4, "spread must be >= 0");
    luaL_argcheck(L, box >= 0, 5, "box must be >= 0");
    uint64_t seed = checkseed(L, 6);
    mat *given = lua_isnoneornil(L, 7) ? NULL : dl_checkmatrix(L, 7);
    if (given && (given->rows != k || given->cols != dim))
        return luaL_error(L, "blobs: centers are %dx%d, expected %dx%d", given->rows,
                          given->cols, k, dim);
    mat *X = dl_newmatrix(L, n, dim);
    mat *y = dl_newmatrix(L, n, 1);
    if (given)
        lua_pushvalue(L, 7);
    mat *C = given ? given : dl_newmatrix(L, k, dim);
    toy_blobs(*X, *y, *C, !given, box, spread, seed, NULL, 0);
    return 3;
}

/* linear(n, dim, noise, b, seed [, w dim×1]) -> X, Y, w */
static int d_linear(lua_State *L)
{
    int n = checkint(L, 1, 1, MAT_MAX_DIM);
    int dim = checkint(L, 2, 1, 1 << 20);
    float noise = (float)luaL_checknumber(L, 3), b = (float)luaL_checknumber(L, 4);
    luaL_argcheck(L, noise >= 0, 3, "noise must be >= 0");
    uint64_t seed = checkseed(L, 5);
    mat *given = lua_isnoneornil(L, 6) ? NULL : dl_checkmatrix(L, 6);
    if (given && (given->rows != dim || given->cols != 1))
        return luaL_error(L, "linear: w is %dx%d, expected %dx1", given->rows, given->cols,
                          dim);
    mat *X = dl_newmatrix(L, n, dim);
    mat *Y = dl_newmatrix(L, n, 1);
    if (given)
        lua_pushvalue(L, 6);
    mat *w = given ? given : dl_newmatrix(L, dim, 1);
    toy_linear(*X, *Y, *w, !given, b, noise, seed, NULL, 0);
    return 3;
}

static const luaL_Reg funcs[] = {
    { "idx", d_idx },
    { "cifar", d_cifar },
    { "csv", d_csv },
    { "rows", d_rows },
    { "cols", d_cols },
    { "vcat", d_vcat },
    { "view", d_view },
    { "image", d_image },
    { "perm", d_perm },
    { "permute", d_permute },
    { "check_labels", d_check_labels },
    { "onehot", d_onehot },
    { "counts", d_counts },
    { "labels", d_labels },
    { "column", d_column },
    { "colstats", d_colstats },
    { "globalstats", d_globalstats },
    { "standardize", d_standardize },
    { "xor", d_xor },
    { "spirals", d_spirals },
    { "moons", d_moons },
    { "blobs", d_blobs },
    { "linear", d_linear },
    { NULL, NULL }
};

int luaopen_deltalab_datacore(lua_State *L)
{
    luaL_newlib(L, funcs);
    return 1;
}
