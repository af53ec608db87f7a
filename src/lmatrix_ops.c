/*
 * lmatrix_ops.c — the matrix type's maths: arithmetic metamethods (+ − * / and
 * unary −, ==), element-wise methods and in-place updates, activations and
 * softmax, reductions, dot products, linear algebra. Each checks its
 * arguments, calls one function of src/core/mat.h or linalg.h, and pushes.
 * Shape errors name both shapes.
 */
#include "lmatrix.h"
#include "core/linalg.h"

/* ---- Arithmetic ---- */

/* Operand i of an arithmetic metamethod: a matrix (returned) or a number (*s). */
static mat *operand(lua_State *L, int i, const char *opname, float *s)
{
    if (lua_type(L, i) == LUA_TNUMBER) {
        *s = (float)lua_tonumber(L, i);
        return NULL;
    }
    if (lmatrix_test(L, i))
        return checkm(L, i);
    luaL_error(L, "matrix %s: expected a matrix or a number, got %s", opname,
               luaL_typename(L, i));
    return NULL;
}

/* Which metamethod arith serves. */
typedef enum arith_op { ADD, SUB, MUL, DIV } arith_op;

static int arith(lua_State *L, arith_op op, const char *sym, const char *verb)
{
    float sa = 0, sb = 0;
    mat *a = operand(L, 1, sym, &sa), *b = operand(L, 2, sym, &sb);
    if (a && b) {
        int r, c;
        if (op == MUL) {
            if (a->cols != b->rows)
                return luaL_error(L, "matrix *: %dx%d times %dx%d — inner sizes %d and %d differ",
                                  a->rows, a->cols, b->rows, b->cols, a->cols, b->rows);
            mat *C = dl_newmatrix(L, a->rows, b->cols);
            lmatrix_check_status(L, mat_gemm(*C, 1, *a, 0, *b, 0, 0), "matrix *");
            return 1;
        }
        if (op == DIV)
            return luaL_error(L, "matrix /: cannot divide %dx%d by %dx%d — use a:ediv(b) for "
                              "element-wise division or matrix.solve(A, b)",
                              a->rows, a->cols, b->rows, b->cols);
        if (!mat_broadcast_shape(*a, *b, &r, &c)) {
            mat big = mat_size(*a) >= mat_size(*b) ? *a : *b;
            return luaL_error(L, "matrix %s: %dx%d %s %dx%d — shapes differ (only equal shapes, "
                              "or a 1x%d row or %dx1 column across a %dx%d, combine)",
                              sym, a->rows, a->cols, verb, b->rows, b->cols,
                              big.cols, big.rows, big.rows, big.cols);
        }
        mat *C = dl_newmatrix(L, r, c);
        lmatrix_check_status(L, op == ADD ? mat_add(*C, *a, *b) : mat_subtract(*C, *a, *b),
                             op == ADD ? "matrix +" : "matrix -");
        return 1;
    }
    mat *m = a ? a : b;
    float s = a ? sb : sa;
    mat *C = lmatrix_newlike(L, *m);
    switch (op) {
    case ADD: mat_shift(*C, *m, s); break;
    case SUB: if (a) mat_shift(*C, *m, -s); else mat_rsub(*C, s, *m); break;
    case MUL: mat_scale(*C, *m, s); break;
    case DIV: if (a) mat_scale(*C, *m, 1.0f / s); else mat_rdiv(*C, s, *m); break;
    }
    return 1;
}

static int m_add(lua_State *L) { return arith(L, ADD, "+", "plus"); }
static int m_sub(lua_State *L) { return arith(L, SUB, "-", "minus"); }
static int m_mul(lua_State *L) { return arith(L, MUL, "*", "times"); }
static int m_div(lua_State *L) { return arith(L, DIV, "/", "over"); }

static int m_unm(lua_State *L)
{
    mat *m = checkm(L, 1);
    mat_scale(*lmatrix_newlike(L, *m), *m, -1);
    return 1;
}

static int m_eq(lua_State *L)
{
    mat *a = checkm(L, 1), *b = checkm(L, 2);
    lua_pushboolean(L, mat_equal(*a, *b));
    return 1;
}

/* Two matrices of one shape for an element-wise method named fname. */
static void sameshape(lua_State *L, mat a, mat b, const char *fname)
{
    if (!mat_same_shape(a, b))
        luaL_error(L, "%s: %dx%d and %dx%d differ in shape", fname, a.rows, a.cols,
                   b.rows, b.cols);
}

