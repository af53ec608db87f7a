/* ldatacore.c — the Lua face of the core's datacore (in progress). */
#include "deltalab.h"

static const luaL_Reg funcs[] = {
    { NULL, NULL }
};

int luaopen_deltalab_datacore(lua_State *L)
{
    luaL_newlib(L, funcs);
    return 1;
}
