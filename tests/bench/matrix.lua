-- tests/bench/matrix.lua — what the matrix type costs at the prompt: the
-- Lua↔C boundary (a small add, one element read), the product through the
-- core GEMM, least squares, NPY save/load, printing and allocation. Prints one
-- line per case, "matrix CASE: VALUE UNIT"; tests/bench/matrix_peers.py times
-- NumPy doing the same and tests/bench/run.sh prints the ratios.
--   deltalab tests/bench/matrix.lua [--quick]
local quick = arg and arg[1] == "--quick"
local now = require("deltalab.sys").clock
local secs = quick and 0.05 or 0.5

-- Seconds per call of f, repeated for at least `seconds`.
local function timeit(f, seconds)
  f()
  local n, t0, t = 0, now(), 0
  repeat
    for _ = 1, 10 do f() end
    n = n + 10
    t = now()
  until t - t0 >= (seconds or secs)
  return (t - t0) / n
end

local a, b = matrix.rand(4, 4, { seed = 1 }), matrix.rand(4, 4, { seed = 2 })
print(("matrix add 4x4: %.3f us"):format(timeit(function() return a + b end) * 1e6))

local m = matrix.rand(100, 100, { seed = 3 })
local t = timeit(function()
  local s = 0
  for i = 1, 100 do local r = m[i] for j = 1, 100 do s = s + r[j] end end
  return s
end)
print(("matrix read m[i][j]: %.1f ns"):format(t / 1e4 * 1e9))
t = timeit(function()
  local s = 0
  for i = 1, 100 do for j = 1, 100 do s = s + m:get(i, j) end end
  return s
end)
print(("matrix read m:get(i,j): %.1f ns"):format(t / 1e4 * 1e9))

for _, s in ipairs{ { 256, 256, 256 }, { 1000, 784, 100 } } do
  local A, B = matrix.rand(s[1], s[2], { seed = 4 }), matrix.rand(s[2], s[3], { seed = 5 })
  t = timeit(function() return A * B end)
  print(("matrix product %dx%d*%dx%d: %.2f GFLOPS"):format(s[1], s[2], s[2], s[3], 2 * s[1] * s[2] * s[3] / t / 1e9))
end

local X, y = matrix.randn(2000, 50, { seed = 6 }), matrix.randn(2000, 1, { seed = 7 })
print(("matrix lstsq 2000x50: %.2f ms"):format(timeit(function() return matrix.lstsq(X, y) end) * 1e3))

local big = matrix.rand(10000, 784, { seed = 8 })
local path = os.tmpname()
print(("matrix save+load 10000x784: %.1f ms"):format(timeit(function()
  big:save(path)
  return matrix.load(path)
end) * 1e3))
os.remove(path)

local sq = matrix.rand(1000, 1000, { seed = 9 })
print(("matrix tostring 1000x1000: %.3f ms"):format(timeit(function() return tostring(sq) end) * 1e3))
print(("matrix zeros 1000x1000: %.3f ms"):format(timeit(function() return matrix.zeros(1000, 1000) end) * 1e3))