static int elementwise(lua_State *L, dl_status (*op)(mat, mat, mat), const char *fname)
{
    mat *a = checkm(L, 1), *b = checkm(L, 2);
    sameshape(L, *a, *b, fname);
    mat *C = lmatrix_newlike(L, *a);
    lmatrix_check_status(L, op(*C, *a, *b), fname);
    return 1;
}

static int m_hadamard(lua_State *L) { return elementwise(L, mat_hadamard, "hadamard"); }
static int m_emul(lua_State *L) { return elementwise(L, mat_hadamard, "emul"); }
static int m_ediv(lua_State *L) { return elementwise(L, mat_divide, "ediv"); }

/* m:add_(x): m += x for a number, an equal-shaped matrix or a broadcast vector. */
static int m_add_(lua_State *L)
{
    mat *m = checkm(L, 1), *x;
    if (lua_type(L, 2) == LUA_TNUMBER) {
        mat_shift(*m, *m, (float)lua_tonumber(L, 2));
    } else if (lmatrix_test(L, 2)) {
        x = checkm(L, 2);
        int r, c;
        if (!mat_broadcast_shape(*m, *x, &r, &c) || r != m->rows || c != m->cols)
            return luaL_error(L, "add_: cannot add %dx%d into %dx%d (equal shapes, a 1x%d row "
                              "or a %dx1 column)", x->rows, x->cols, m->rows, m->cols,
                              m->cols, m->rows);
        lmatrix_check_status(L, mat_add(*m, *m, *x), "add_");
    } else {
        return luaL_typeerror(L, 2, "matrix or number");
    }
    lua_settop(L, 1);
    return 1;
}

static int m_scale_(lua_State *L)
{
    mat *m = checkm(L, 1);
    mat_scale(*m, *m, lmatrix_checkfloat(L, 2));
    lua_settop(L, 1);
    return 1;
}

static int m_fill_(lua_State *L)
{
    mat *m = checkm(L, 1);
    mat_fill(*m, lmatrix_checkfloat(L, 2));
    lua_settop(L, 1);
    return 1;
}

/* m:axpy_(a, x): m += a·x. */
static int m_axpy_(lua_State *L)
{
    mat *m = checkm(L, 1);
    float a = lmatrix_checkfloat(L, 2);
    mat *x = checkm(L, 3);
    sameshape(L, *m, *x, "axpy_");
    if (mat_overlaps(*m, *x) && x->data != m->data) {
        mat *t = lmatrix_newlike(L, *x);   /* x shares memory with m: use x as it was */
        mat_copy(*t, *x);
        x = t;
    }
    mat_axpy(*m, a, *x);
    lua_settop(L, 1);
    return 1;
}

/* The names m:apply takes, with "d" + name for the derivative. Order:
 * activations as in dl_act_names, then element-wise maps, then derivatives. */
static const char *const apply_names[] = {
    "linear", "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "step", "softmax",
    "exp", "log", "sqrt", "abs", "square",
    "dlinear", "dsigmoid", "dtanh", "drelu", "dleaky_relu", "dsoftplus", "dstep",
    NULL
};

static int m_apply(lua_State *L)
{
    mat *m = checkm(L, 1);
    luaL_checkstring(L, 2);
    int k = dl_checkchoice(L, 2, "matrix:apply", "function", apply_names);
    mat *C = lmatrix_newlike(L, *m);
    dl_status s;
    if (k == DL_SOFTMAX && m->cols == 1 && m->rows > 1)
        s = mat_softmax_cols(*C, *m, 1.0f);     /* a column vector: as m:softmax() */
    else if (k < DL_ACT_COUNT)
        s = mat_apply(*C, *m, (dl_act)k, 1.0f);
    else if (k < DL_ACT_COUNT + 5)
        s = mat_map(*C, *m, (mat_fn)(k - DL_ACT_COUNT));
    else
        s = mat_apply_deriv(*C, *m, (dl_act)(k - DL_ACT_COUNT - 5));
    lmatrix_check_status(L, s, "apply");
    return 1;
}

/* m:softmax{temperature = c, dim = 1|2}: softmax(c·x) across each row (dim 2,
 * the default) or down each column (dim 1, the default for a column vector). */
