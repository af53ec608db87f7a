-- matrix: construction, shape, access, views, memory, and every error message.
local T = require "check"

local function same(m, rows, what)
  local r, c = m:shape()
  T.eq(r, #rows, (what or "matrix") .. " rows")
  T.eq(c, #rows[1], (what or "matrix") .. " cols")
  for i = 1, #rows do
    for j = 1, #rows[1] do
      T.eq(m:get(i, j), rows[i][j], ("%s(%d,%d)"):format(what or "m", i, j))
    end
  end
end

T.test("matrix{{..}} and matrix{..} (a column vector)", function()
  same(matrix{ { 1, 2, 3 }, { 4, 5, 6 } }, { { 1, 2, 3 }, { 4, 5, 6 } })
  same(matrix{ 1, 2, 3 }, { { 1 }, { 2 }, { 3 } }, "column")
  same(matrix.from{ { 7 } }, { { 7 } })
  T.eq(select(2, matrix{}:shape()), 0, "empty")
  same(matrix.from("1 2; 3 4"), { { 1, 2 }, { 3, 4 } }, "from string")
  same(matrix.from("1, 2\n3, 4.5\n"), { { 1, 2 }, { 3, 4.5 } }, "from lines")
  local m = matrix{ { 1, 2 } }
  local c = matrix.from(m)
  c:set(1, 1, 9)
  T.eq(m:get(1, 1), 1, "from(matrix) copies")
end)

T.test("construction errors name the problem", function()
  T.checkerror("matrix{...}: row 2 has 1 elements, row 1 has 2", function() return matrix{ { 1, 2 }, { 3 } } end)
  T.checkerror("element (1, 2) is a string, not a number", function() return matrix{ { 1, "x" } } end)
  T.checkerror("element 2 is a boolean, not a number", function() return matrix{ 1, true } end)
  T.checkerror("row 2 is a number, rows must be tables", function() return matrix{ { 1 }, 2 } end)
  T.checkerror("expected a table of rows or of numbers, got number", function() return matrix(3) end)
  T.checkerror("matrix.from: row 2 has 1 numbers, row 1 has 2", matrix.from, "1 2; 3")
  T.checkerror("matrix.from: 'x' is not a number", matrix.from, "1 x")
  T.checkerror("table, string or matrix expected, got number", function() return matrix.from(1) end)
end)

T.test("zeros, ones, fill, eye", function()
  same(matrix.zeros(2, 3), { { 0, 0, 0 }, { 0, 0, 0 } })
  same(matrix.zeros(2), { { 0 }, { 0 } }, "zeros(n) is a column")
  same(matrix.ones(1, 2), { { 1, 1 } })
  same(matrix.fill(2, 2, 0.5), { { 0.5, 0.5 }, { 0.5, 0.5 } })
  same(matrix.eye(3), { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } })
  same(matrix.eye(2, 3), { { 1, 0, 0 }, { 0, 1, 0 } })
  same(matrix.zeros(2.0, 1), { { 0 }, { 0 } }, "2.0 is an integer")
  T.eq(select(2, matrix.zeros(0, 5):shape()), 5)
end)

T.test("sizes: floats, NaN, negatives, huge and non-numbers are clean errors", function()
  T.checkerror("bad argument #1 to 'zeros' (rows must be a non-negative integer, got 1.5)", function() return matrix.zeros(1.5, 2) end)
  T.checkerror("(cols must be a non-negative integer, got nan)", function() return matrix.zeros(2, 0 / 0) end)
  T.checkerror("(rows must be a non-negative integer, got -1)", function() return matrix.ones(-1, 2) end)
  T.checkerror("(cols must be a non-negative integer, got inf)", function() return matrix.zeros(2, math.huge) end)
  T.checkerror("(rows 2147483648 is too large)", function() return matrix.zeros(2 ^ 31, 1) end)
  T.checkerror("number expected, got string", function() return matrix.zeros("a") end)
  T.checkerror("number expected, got no value", function() return matrix.fill(2, 2) end)
  T.checkerror("more than this machine's", function() return matrix.zeros(1e6, 1e6) end)
  T.checkerror("more than this machine's", function() return matrix.rand(2 ^ 30 - 1, 2 ^ 30 - 1) end)
end)

T.test("rand and randn: seeded, in range, the right moments", function()
  local a, b = matrix.rand(50, 40, { seed = 3 }), matrix.rand(50, 40, { seed = 3 })
  T.truthy(a == b, "same seed, same matrix")
  T.truthy(a ~= matrix.rand(50, 40, { seed = 4 }), "another seed differs")
  T.truthy(a:min() >= 0 and a:max() < 1, "uniform in [0, 1)")
  -- mean of 2000 U(0,1): sd 0.29/sqrt(2000) = 0.0065, so 0.03 is > 4 sd
  T.near(a:mean(), 0.5, 0.03, "uniform mean")
  local r = matrix.rand(100, 1, { seed = 1, min = -2, max = -1 })
  T.truthy(r:min() >= -2 and r:max() < -1, "min/max options")
  local n = matrix.randn(100, 100, { seed = 7 })
  T.near(n:mean(), 0, 0.05, "normal mean")          -- sd of the mean is 0.01
  T.near((n:apply("square")):mean(), 1, 0.06, "normal variance")
  local s = matrix.randn(200, 50, { seed = 2, mean = 5, std = 0.1 })
  T.near(s:mean(), 5, 0.01, "mean option")
  T.eq(select(2, matrix.randn(3, { seed = 1 }):shape()), 1, "randn(n, opts) is a column")
  matrix.seed(11); local x = matrix.rand(3, 3)
  matrix.seed(11); T.truthy(x == matrix.rand(3, 3), "matrix.seed resets the shared generator")
  T.truthy(x ~= matrix.rand(3, 3), "the shared generator moves on")
  T.checkerror("matrix.rand: option 'seed' must be an integer, got 1.5", matrix.rand, 2, 2, { seed = 1.5 })
  T.checkerror("matrix.rand: options must be a table like {name = value}, got number", matrix.rand, 2, 2, 5)
  T.checkerror("matrix.randn: option 'std' must be a number, got string", matrix.randn, 2, 2, { std = "x" })
  T.checkerror("matrix.rand: option 'max' must be a number, got boolean", matrix.rand, 2, { max = true })
end)

T.test("unknown options of rand and randn name the function and the valid names", function()
  T.checkerror("matrix.randn: unknown option 'sead' (did you mean 'seed'? expected one of mean, std, seed)",
               matrix.randn, 2, 2, { sead = 1 })
  T.checkerror("matrix.rand: unknown option 'sead' (did you mean 'seed'? expected one of min, max, seed)",
               matrix.rand, 2, 2, { sead = 1 })
  T.checkerror("matrix.rand: unknown option 'std' (expected one of min, max, seed)",
               matrix.rand, 2, { std = 1 })
  T.checkerror("matrix.randn: unknown option '[1]' (expected one of mean, std, seed)",
               matrix.randn, 2, 2, { 5 })
end)

T.test("range like a numeric for, as a column", function()
  same(matrix.range(1, 4), { { 1 }, { 2 }, { 3 }, { 4 } })
  same(matrix.range(3, 1, -1), { { 3 }, { 2 }, { 1 } })
  local r = matrix.range(0, 1, 0.1)
  T.eq(r:rows(), 11, "0..1 by 0.1 includes 1")
  T.near(r:get(11, 1), 1, 1e-7)
  T.eq(matrix.range(2, 1):rows(), 0, "empty")
  T.checkerror("step must not be zero", matrix.range, 1, 2, 0)
  T.checkerror("start must be a finite number", matrix.range, 0 / 0, 2)
end)

T.test("shape, rows, cols, #", function()
  local m = matrix.zeros(3, 4)
  local r, c = m:shape()
  T.eq(r, 3); T.eq(c, 4)
  T.eq(m:rows(), 3); T.eq(m:cols(), 4); T.eq(#m, 3)
end)

T.test("m[i][j] read and write, get and set", function()
  local m = matrix{ { 1, 2 }, { 3, 4 } }
  T.eq(m[2][1], 3)
  m[1][2] = 20
  T.eq(m:get(1, 2), 20)
  T.eq(m:set(2, 2, 40), m, "set returns the matrix")
  T.eq(m[2][2], 40)
  T.eq(m[2.0][1.0], 3, "integral floats are indices")
  m[1] = 7                                   -- a number fills the row
  same(m, { { 7, 7 }, { 3, 40 } })
  m[1] = { 5, 6 }
  same(m, { { 5, 6 }, { 3, 40 } })
  m[2] = matrix{ 8, 9 }                      -- a vector of the right length
  same(m, { { 5, 6 }, { 8, 9 } })
  local v = matrix{ 1, 2, 3 }
  T.eq(v[3], 3, "a column vector indexes its elements")
  v[2] = 20; T.eq(v:get(2, 1), 20, "and sets them")
  local r = matrix{ { 10, 20, 30 } }
  T.eq(r[2], 20, "so does a row vector"); T.eq(#r, 3, "#v is its length")
end)

T.test("index errors", function()
  local m = matrix.zeros(3, 2)
  T.checkerror("index 5 out of range 1..3 (rows)", function() return m[5] end)
  T.checkerror("index 0 out of range 1..3 (rows)", function() return m[0][1] end)
  T.checkerror("index 4 out of range 1..2 (elements)", function() return m[1][4] end)
  T.eq(m[1][3], nil, "one past the end is nil, as in a Lua sequence (ipairs stops there)")
  T.eq(m[4], nil, "one row past the end is nil too")
  T.checkerror("index 3 out of range 1..2 (elements)", function() m[1][3] = 1 end)
  T.checkerror("index 1.5 is not an integer", function() return m[1.5] end)
  T.checkerror("index nan is not an integer", function() return m[0 / 0] end)
  T.checkerror("bad argument #1 to 'get' (index 4 out of range 1..3 (rows))", function() return m:get(4, 1) end)
  T.checkerror("bad argument #2 to 'set' (index 9 out of range 1..2 (cols))", function() return m:set(1, 9, 0) end)
  T.checkerror("bad argument #3 to 'set' (number expected, got string)", function() return m:set(1, 1, "x") end)
  T.checkerror("cannot store a string in a matrix", function() m[1][1] = "x" end)
  T.checkerror("cannot set field 'foo' of a matrix", function() m.foo = 1 end)
  T.checkerror("cannot assign a table of 3 to row 1 of a 3x2 matrix", function() m[1] = { 1, 2, 3 } end)
  T.checkerror("element 2 is a string", function() m[1] = { 1, "x" } end)
  T.eq(m[1][1], 0, "a bad row assignment changes nothing")
  T.checkerror("cannot assign a 2x2 matrix to row 1", function() m[1] = matrix.zeros(2, 2) end)
  T.checkerror("cannot assign a boolean to a matrix row", function() m[1] = true end)
  T.eq(m.nosuchmethod, nil, "unknown names are nil, like a table")
end)

T.test("views write through: row, col, slice, m[i], reshape", function()
  local m = matrix{ { 1, 2, 3 }, { 4, 5, 6 }, { 7, 8, 9 } }
  local r, c, s = m:row(2), m:col(3), m:slice(2, 3, 1, 2)
  same(r, { { 4, 5, 6 } }, "row")
  same(c, { { 3 }, { 6 }, { 9 } }, "col")
  same(s, { { 4, 5 }, { 7, 8 } }, "slice")
  same(m:slice(3, 3), { { 7, 8, 9 } }, "slice of whole rows")
  r[1] = 40; T.eq(m[2][1], 40, "row view writes through")
  c:set(1, 1, 30); T.eq(m[1][3], 30, "col view writes through")
  s:fill_(0); T.eq(m[3][2], 0, "slice writes through")
  m[1]:scale_(10); T.eq(m[1][2], 20, "m[i] is a view too")
  local flat = m:reshape(1, 9)
  flat:set(1, 9, 99); T.eq(m[3][3], 99, "reshape shares memory")
  same(m:reshape(9, -1):slice(1, 2), { { 10 }, { 20 } }, "-1 is inferred")
  m:row(1):add_(1); T.eq(m[1][1], 11, "in-place on a view")
end)

T.test("view errors", function()
  local m = matrix.zeros(3, 4)
  T.checkerror("reshape: cannot reshape 3x4 (12 elements) to 5x2", m.reshape, m, 5, 2)
  T.checkerror("reshape: this 3x2 view is not contiguous (its rows are 4 elements apart); reshape m:copy() instead",
               function() return m:slice(1, 3, 1, 2):reshape(6, 1) end)
  T.checkerror("only one size may be -1", m.reshape, m, -1, -1)
  T.checkerror("last row 1 is before first row 2", m.slice, m, 2, 1)
  T.checkerror("index 5 out of range 1..4 (cols)", function() return m:slice(1, 2, 1, 5) end)
  T.checkerror("bad argument #1 to 'row' (index 4 out of range 1..3 (rows))", function() return m:row(4) end)
  T.checkerror("bad argument #1 to 'col' (index 0 out of range 1..4 (cols))", function() return m:col(0) end)
end)

T.test("a view keeps its parent alive", function()
  local v
  do
    local m = matrix.range(1, 6):reshape(2, 3)
    v = m:row(2):slice(1, 1, 2, 3)
  end
  for _ = 1, 3 do collectgarbage() end
  -- churn memory so a freed parent would be reused and overwritten
  for _ = 1, 50 do local _ = matrix.fill(2, 3, -1) end
  collectgarbage()
  same(v, { { 5, 6 } }, "view after the parent went out of scope")
  v[1] = 7
  T.eq(v[1], 7)
end)

T.test("copy is independent, T copies", function()
  local m = matrix{ { 1, 2 }, { 3, 4 } }
  local c, t = m:copy(), m:T()
  c:set(1, 1, 9); t:set(1, 2, 9)
  same(m, { { 1, 2 }, { 3, 4 } }, "original untouched")
  same(t, { { 1, 9 }, { 2, 4 } }, "T copied")
  same(matrix{ { 1, 2, 3 } }:T(), { { 1 }, { 2 }, { 3 } })
  same(m:col(2):copy(), { { 2 }, { 4 } }, "copy of a strided view")
end)

T.test("hcat and vcat", function()
  local a, b = matrix{ { 1 }, { 2 } }, matrix{ { 3, 4 }, { 5, 6 } }
  same(matrix.hcat(a, b), { { 1, 3, 4 }, { 2, 5, 6 } })
  same(matrix.vcat(b, matrix{ { 7, 8 } }), { { 3, 4 }, { 5, 6 }, { 7, 8 } })
  same(matrix.vcat{ b:row(1), b:row(2) }, { { 3, 4 }, { 5, 6 } }, "list form, views")
  T.checkerror("matrix.hcat: matrix 2 is 1x2, matrix 1 is 2x1 — row counts differ", matrix.hcat, a, matrix{ { 1, 2 } })
  T.checkerror("matrix.vcat: matrix 2 is 2x1, matrix 1 is 2x2 — column counts differ", matrix.vcat, b, a)
  T.checkerror("matrix.vcat: argument 2 is a number, matrix expected", matrix.vcat, b, 1)
end)

T.test("totable round-trips", function()
  local t = matrix{ { 1, 2 }, { 3, 4.5 } }:totable()
  T.eq(#t, 2); T.eq(t[2][2], 4.5)
  same(matrix(matrix{ 1, 2 }:totable()), { { 1 }, { 2 } }, "column survives")
end)

T.test("freed matrices: close, <close>; no __gc (the buffer is in the block)", function()
  local m = matrix.zeros(2, 2)
  local mt = getmetatable(m)
  T.eq(mt.__gc, nil, "no finalizer: dead matrices are freed in one cycle")
  T.eq(type(mt.__close), "function", "__close")
  T.eq(mt.__name, "matrix")
  T.eq(type(mt.__methods.hadamard), "function", "methods listed for help")
  local v = m:row(1)
  m:close()
  T.checkerror("attempt to use a freed matrix", m.sum, m)
  T.checkerror("attempt to use a freed matrix", function() return m[1] end)
  T.checkerror("attempt to use a freed matrix", function() return m + 1 end)
  T.checkerror("attempt to use a freed matrix", function() return matrix.hcat(m) end)
  T.checkerror("attempt to use a freed matrix", function() return matrix.from(m) end)
  T.eq(tostring(m), "[matrix, freed]")
  v:fill_(3); T.eq(v:sum(), 6, "a view outlives its closed parent safely")
  local w
  do
    local c <close> = matrix.ones(2, 2)
    w = c
  end
  T.checkerror("attempt to use a freed matrix", w.sum, w)
  m:close()                                     -- closing twice is harmless
end)

T.test("a non-matrix is refused with the type's name", function()
  local m = matrix.zeros(2, 2)
  T.checkerror("bad argument #1 to 'hadamard' (matrix expected, got number)", function() return m:hadamard(3) end)
  T.checkerror("matrix expected, got table", function() return m.shape({}) end)
end)

T.done()
