#!/bin/sh
# The matrix arithmetic tests again with the scalar reference kernels
# (DELTALAB_ISA=scalar): run.sh runs tests/lua/matrix_ops.lua with the default
# (AVX2 where the CPU has it), so both ISAs are compared with plain Lua.
cd "$(dirname "$0")/../.." || exit 1
DELTALAB_ISA=scalar LUA_PATH="tests/lua/?.lua;;" exec "${DELTALAB:-./deltalab}" tests/lua/matrix_ops.lua
