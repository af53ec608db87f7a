-- Every ```lua block of doc/matrix.md runs without error, and every public
-- matrix function has a reference entry there: a doc example that stops
-- working, or a function nobody documented, fails the suite.
local T = require "check"

local f = assert(io.open("doc/matrix.md", "r"))
local doc = f:read("a")
f:close()

local n = 0
for code in doc:gmatch("```lua\n(.-)```") do
  n = n + 1
  local line = select(2, doc:sub(1, doc:find(code, 1, true)):gsub("\n", "")) + 1
  T.test(("doc/matrix.md example %d (line %d)"):format(n, line), function()
    -- print is replaced so the output stays out of the test log, but still
    -- formats its arguments (that exercises __tostring).
    local env = setmetatable({ print = function(...)
      for i = 1, select("#", ...) do tostring((select(i, ...))) end
    end }, { __index = _G })
    local chunk = assert(load(code, "=doc/matrix.md:" .. line, "t", env))
    chunk()
  end)
end

T.test("the doc has examples", function() T.truthy(n >= 20, n .. " examples") end)

T.test("every module function and method has an entry", function()
  local missing = {}
  for name, v in pairs(matrix) do
    if type(v) == "function" and not doc:find("### `matrix." .. name .. "(", 1, true) then
      missing[#missing + 1] = "matrix." .. name
    end
  end
  for name in pairs(getmetatable(matrix.zeros(1, 1)).__methods) do
    if not doc:find("### `matrix:" .. name .. "(", 1, true) then
      missing[#missing + 1] = "matrix:" .. name
    end
  end
  table.sort(missing)
  T.eq(table.concat(missing, ", "), "", "undocumented")
end)

T.test("the printing example in the doc is what print shows", function()
  T.eq(tostring(matrix{ { 1, 2 }, { 3, 4 } }), "1  2\n3  4\n[matrix 2x2]")
  T.eq(tostring(matrix{ { 0.3, -1.2e-6 } }), " 3.0e-01  -1.2e-06\n[matrix 1x2]")
  T.truthy(doc:find("--  3.0e-01  -1.2e-06\n", 1, true), "doc shows it")
end)

T.done()
