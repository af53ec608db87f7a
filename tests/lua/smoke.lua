-- The program's modules load and a matrix round-trips through Lua.
local T = require "check"

T.test("modules are globals", function()
  for _, name in ipairs{ "matrix", "network", "trainer", "data", "plot", "help" } do
    T.truthy(_G[name] ~= nil, name .. " is a global")
  end
end)

T.test("matrix from a nested table", function()
  local m = matrix{ { 1, 2 }, { 3, 4 } }
  local r, c = m:shape()
  T.eq(r, 2, "rows"); T.eq(c, 2, "cols")
  T.eq(m:get(2, 1), 3, "m(2,1)")
end)

T.test("a non-matrix is refused with the type's name", function()
  T.checkerror("matrix expected, got number", matrix.zeros(1, 1).shape, 5)
end)

T.done()
