/*
 * lmatrix.h — what the files of the matrix binding share (private to them;
 * other bindings use the C interface in deltalab.h).
 *
 *   lmatrix.c      the type: creation, shape and element access, views,
 *                  conversion and files, the metatable and the opener
 *   lmatrix_ops.c  the maths: arithmetic metamethods, element-wise methods,
 *                  reductions, linear algebra
 */
#ifndef LMATRIX_H
#define LMATRIX_H

#include "deltalab.h"
#include "largs.h"

#include <stddef.h>

typedef struct lmatrix {
    mat m;       /* m.data is NULL once the matrix has been closed */
    /* A following view (dl_pushfollowing): m is re-read through follow from
     * the owner (the user value) at every use. A view made from one inherits
     * follow and records where it lies in the source (offset, a sub-matrix of
     * a rows0×cols0 source): it is valid while the source keeps that shape. */
    const dl_follow *follow;
    int key;
    int derived, rows0, cols0;
    ptrdiff_t offset;
} lmatrix;

#define checkm dl_checkmatrix

/* The matrix userdata at i, live or closed, or NULL if it is not one; a
 * following view is brought up to date first (raising if it is out of date). */
lmatrix *lmatrix_test(lua_State *L, int i);
/* Push a new owning matrix of m's shape (zeroed). */
mat *lmatrix_newlike(lua_State *L, mat m);
/* A number for messages: "2.5", "nan", "1e+300" (pushed on the stack). */
const char *lmatrix_numstr(lua_State *L, lua_Number x);
/* Raise for a failed core call, naming the function. */
void lmatrix_check_status(lua_State *L, dl_status s, const char *fname);

/* A float from a Lua number argument (luaL_checknumber's message). */
static inline float lmatrix_checkfloat(lua_State *L, int arg)
{
    return (float)luaL_checknumber(L, arg);
}

/* The functions of lmatrix_ops.c, set into the metatable, the method table
 * and the module table by lmatrix.c's opener. */
extern const luaL_Reg lmatrix_ops_meth[];
extern const luaL_Reg lmatrix_ops_metameth[];
extern const luaL_Reg lmatrix_ops_funcs[];

#endif
