/*
 * lmatrix.c — the matrix userdata: the Lua face of the core's mat.
 *
 * A matrix userdata is a header (struct lmatrix) followed, when it owns its
 * elements, by the float buffer itself, aligned to 64 bytes inside the block.
 * Keeping the buffer inside the userdata lets Lua's collector see its true size,
 * so a loop that makes big matrices stays bounded without collectgarbage().
 * A view (row, slice, a network's weights) has no buffer of its own: its user
 * value holds the owner, so the owner lives as long as the view does.
 */
#include "deltalab.h"

#include <stdint.h>
#include <string.h>

typedef struct lmatrix {
    mat m;  /* m.data is NULL once the matrix has been closed */
} lmatrix;

static lmatrix *testlm(lua_State *L, int i)
{
    return luaL_testudata(L, i, DL_MATRIX);
}

mat *dl_testmatrix(lua_State *L, int i)
{
    lmatrix *lm = testlm(L, i);
    return lm && lm->m.data ? &lm->m : NULL;
}

mat *dl_checkmatrix(lua_State *L, int i)
{
    lmatrix *lm = luaL_checkudata(L, i, DL_MATRIX);
    if (!lm->m.data)
        luaL_error(L, "attempt to use a freed matrix");
    return &lm->m;
}

mat *dl_newmatrix(lua_State *L, int rows, int cols)
{
    if (rows < 0 || cols < 0 || rows > MAT_MAX_DIM || cols > MAT_MAX_DIM)
        luaL_error(L, "matrix size %dx%d is invalid", rows, cols);
    size_t n = (size_t)rows * cols;
    if (cols && (size_t)rows > (SIZE_MAX - sizeof(lmatrix) - 64) / sizeof(float) / (size_t)cols)
        luaL_error(L, "matrix %dx%d is too large for memory", rows, cols);
    size_t bytes = sizeof(lmatrix) + 64 + n * sizeof(float);
    lmatrix *lm = lua_newuserdatauv(L, bytes, 1);
    uintptr_t p = ((uintptr_t)(lm + 1) + 63) & ~(uintptr_t)63;
    lm->m = (mat){ (float *)p, rows, cols, cols };
    memset(lm->m.data, 0, n * sizeof(float));
    luaL_setmetatable(L, DL_MATRIX);
    return &lm->m;
}

mat *dl_pushview(lua_State *L, mat view, int owner)
{
    owner = lua_absindex(L, owner);
    lmatrix *lm = lua_newuserdatauv(L, sizeof(lmatrix), 1);
    lm->m = view;
    luaL_setmetatable(L, DL_MATRIX);
    lua_pushvalue(L, owner);
    lua_setiuservalue(L, -2, 1);
    return &lm->m;
}

/* __gc and __close: mark the matrix freed and let go of the owner. */
static int m_close(lua_State *L)
{
    lmatrix *lm = luaL_checkudata(L, 1, DL_MATRIX);
    lm->m.data = NULL;
    lua_pushnil(L);
    lua_setiuservalue(L, 1, 1);
    return 0;
}

static int m_shape(lua_State *L)
{
    mat *m = dl_checkmatrix(L, 1);
    lua_pushinteger(L, m->rows);
    lua_pushinteger(L, m->cols);
    return 2;
}

static int m_get(lua_State *L)
{
    mat *m = dl_checkmatrix(L, 1);
    lua_Integer i = luaL_checkinteger(L, 2), j = luaL_checkinteger(L, 3);
    luaL_argcheck(L, i >= 1 && i <= m->rows, 2, "row index out of range");
    luaL_argcheck(L, j >= 1 && j <= m->cols, 3, "column index out of range");
    lua_pushnumber(L, *mat_at(*m, (int)i - 1, (int)j - 1));
    return 1;
}

static int m_set(lua_State *L)
{
    mat *m = dl_checkmatrix(L, 1);
    lua_Integer i = luaL_checkinteger(L, 2), j = luaL_checkinteger(L, 3);
    float v = (float)luaL_checknumber(L, 4);
    luaL_argcheck(L, i >= 1 && i <= m->rows, 2, "row index out of range");
    luaL_argcheck(L, j >= 1 && j <= m->cols, 3, "column index out of range");
    *mat_at(*m, (int)i - 1, (int)j - 1) = v;
    lua_settop(L, 1);
    return 1;
}

static int m_tostring(lua_State *L)
{
    mat *m = dl_checkmatrix(L, 1);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 0; i < m->rows; i++) {
        for (int j = 0; j < m->cols; j++) {
            char cell[32];
            snprintf(cell, sizeof cell, "%s%g", j ? " " : "", *mat_at(*m, i, j));
            luaL_addstring(&b, cell);
        }
        luaL_addchar(&b, '\n');
    }
    lua_pushfstring(L, "[matrix %dx%d]", m->rows, m->cols);
    luaL_addvalue(&b);
    luaL_pushresult(&b);
    return 1;
}

static int m_zeros(lua_State *L)
{
    int r = (int)luaL_checkinteger(L, 1), c = (int)luaL_optinteger(L, 2, 1);
    dl_newmatrix(L, r, c);
    return 1;
}

/* matrix{{1,2},{3,4}} or matrix{1,2,3} (a column vector, as in the book). */
static int m_fromtable(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    int rows = (int)luaL_len(L, 1);
    lua_geti(L, 1, 1);
    int nested = lua_istable(L, -1);
    int cols = nested ? (int)luaL_len(L, -1) : 1;
    lua_pop(L, 1);
    mat *m = dl_newmatrix(L, rows, cols);
    for (int i = 0; i < rows; i++) {
        lua_geti(L, 1, i + 1);
        if (!nested) {
            *mat_at(*m, i, 0) = (float)luaL_checknumber(L, -1);
        } else {
            luaL_argcheck(L, lua_istable(L, -1) && luaL_len(L, -1) == cols, 1,
                          "rows must be tables of equal length");
            for (int j = 0; j < cols; j++) {
                lua_geti(L, -1, j + 1);
                *mat_at(*m, i, j) = (float)luaL_checknumber(L, -1);
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 1);
    }
    return 1;
}

static int m_call(lua_State *L)
{
    lua_remove(L, 1);  /* the module table */
    return m_fromtable(L);
}

static const luaL_Reg meth[] = {
    { "shape", m_shape },
    { "get", m_get },
    { "set", m_set },
    { "close", m_close },
    { NULL, NULL }
};

static const luaL_Reg metameth[] = {
    { "__index", NULL },  /* set to meth below */
    { "__gc", m_close },
    { "__close", m_close },
    { "__tostring", m_tostring },
    { NULL, NULL }
};

static const luaL_Reg funcs[] = {
    { "zeros", m_zeros },
    { "from", m_fromtable },
    { NULL, NULL }
};

static void createmeta(lua_State *L)
{
    luaL_newmetatable(L, DL_MATRIX);
    luaL_setfuncs(L, metameth, 0);
    luaL_newlibtable(L, meth);
    luaL_setfuncs(L, meth, 0);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}

int luaopen_deltalab_matrix(lua_State *L)
{
    luaL_newlib(L, funcs);
    createmeta(L);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, m_call);
    lua_setfield(L, -2, "__call");
    lua_setmetatable(L, -2);
    return 1;
}