static int m_softmax(lua_State *L)
{
    mat *m = checkm(L, 1);
    static const char *const names[] = { "temperature", "dim", NULL };
    const char *fn = "matrix:softmax";
    dl_isopts(L, 2, fn);
    dl_checkoptions(L, 2, fn, names, 0);
    lua_Number c = dl_optnumber(L, 2, fn, "temperature", 1);
    int dim = (int)dl_optinteger(L, 2, fn, "dim", m->cols == 1 && m->rows > 1 ? 1 : 2, 1, 2);
    mat *C = lmatrix_newlike(L, *m);
    lmatrix_check_status(L, dim == 2 ? mat_softmax_rows(*C, *m, (float)c)
                                     : mat_softmax_cols(*C, *m, (float)c), fn);
    return 1;
}

/* m:map(f): a new matrix of f(x, i, j) for every element. */
static int m_map(lua_State *L)
{
    mat *m = checkm(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    mat *C = lmatrix_newlike(L, *m);
    for (int i = 0; i < m->rows; i++)
        for (int j = 0; j < m->cols; j++) {
            lua_pushvalue(L, 2);
            lua_pushnumber(L, *mat_at(*m, i, j));
            lua_pushinteger(L, i + 1);
            lua_pushinteger(L, j + 1);
            lua_call(L, 3, 1);
            if (lua_type(L, -1) != LUA_TNUMBER)
                return luaL_error(L, "map: the function returned %s for element (%d, %d), "
                                  "a number is needed", luaL_typename(L, -1), i + 1, j + 1);
            *mat_at(*C, i, j) = (float)lua_tonumber(L, -1);
            lua_pop(L, 1);
        }
    return 1;
}

/* ---- Reductions ---- */

/* dim from m:sum(2) or m:sum{dim = 2}: 0 (all elements), 1 or 2. */
static int optreducedim(lua_State *L, int arg, const char *fn)
{
    static const char *const names[] = { "dim", NULL };
    if (lua_istable(L, arg)) {
        dl_checkoptions(L, arg, fn, names, 0);
        return (int)dl_optinteger(L, arg, fn, "dim", 0, 1, 2);
    }
    if (lua_isnoneornil(L, arg))
        return 0;
    if (lua_type(L, arg) != LUA_TNUMBER)
        luaL_typeerror(L, arg, "dim (1 or 2) or {dim = 1|2}");
    lua_Number d = lua_tonumber(L, arg);
    if (d != 0 && d != 1 && d != 2)
        luaL_argerror(L, arg, lua_pushfstring(L, "dim must be 1 or 2, got %s",
                                              lmatrix_numstr(L, d)));
    return (int)d;
}

static int reduce(lua_State *L, mat_reduce op, const char *fname)
{
    mat *m = checkm(L, 1);
    int dim = optreducedim(L, 2, fname);
    if (dim) {
        mat *r = dim == 1 ? dl_newmatrix(L, 1, m->cols) : dl_newmatrix(L, m->rows, 1);
        if (mat_reduce_dim(*r, *m, op, dim) != DL_OK)
            return luaL_error(L, "%s: the matrix is empty (%dx%d)", fname, m->rows, m->cols);
        return 1;
    }
    double v;
    int i, j;
    switch (op) {
    case MAT_SUM:  lua_pushnumber(L, mat_sum(*m)); return 1;
    case MAT_MEAN: lua_pushnumber(L, mat_sum(*m) / (double)mat_size(*m)); return 1;
    case MAT_NORM: lua_pushnumber(L, mat_norm(*m)); return 1;
    default: break;
    }
    int big = op == MAT_MAX || op == MAT_ARGMAX;
    if ((big ? mat_max : mat_min)(*m, &v, &i, &j) != DL_OK)
        return luaL_error(L, "%s: the matrix is empty (%dx%d)", fname, m->rows, m->cols);
    if (op == MAT_MAX || op == MAT_MIN) {
        lua_pushnumber(L, v);
        return 1;
    }
    if (m->rows == 1 || m->cols == 1) {   /* a vector: one position */
        lua_pushinteger(L, (m->rows == 1 ? j : i) + 1);
        return 1;
    }
    lua_pushinteger(L, i + 1);
    lua_pushinteger(L, j + 1);
    return 2;
}

static int m_sum(lua_State *L) { return reduce(L, MAT_SUM, "matrix:sum"); }
static int m_mean(lua_State *L) { return reduce(L, MAT_MEAN, "matrix:mean"); }
static int m_max(lua_State *L) { return reduce(L, MAT_MAX, "matrix:max"); }
static int m_min(lua_State *L) { return reduce(L, MAT_MIN, "matrix:min"); }
static int m_argmax(lua_State *L) { return reduce(L, MAT_ARGMAX, "matrix:argmax"); }
static int m_argmin(lua_State *L) { return reduce(L, MAT_ARGMIN, "matrix:argmin"); }
static int m_norm(lua_State *L) { return reduce(L, MAT_NORM, "matrix:norm"); }

/* m:dot(n): Σ m⊙n for equal shapes, or two vectors of one length. */
static int m_dot(lua_State *L)
{
    mat a = *checkm(L, 1), b = *checkm(L, 2);
    /* A 1×n row is also an n×1 column with stride 1. */
    if (a.rows == 1 && b.cols == 1 && a.cols == b.rows && a.cols != 1)
        a = (mat){ a.data, a.cols, 1, 1 };
    if (b.rows == 1 && a.cols == 1 && b.cols == a.rows && b.cols != 1)
        b = (mat){ b.data, b.cols, 1, 1 };
    sameshape(L, a, b, "dot");
    lua_pushnumber(L, mat_dot(a, b));
    return 1;
}

static int m_allclose(lua_State *L)
{
    mat *a = checkm(L, 1), *b = checkm(L, 2);
    lua_Number rtol = luaL_optnumber(L, 3, 1e-5), atol = luaL_optnumber(L, 4, 1e-8);
    sameshape(L, *a, *b, "matrix.allclose");
    lua_pushboolean(L, mat_allclose(*a, *b, rtol, atol));
    return 1;
}

/* ---- Linear algebra ---- */

static int m_solve(lua_State *L)
{
    mat *A = checkm(L, 1), *B = checkm(L, 2);
    if (A->rows != A->cols)
        return luaL_error(L, "matrix.solve: A is %dx%d, not square (use matrix.lstsq)",
                          A->rows, A->cols);
    if (B->rows != A->rows)
        return luaL_error(L, "matrix.solve: A is %dx%d but b has %d rows", A->rows, A->cols,
                          B->rows);
    mat *X = lmatrix_newlike(L, *B);
    dl_status s = linalg_solve(*X, *A, *B);
    if (s == DL_ESINGULAR)
        return luaL_error(L, "matrix.solve: A (%dx%d) is singular", A->rows, A->cols);
    lmatrix_check_status(L, s, "matrix.solve");
    return 1;
}

static int m_lstsq(lua_State *L)
{
    mat *A = checkm(L, 1), *B = checkm(L, 2);
    if (B->rows != A->rows)
        return luaL_error(L, "matrix.lstsq: A is %dx%d but b has %d rows", A->rows, A->cols,
                          B->rows);
    mat *X = dl_newmatrix(L, A->cols, B->cols);
    dl_status s = linalg_lstsq(*X, *A, *B);
    if (s == DL_ESINGULAR)
        return luaL_error(L, "matrix.lstsq: A (%dx%d) does not have full rank", A->rows,
                          A->cols);
    lmatrix_check_status(L, s, "matrix.lstsq");
    return 1;
}

static int m_inv(lua_State *L)
{
    mat *A = checkm(L, 1);
    if (A->rows != A->cols)
        return luaL_error(L, "inv: %dx%d is not square", A->rows, A->cols);
    mat *X = lmatrix_newlike(L, *A);
    dl_status s = linalg_inv(*X, *A);
    if (s == DL_ESINGULAR)
        return luaL_error(L, "inv: the %dx%d matrix is singular", A->rows, A->cols);
    lmatrix_check_status(L, s, "inv");
    return 1;
}


const luaL_Reg lmatrix_ops_meth[] = {
    { "hadamard", m_hadamard },
    { "emul", m_emul },
    { "ediv", m_ediv },
    { "add_", m_add_ },
    { "scale_", m_scale_ },
    { "fill_", m_fill_ },
    { "axpy_", m_axpy_ },
    { "apply", m_apply },
    { "softmax", m_softmax },
    { "map", m_map },
    { "sum", m_sum },
    { "mean", m_mean },
    { "max", m_max },
    { "min", m_min },
    { "argmax", m_argmax },
    { "argmin", m_argmin },
    { "norm", m_norm },
    { "dot", m_dot },
    { "inv", m_inv },
    { NULL, NULL }
};

const luaL_Reg lmatrix_ops_metameth[] = {
    { "__add", m_add },
    { "__sub", m_sub },
    { "__mul", m_mul },
    { "__div", m_div },
    { "__unm", m_unm },
    { "__eq", m_eq },
    { NULL, NULL }
};

const luaL_Reg lmatrix_ops_funcs[] = {
    { "allclose", m_allclose },
    { "solve", m_solve },
    { "lstsq", m_lstsq },
    { NULL, NULL }
};
