/*
 * kernel.h — deltalab as a Jupyter kernel (doc/notebook.md).
 */
#ifndef KERNEL_H
#define KERNEL_H

#include <lua.h>

/* Serve the Jupyter messaging protocol on the sockets of connection_file,
 * with L set up as for the prompt, until a shutdown_request. Returns 0 on a
 * clean shutdown, else prints why (prefixed by prog) and returns 1. */
int dl_kernel_main(lua_State *L, const char *connection_file, const char *prog);

#endif
