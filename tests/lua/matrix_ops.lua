-- matrix arithmetic, element-wise functions, reductions and linear algebra,
-- compared with straightforward Lua loops on random inputs. Run by run.sh with
-- the default kernels and by tests/e2e/matrix_scalar.sh with DELTALAB_ISA=scalar.
--
-- Tolerances: elements are fp32, so one rounding is a relative 6e-8; the Lua
-- references work in double on the same fp32 inputs. Element-wise results are
-- checked to 1e-6 relative; a product or sum over K terms of size ~1 to
-- K·1e-6 absolute (fp32 accumulation in the AVX2 GEMM); activations to 1e-6
-- (the vectorised exp/tanh are documented to a few ulp).
local T = require "check"

math.randomseed(42)
local rng = 12345
local function rnd()               -- a small LCG so the test needs no matrix.rand
  rng = (rng * 1103515245 + 12345) % 2147483648
  return rng / 2147483648 * 4 - 2
end

local function rmat(r, c)
  local t = {}
  for i = 1, r do
    t[i] = {}
    for j = 1, c do t[i][j] = rnd() end
  end
  return matrix(t)
end

-- A matrix's elements as a Lua table, and an element-wise comparison.
local function tab(m) return m:totable() end

local function close(m, ref, tol, what)
  local r, c = m:shape()
  T.eq(r, #ref, (what or "") .. " rows")
  T.eq(c, #ref[1] or 0, (what or "") .. " cols")
  for i = 1, r do
    for j = 1, c do
      local want = ref[i][j]
      local t = tol * math.max(1, math.abs(want))
      if want ~= want then
        T.truthy(m:get(i, j) ~= m:get(i, j), ("%s(%d,%d) is NaN"):format(what or "m", i, j))
      else
        T.near(m:get(i, j), want, t, ("%s(%d,%d)"):format(what or "m", i, j))
      end
    end
  end
end

local function elementwise(a, b, f)
  local ta, tb, out = tab(a), b and tab(b), {}
  for i = 1, #ta do
    out[i] = {}
    for j = 1, #ta[1] do out[i][j] = f(ta[i][j], tb and tb[i][j], i, j) end
  end
  return out
end

T.test("scalars on either side of + - * /, unary minus", function()
  for _ = 1, 5 do
    local a = rmat(math.random(1, 9), math.random(1, 9))
    local s = rnd()
    close(a + s, elementwise(a, nil, function(x) return x + s end), 1e-6, "m+s")
    close(s + a, elementwise(a, nil, function(x) return s + x end), 1e-6, "s+m")
    close(a - s, elementwise(a, nil, function(x) return x - s end), 1e-6, "m-s")
    close(s - a, elementwise(a, nil, function(x) return s - x end), 1e-6, "s-m")
    close(a * s, elementwise(a, nil, function(x) return x * s end), 1e-6, "m*s")
    close(s * a, elementwise(a, nil, function(x) return s * x end), 1e-6, "s*m")
    close(a / s, elementwise(a, nil, function(x) return x / s end), 1e-6, "m/s")
    close(s / a, elementwise(a, nil, function(x) return s / x end), 1e-6, "s/m")
    close(-a, elementwise(a, nil, function(x) return -x end), 0, "-m")
  end
  T.checkerror("matrix +: expected a matrix or a number, got string", function() return matrix.zeros(1, 1) + "1" end)
  T.checkerror("matrix *: expected a matrix or a number, got table", function() return {} * matrix.zeros(1, 1) end)
end)

T.test("+ and - between equal shapes, on views too", function()
  local a, b = rmat(6, 7), rmat(6, 7)
  close(a + b, elementwise(a, b, function(x, y) return x + y end), 1e-6, "a+b")
  close(a - b, elementwise(a, b, function(x, y) return x - y end), 1e-6, "a-b")
  local s1, s2 = a:slice(2, 4, 3, 6), b:slice(1, 3, 1, 4)
  close(s1 + s2, elementwise(s1, s2, function(x, y) return x + y end), 1e-6, "views")
end)

T.test("broadcasting: a row or a column vector across, either side", function()
  local A, r, c = rmat(4, 3), rmat(1, 3), rmat(4, 1)
  local tr, tc = tab(r), tab(c)
  close(A + r, elementwise(A, nil, function(x, _, _, j) return x + tr[1][j] end), 1e-6, "A+row")
  close(r + A, elementwise(A, nil, function(x, _, _, j) return tr[1][j] + x end), 1e-6, "row+A")
  close(A - r, elementwise(A, nil, function(x, _, _, j) return x - tr[1][j] end), 1e-6, "A-row")
  close(r - A, elementwise(A, nil, function(x, _, _, j) return tr[1][j] - x end), 1e-6, "row-A")
  close(A + c, elementwise(A, nil, function(x, _, i) return x + tc[i][1] end), 1e-6, "A+col")
  close(c - A, elementwise(A, nil, function(x, _, i) return tc[i][1] - x end), 1e-6, "col-A")
  close(A - A:row(2), elementwise(A, nil, function(x, _, _, j) return x - tab(A)[2][j] end), 1e-6, "A-own row")
  -- nothing else is implicit
  T.checkerror("matrix +: 4x3 plus 3x4 — shapes differ (only equal shapes, or a 1x3 row or 4x1 column across a 4x3, combine)",
               function() return A + A:T() end)
  T.checkerror("matrix -: 3x1 minus 1x3 — shapes differ", function() return matrix.zeros(3, 1) - matrix.zeros(1, 3) end)
  T.checkerror("matrix +: 1x1 plus 2x2 — shapes differ", function() return matrix.zeros(1, 1) + matrix.zeros(2, 2) end)
  T.checkerror("matrix +: 4x3 plus 1x2", function() return A + matrix.zeros(1, 2) end)
end)

T.test("* is the matrix product (vs a triple loop), on views and vectors", function()
  for _ = 1, 12 do
    local m, k, n = math.random(1, 20), math.random(1, 40), math.random(1, 20)
    local a, b = rmat(m, k), rmat(k, n)
    local ta, tb, ref = tab(a), tab(b), {}
    for i = 1, m do
      ref[i] = {}
      for j = 1, n do
        local s = 0
        for p = 1, k do s = s + ta[i][p] * tb[p][j] end
        ref[i][j] = s
      end
    end
    close(a * b, ref, k * 1e-6, ("%dx%d * %dx%d"):format(m, k, k, n))
  end
  local big = rmat(5, 6)
  local v = big:slice(2, 4, 2, 5)           -- a strided 3x4 view
  local w = rmat(4, 2)
  close(v * w, tab(v:copy() * w), 1e-6, "view operand")
  local x = matrix{ 1, 2 }
  close(matrix{ { 1, 2 }, { 3, 4 } } * x, { { 5 }, { 11 } }, 0, "matrix times vector")
  T.checkerror("matrix *: 3x4 times 5x2 — inner sizes 4 and 5 differ", function() return matrix.zeros(3, 4) * matrix.zeros(5, 2) end)
  T.checkerror("matrix /: cannot divide 2x2 by 2x2 — use a:ediv(b) for element-wise division or matrix.solve(A, b)",
               function() return matrix.eye(2) / matrix.eye(2) end)
end)

T.test("hadamard, emul, ediv", function()
  local a, b = rmat(3, 5), rmat(3, 5)
  close(a:hadamard(b), elementwise(a, b, function(x, y) return x * y end), 1e-6, "hadamard")
  close(a:emul(b), elementwise(a, b, function(x, y) return x * y end), 1e-6, "emul")
  close(a:ediv(b), elementwise(a, b, function(x, y) return x / y end), 1e-6, "ediv")
  T.checkerror("hadamard: 3x5 and 5x3 differ in shape", a.hadamard, a, b:T())
  T.checkerror("ediv: 3x5 and 1x5 differ in shape", a.ediv, a, b:row(1))
  T.checkerror("bad argument #1 to 'hadamard' (matrix expected, got number)", function() return a:hadamard(2) end)
  T.checkerror("bad argument #1 to 'emul' (matrix expected, got no value)", function() return a:emul() end)
end)

T.test("in place: add_, scale_, fill_, axpy_", function()
  local a, b = rmat(3, 4), rmat(3, 4)
  local ref = elementwise(a, b, function(x, y) return x + y end)
  T.eq(a:add_(b), a, "add_ returns self")
  close(a, ref, 1e-6, "add_")
  local ta = tab(a)
  a:add_(2); close(a, elementwise(a, nil, function(_, _, i, j) return ta[i][j] + 2 end), 1e-6, "add_ number")
  local row = tab(a)[1]
  ta = tab(a)
  a:add_(a:row(1))                           -- row 1 is used as it was before
  close(a, elementwise(a, nil, function(_, _, i, j) return ta[i][j] + row[j] end), 1e-6, "add_ own row")
  ta = tab(a)
  T.eq(a:scale_(-0.5), a); close(a, elementwise(a, nil, function(_, _, i, j) return -0.5 * ta[i][j] end), 1e-6, "scale_")
  T.eq(a:fill_(3), a); T.eq(a:sum(), 36, "fill_")
  ta = tab(a)
  T.eq(a:axpy_(2, b), a); close(a, elementwise(a, b, function(_, y, i, j) return ta[i][j] + 2 * y end), 1e-6, "axpy_")
  local m = matrix{ { 1, 2 }, { 3, 4 } }
  m:axpy_(1, m)                              -- x is y: doubles
  close(m, { { 2, 4 }, { 6, 8 } }, 0, "axpy_ onto itself")
  T.checkerror("add_: cannot add 2x2 into 3x4 (equal shapes, a 1x4 row or a 3x1 column)", a.add_, a, m)
  T.checkerror("axpy_: 3x4 and 2x2 differ in shape", a.axpy_, a, 1, m)
  T.checkerror("bad argument #1 to 'scale_' (number expected, got string)", function() return a:scale_("x") end)
  T.checkerror("bad argument #1 to 'add_' (matrix or number expected, got boolean)", function() return a:add_(true) end)
end)

local function sigmoid(x) return 1 / (1 + math.exp(-x)) end
local functions = {
  linear = function(x) return x end,
  sigmoid = sigmoid,
  tanh = function(x) return (math.exp(x) - math.exp(-x)) / (math.exp(x) + math.exp(-x)) end,
  relu = function(x) return x > 0 and x or 0 end,
  leaky_relu = function(x) return x > 0 and x or 0.01 * x end,
  softplus = function(x) return math.log(1 + math.exp(x)) end,
  step = function(x) return x > 0 and 1 or 0 end,
  exp = math.exp,
  abs = math.abs,
  square = function(x) return x * x end,
  dlinear = function() return 1 end,
  dsigmoid = function(x) return sigmoid(x) * (1 - sigmoid(x)) end,
  dtanh = function(x) local t = math.tanh and math.tanh(x) or (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1); return 1 - t * t end,
  drelu = function(x) return x > 0 and 1 or 0 end,
  dleaky_relu = function(x) return x > 0 and 1 or 0.01 end,
  dsoftplus = sigmoid,
  dstep = function() return 0 end,
}

T.test("apply: every function and derivative vs its formula", function()
  local a = rmat(7, 9) * 3
  for name, f in pairs(functions) do
    close(a:apply(name), elementwise(a, nil, function(x) return f(x) end), 2e-6, name)
  end
  local p = a:apply("abs") + 0.1
  close(p:apply("log"), elementwise(p, nil, function(x) return math.log(x) end), 2e-6, "log")
  close(p:apply("sqrt"), elementwise(p, nil, function(x) return math.sqrt(x) end), 1e-6, "sqrt")
  close(a:apply("softmax"), tab(a:softmax{ dim = 2 }), 0, "apply softmax is row softmax")
  local v = matrix{ 1, 2, 3 }
  close(v:apply("softmax"), tab(v:softmax()), 0, "and down a column vector, as softmax()")
  T.checkerror("matrix:apply: invalid function 'sigmod' (did you mean 'sigmoid'? expected one of linear, sigmoid,",
               function() return a:apply("sigmod") end)
  T.checkerror("bad argument #1 to 'apply' (string expected, got no value)", function() return a:apply() end)
end)

T.test("derivatives agree with central differences", function()
  local z = rmat(4, 5) * 2
  for _, name in ipairs{ "sigmoid", "tanh", "softplus" } do
    -- h = 1e-2 in fp32: truncation error h²·f'''/6 ≈ 2e-5, rounding 6e-8/h ≈ 6e-6
    local h = 1e-2
    local fd = (z + h):apply(name) - (z - h):apply(name)
    close(z:apply("d" .. name), tab(fd / (2 * h)), 1e-4, "d" .. name)
  end
end)

T.test("softmax: rows, columns, temperature", function()
  local a = rmat(3, 4)
  local s = a:softmax()
  local ta = tab(a)
  for i = 1, 3 do
    local z = 0
    for j = 1, 4 do z = z + math.exp(ta[i][j]) end
    for j = 1, 4 do T.near(s:get(i, j), math.exp(ta[i][j]) / z, 1e-6, "softmax") end
  end
  close(s:sum{ dim = 2 }, { { 1 }, { 1 }, { 1 } }, 1e-6, "rows sum to 1")
  close(a:softmax{ dim = 1 }:sum(1), { { 1, 1, 1, 1 } }, 1e-6, "columns sum to 1")
  local v = matrix{ 1, 2, 3 }
  close(v:softmax():sum(1), { { 1 } }, 1e-6, "a column vector normalises down the column")
  T.near(v:softmax():get(3, 1), math.exp(3) / (math.exp(1) + math.exp(2) + math.exp(3)), 1e-6)
  -- temperature c multiplies: c -> infinity approaches argmax (E9)
  local hot = v:softmax{ temperature = 100 }
  close(hot, { { 0 }, { 0 }, { 1 } }, 1e-6, "c = 100 is one-hot")
  close(v:softmax{ temperature = 0 }, { { 1 / 3 }, { 1 / 3 }, { 1 / 3 } }, 1e-6, "c = 0 is uniform")
  T.checkerror("matrix:softmax: option 'dim' must be an integer from 1 to 2, got 3", function() return v:softmax{ dim = 3 } end)
  T.checkerror("matrix:softmax: option 'dim' must be an integer, got 1.5", v.softmax, v, { dim = 1.5 })
  T.checkerror("matrix:softmax: options must be a table like {name = value}, got number", v.softmax, v, 2)
  T.checkerror("matrix:softmax: option 'temperature' must be a number, got string", v.softmax, v, { temperature = "hot" })
  T.checkerror("matrix:softmax: unknown option 'temprature' (did you mean 'temperature'? expected one of temperature, dim)",
               v.softmax, v, { temprature = 2 })
end)

T.test("map(function(x, i, j))", function()
  local a = rmat(3, 4)
  close(a:map(function(x, i, j) return x * i + j end), elementwise(a, nil, function(x, _, i, j) return x * i + j end), 1e-6, "map")
  T.checkerror("map: the function returned nil for element (1, 1), a number is needed", a.map, a, function() end)
  T.checkerror("bad argument #1 to 'map' (function expected, got number)", function() return a:map(1) end)
  T.checkerror("boom", a.map, a, function() error("boom") end)
end)

T.test("reductions of all elements and along a dimension", function()
  for _ = 1, 6 do
    local r, c = math.random(1, 12), math.random(1, 12)
    local a = rmat(r, c)
    local t = tab(a)
    local sum, sq, mx, mn, at, atmin = 0, 0, -math.huge, math.huge, nil, nil
    local colsum, rowmax, colarg = {}, {}, {}
    for j = 1, c do colsum[j] = 0 end
    for i = 1, r do
      rowmax[i] = -math.huge
      for j = 1, c do
        local x = t[i][j]
        sum, sq = sum + x, sq + x * x
        if x > mx then mx, at = x, { i, j } end
        if x < mn then mn, atmin = x, { i, j } end
        colsum[j] = colsum[j] + x
        rowmax[i] = math.max(rowmax[i], x)
      end
    end
    for j = 1, c do
      local best = 1
      for i = 2, r do if t[i][j] > t[best][j] then best = i end end
      colarg[j] = best
    end
    T.near(a:sum(), sum, 1e-9 * r * c + 1e-12, "sum")
    T.near(a:mean(), sum / (r * c), 1e-9, "mean")
    T.near(a:norm(), math.sqrt(sq), 1e-6, "norm")
    T.eq(a:max(), mx, "max")
    T.eq(a:min(), mn, "min")
    if r > 1 and c > 1 then
      local i, j = a:argmax()
      T.eq(i, at[1], "argmax i"); T.eq(j, at[2], "argmax j")
      i, j = a:argmin()
      T.eq(i, atmin[1], "argmin i"); T.eq(j, atmin[2], "argmin j")
    end
    close(a:sum{ dim = 1 }, { colsum }, 1e-6, "sum dim 1")
    close(a:sum(1), { colsum }, 1e-6, "sum(1)")
    local rm = {}
    for i = 1, r do rm[i] = { rowmax[i] } end
    close(a:max{ dim = 2 }, rm, 0, "max dim 2")
    close(a:argmax{ dim = 1 }, { colarg }, 0, "argmax dim 1")
    local cm = {}
    for j = 1, c do cm[j] = colsum[j] / r end
    close(a:mean(1), { cm }, 1e-6, "mean dim 1")
  end
  local v = matrix{ 3, 9, 2 }
  T.eq(v:argmax(), 2, "a vector's argmax is one position")
  T.eq(matrix{ { 3, 1, 2 } }:argmin(), 2, "row vector too")
  close(matrix{ { 3, 4 }, { 0, 1 } }:norm(2), { { 5 }, { 1 } }, 1e-7, "row norms")
  close(matrix{ { 1, 2 }, { 3, 4 } }:min(1), { { 1, 2 } }, 0, "min dim 1")
  close(matrix{ { 1, 2 }, { 3, 4 } }:argmin(2), { { 1 }, { 1 } }, 0, "argmin dim 2")
  T.eq(matrix.zeros(0, 3):sum(), 0, "empty sum")
  T.checkerror("max: the matrix is empty (0x3)", function() return matrix.zeros(0, 3):max() end)
  T.checkerror("argmax: the matrix is empty (2x0)", function() return matrix.zeros(2, 0):argmax(2) end)
  T.checkerror("bad argument #1 to 'sum' (dim must be 1 or 2, got 3)", function() return v:sum(3) end)
  T.checkerror("matrix:mean: option 'dim' must be an integer, got 0.5", function() return v:mean{ dim = 0.5 } end)
  T.checkerror("matrix:sum: option 'dim' must be an integer from 1 to 2, got 3", function() return v:sum{ dim = 3 } end)
  T.checkerror("matrix:sum: unknown option 'dimm' (did you mean 'dim'? expected dim)", function() return v:sum{ dimm = 1 } end)
  T.checkerror("matrix:argmax: unknown option 'axis' (expected dim)", function() return v:argmax{ axis = 1 } end)
  T.checkerror("matrix:norm: unknown option 'dims' (did you mean 'dim'? expected dim)", function() return v:norm{ dims = 1 } end)
  T.checkerror("dim (1 or 2) or {dim = 1|2} expected, got string", function() return v:norm("x") end)
  local nan = matrix{ 0 / 0, 1, 0 / 0 }
  T.eq(nan:max(), 1, "NaN is skipped by max")
  T.eq(nan:argmax(), 2)
end)

T.test("dot, allclose, ==", function()
  local a, b = rmat(4, 3), rmat(4, 3)
  local s = 0
  local ta, tb = tab(a), tab(b)
  for i = 1, 4 do for j = 1, 3 do s = s + ta[i][j] * tb[i][j] end end
  T.near(a:dot(b), s, 1e-6, "dot")
  T.eq(matrix{ 1, 2, 3 }:dot(matrix{ { 4, 5, 6 } }), 32, "column · row of one length")
  T.eq(matrix{ { 1, 2, 3 } }:dot(matrix{ 4, 5, 6 }), 32, "row · column")
  T.checkerror("dot: 4x3 and 3x4 differ in shape", a.dot, a, b:T())
  T.truthy(matrix.allclose(a, a + 1e-9), "allclose")
  T.truthy(not matrix.allclose(a, a + 1e-3), "not close")
  T.truthy(matrix.allclose(a, a + 1e-3, 0, 2e-3), "atol")
  T.truthy(matrix.allclose(matrix{ 100 }, matrix{ 100.5 }, 1e-2), "rtol")
  T.checkerror("matrix.allclose: 4x3 and 3x4 differ in shape", matrix.allclose, a, b:T())
  T.truthy(a == a:copy(), "==")
  T.truthy(a ~= b, "~=")
  T.truthy(matrix{ 1, 2 } ~= matrix{ { 1, 2 } }, "shapes differ")
  T.truthy(matrix{ 0 / 0 } ~= matrix{ 0 / 0 }, "NaN is unequal")
  T.truthy(a ~= 1, "a matrix is never a number")
end)

T.test("solve, inv, lstsq vs hand-worked answers and a Lua check", function()
  local A = matrix{ { 2, 1, 1 }, { 1, 3, 2 }, { 1, 0, 0 } }
  local x = matrix{ 1, -2, 3 }
  local b = A * x
  close(matrix.solve(A, b), tab(x), 1e-5, "solve")
  local B = matrix.hcat(b, 2 * b)
  close(matrix.solve(A, B), tab(matrix.hcat(x, 2 * x)), 1e-5, "several right-hand sides")
  close(A * A:inv(), tab(matrix.eye(3)), 1e-5, "A·A⁻¹ = I")
  close(matrix{ { 2, 1 }, { 1, 3 } }:inv(), { { 0.6, -0.2 }, { -0.2, 0.4 } }, 1e-6, "2x2 inverse")
  -- least squares: a line through (1,1), (2,2), (3,3.1): slope 1.05, intercept -1/15
  local X = matrix{ { 1, 1 }, { 1, 2 }, { 1, 3 } }
  close(matrix.lstsq(X, matrix{ 1, 2, 3.1 }), { { -1 / 15 }, { 1.05 } }, 1e-6, "lstsq")
  -- random tall system: the residual is orthogonal to the columns (normal equations)
  local M, y = rmat(30, 4), rmat(30, 1)
  local r = M * matrix.lstsq(M, y) - y
  close(M:T() * r, { { 0 }, { 0 }, { 0 }, { 0 } }, 1e-4, "Xᵀ(Xw − y) = 0")
  close(matrix.lstsq(matrix{ { 1, 1 } }, matrix{ 2 }), { { 1 }, { 1 } }, 1e-6, "minimum-norm")
  T.eq(select(2, matrix.lstsq(matrix.zeros(3, 0), matrix.zeros(3, 2)):shape()), 2, "no unknowns: 0x2")
  T.checkerror("matrix.lstsq: A (0x2) does not have full rank", matrix.lstsq, matrix.zeros(0, 2), matrix.zeros(0, 1))
  T.checkerror("matrix.solve: A (2x2) is singular", matrix.solve, matrix{ { 1, 2 }, { 2, 4 } }, matrix{ 1, 1 })
  T.checkerror("matrix.solve: A is 2x3, not square (use matrix.lstsq)", matrix.solve, matrix.zeros(2, 3), matrix{ 1, 1 })
  T.checkerror("matrix.solve: A is 3x3 but b has 2 rows", matrix.solve, A, matrix{ 1, 1 })
  T.checkerror("matrix.lstsq: A (3x2) does not have full rank", matrix.lstsq, matrix{ { 1, 2 }, { 2, 4 }, { 3, 6 } }, matrix{ 1, 2, 3 })
  T.checkerror("matrix.lstsq: A is 3x2 but b has 2 rows", matrix.lstsq, X, matrix{ 1, 2 })
  T.checkerror("inv: 2x3 is not square", function() return matrix.zeros(2, 3):inv() end)
  T.checkerror("inv: the 2x2 matrix is singular", function() return matrix.zeros(2, 2):inv() end)
  T.checkerror("bad argument #2 to 'solve' (matrix expected, got number)", function() return matrix.solve(A, 1) end)
end)

T.test("empty matrices go through every operation", function()
  local e = matrix.zeros(2, 0)
  T.eq(select(2, (e * matrix.zeros(0, 3)):shape()), 3, "2x0 * 0x3")
  T.eq((e * matrix.zeros(0, 3)):sum(), 0, "is zeros")
  T.eq(select(1, (matrix.zeros(0, 3) * matrix.zeros(3, 2)):shape()), 0, "0x3 * 3x2")
  for _, r in ipairs{ e:softmax(), e:apply("sigmoid"), e:apply("dtanh"), e:T():T(), e:copy(), e + e, e:hadamard(e),
                      e:map(function(x) return x end) } do
    T.eq(select(2, r:shape()), 0, "stays 2x0")
  end
  T.eq(e:norm(), 0); T.eq(e:dot(e), 0); T.truthy(e == e); T.truthy(matrix.allclose(e, e))
  T.truthy(matrix.zeros(2, 1) == e:sum(2), "row sums of nothing are 0")
  T.eq(select(1, matrix.zeros(0, 0):inv():shape()), 0)
  T.eq(select(2, matrix.solve(matrix.zeros(0, 0), matrix.zeros(0, 2)):shape()), 2)
end)

T.test("the AVX2 and scalar kernels agree on every matrix operation", function()
  if not (deltalab and deltalab.use) or not pcall(deltalab.use, "avx2") then
    return T.skip("AVX2 vs scalar", "only one ISA on this machine")
  end
  local A, B, r, c = rmat(37, 29) * 3, rmat(29, 41), rmat(1, 29), rmat(37, 1)
  local function battery()
    local out = {
      A * B, A:T() * A, A + r, c - A, A:hadamard(A), A:ediv(A + 7), 2 / (A + 7),
      A:softmax(), A:softmax{ dim = 1, temperature = 3 }, A:sum(1), A:norm(2),
      A:apply("abs"):apply("log"), A:apply("exp"),
    }
    for _, name in ipairs{ "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "step",
                           "dsigmoid", "dtanh", "drelu", "dsoftplus" } do
      out[#out + 1] = A:apply(name)
    end
    out[#out + 1] = matrix{ A:sum(), A:mean(), A:dot(A), A:max(), A:min() }
    return out
  end
  local was = deltalab.isa
  deltalab.use("scalar")
  local ref = battery()
  deltalab.use("avx2")
  local fast = battery()
  deltalab.use(was)
  for k = 1, #ref do
    -- GEMM over K = 37 terms of size ~3: fp32 accumulation differs by ~K·ulp
    T.truthy(matrix.allclose(fast[k], ref[k], 1e-5, 1e-5), "result " .. k .. " agrees")
  end
end)

T.done()
