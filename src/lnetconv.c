/*
 * lnetconv.c — Lua values into a network: inputs, targets, parameters.
 *
 * Conversions go straight into the core's workspace (net_input, net_target),
 * so net:step allocates nothing in C. Every form the book writes is taken: a
 * vector as a table or an n×1 column, a batch as rows, a class as its label.
 */
#include "lnetwork.h"

#include <math.h>
#include <stdio.h>

/* Copy the matrix or (nested) table at idx into dst. Vectors (dst a single
 * row) also accept a column matrix or a flat table. `what` names the target
 * in errors: "init[1].W". */
void lnet_copy_into(lua_State *L, int idx, mat dst, const char *fn, const char *what)
{
    idx = lua_absindex(L, idx);
    mat *m = dl_testmatrix(L, idx);
    if (m) {
        if (mat_same_shape(*m, dst)) {
            mat_copy(dst, *m);
            return;
        }
        if (dst.rows == 1 && m->cols == 1 && m->rows == dst.cols) {
            for (int j = 0; j < dst.cols; j++) dst.data[j] = *mat_at(*m, j, 0);
            return;
        }
        luaL_error(L, "%s: %s is %dx%d, expected %dx%d", fn, what, m->rows, m->cols,
                   dst.rows, dst.cols);
    }
    if (!lua_istable(L, idx))
        luaL_error(L, "%s: %s must be a matrix or a table (got %s)", fn, what,
                   luaL_typename(L, idx));
    int rows = (int)luaL_len(L, idx);
    lua_geti(L, idx, 1);
    int nested = lua_istable(L, -1);
    lua_pop(L, 1);
    if (!nested) {
        if (!(dst.rows == 1 && rows == dst.cols) && !(dst.cols == 1 && rows == dst.rows))
            luaL_error(L, "%s: %s has %d numbers, expected %dx%d", fn, what, rows,
                       dst.rows, dst.cols);
        for (int i = 0; i < rows; i++) {
            lua_geti(L, idx, i + 1);
            int ok;
            lua_Number v = lua_tonumberx(L, -1, &ok);
            if (!ok)
                luaL_error(L, "%s: %s[%d] is not a number", fn, what, i + 1);
            dst.data[(size_t)i * (dst.rows == 1 ? 1 : (size_t)dst.stride)] = (float)v;
            lua_pop(L, 1);
        }
        return;
    }
    if (rows != dst.rows)
        luaL_error(L, "%s: %s has %d rows, expected %dx%d", fn, what, rows, dst.rows, dst.cols);
    for (int i = 0; i < rows; i++) {
        lua_geti(L, idx, i + 1);
        if (!lua_istable(L, -1) || luaL_len(L, -1) != dst.cols)
            luaL_error(L, "%s: %s row %d must be a table of %d numbers", fn, what, i + 1,
                       dst.cols);
        for (int j = 0; j < dst.cols; j++) {
            lua_geti(L, -1, j + 1);
            int ok;
            lua_Number v = lua_tonumberx(L, -1, &ok);
            if (!ok)
                luaL_error(L, "%s: %s[%d][%d] is not a number", fn, what, i + 1, j + 1);
            *mat_at(dst, i, j) = (float)v;
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
}

/* Put the input at idx into the workspace and set it as the network's
 * input: a B×n⁰ matrix (rows are samples), an n⁰×1 column (one sample, the
 * book's way), a table of n⁰ numbers, or a table of B rows. */
void lnet_set_input(lua_State *L, net *n, int idx, const char *fn)
{
    int n0 = n->sizes[0];
    mat *m = dl_testmatrix(L, idx);
    dl_status s;
    if (m) {
        if (m->cols == n0 && m->rows >= 1) {
            s = net_set_input(n, *m);
        } else if (m->cols == 1 && m->rows == n0) {
            mat in = net_input(n, 1);
            if (!in.data) return (void)lnet_status_error(L, fn, DL_ENOMEM);
            for (int k = 0; k < n0; k++) in.data[k] = *mat_at(*m, k, 0);
            s = net_set_input(n, in);
        } else {
            luaL_error(L, "%s: input is %dx%d, expected Bx%d (rows are samples) or a %dx1 column",
                       fn, m->rows, m->cols, n0, n0);
            return;
        }
    } else if (lua_istable(L, idx)) {
        lua_geti(L, idx, 1);
        int nested = lua_istable(L, -1);
        lua_pop(L, 1);
        int B = nested ? (int)luaL_len(L, idx) : 1;
        if (B < 1)
            luaL_error(L, "%s: input table is empty", fn);
        mat in = net_input(n, B);
        if (!in.data) return (void)lnet_status_error(L, fn, DL_ENOMEM);
        lnet_copy_into(L, idx, in, fn, "input");
        s = net_set_input(n, in);
    } else {
        luaL_error(L, "%s: input must be a matrix or a table (got %s)", fn,
                   luaL_typename(L, idx));
        return;
    }
    if (s != DL_OK)
        lnet_status_error(L, fn, s);
}

/* Check a 0-based class label for a network with m outputs. */
static int check_label(lua_State *L, lua_Number v, int m, const char *fn)
{
    int top = m == 1 ? 1 : m - 1;
    if (!(v >= 0 && v <= top && v == floor(v))) {
        char buf[32];
        snprintf(buf, sizeof buf, "%.14g", (double)v);
        luaL_error(L, "%s: label %s out of range 0..%d (class labels are 0-based)", fn, buf, top);
    }
    return (int)v;
}

/* The targets at idx for the last forward (B rows), into the workspace:
 * an integer class label (B = 1), a B×nᴸ matrix, an nᴸ×1 column (B = 1),
 * a B×1 matrix or table of labels (nᴸ > 1), a table of nᴸ numbers (B = 1),
 * or a table of B rows. */
mat lnet_get_target(lua_State *L, net *n, int idx, const char *fn)
{
    int B = n->B, m = n->sizes[n->L];
    if (B < 1)
        luaL_error(L, "%s: no forward pass yet (call net:forward(x) first)", fn);
    mat T = net_target(n, B);
    mat *y = dl_testmatrix(L, idx);
    if (lua_type(L, idx) == LUA_TNUMBER) {
        if (B != 1)
            luaL_error(L, "%s: one label for a batch of %d samples (give %d labels)", fn, B, B);
        int lab = check_label(L, lua_tonumber(L, idx), m, fn);
        mat_fill(T, 0.0f);
        if (m == 1) T.data[0] = (float)lab; else T.data[lab] = 1.0f;
    } else if (y) {
        if (y->rows == B && y->cols == m) {
            mat_copy(T, *y);
        } else if (B == 1 && y->cols == 1 && y->rows == m) {
            for (int j = 0; j < m; j++) T.data[j] = *mat_at(*y, j, 0);
        } else if (y->rows == B && y->cols == 1 && m > 1) {
            for (int i = 0; i < B; i++) check_label(L, *mat_at(*y, i, 0), m, fn);
            mat out;
            dl_status s = net_labels_to_targets(n, *y, &out);
            if (s != DL_OK) lnet_status_error(L, fn, s);
        } else {
            luaL_error(L, "%s: target is %dx%d, expected %dx%d (or %d labels)", fn,
                       y->rows, y->cols, B, m, B);
        }
    } else if (lua_istable(L, idx)) {
        lua_geti(L, idx, 1);
        int nested = lua_istable(L, -1);
        lua_pop(L, 1);
        int len = (int)luaL_len(L, idx);
        if (!nested && B > 1 && m > 1) {            /* labels */
            if (len != B)
                luaL_error(L, "%s: %d labels for a batch of %d samples", fn, len, B);
            mat_fill(T, 0.0f);
            for (int i = 0; i < B; i++) {
                lua_geti(L, idx, i + 1);
                if (!lua_isnumber(L, -1))
                    luaL_error(L, "%s: label %d is not a number", fn, i + 1);
                *mat_at(T, i, check_label(L, lua_tonumber(L, -1), m, fn)) = 1.0f;
                lua_pop(L, 1);
            }
        } else {
            if (!nested && B == 1 && len != m)
                luaL_error(L, "%s: target has %d numbers, expected %d", fn, len, m);
            lnet_copy_into(L, idx, T, fn, "target");
        }
    } else {
        luaL_error(L, "%s: target must be a label, a matrix or a table (got %s)", fn,
                   luaL_typename(L, idx));
    }
    return T;
}

void lnet_push_column(lua_State *L, mat m, int i)
{
    mat *c = dl_newmatrix(L, m.cols, 1);
    for (int j = 0; j < m.cols; j++) *mat_at(*c, j, 0) = *mat_at(m, i, j);
}
