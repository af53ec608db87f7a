-- tests/bench/step.lua — how long one net:step(x, y) takes when called from
-- Lua: 784-30-10 and 784-100-10 at batch 1 (per-sample SGD, the book's
-- setting), and samples/s at batch 32 for 784-3136-1568-10 (experiment E2).
-- Prints one line per case; tests/bench/step_peers.py times PyTorch and NumPy
-- doing the same, and tests/bench/run.sh prints the ratios.
--   deltalab tests/bench/step.lua [--quick]
local quick = arg and arg[1] == "--quick"
local now = require("deltalab.sys").clock

local function bench(sizes, acts, cost, B, seconds)
  local spec = { sizes[1] }
  for i = 2, #sizes do spec[i] = { sizes[i], acts[i - 1] } end
  spec.cost, spec.init, spec.seed = cost, "scaled", 1
  local net = network(spec)
  local X = matrix.zeros(B, sizes[1])
  for i = 1, B do for j = 1, sizes[1], 7 do X:set(i, j, ((i * j) % 17) / 17) end end
  local labels = {}
  for i = 1, B do labels[i] = (i * 3) % sizes[#sizes] end
  local Y = B == 1 and labels[1] or labels
  local opts = { lr = 0.01 }
  for _ = 1, 3 do net:step(X, Y, opts) end          -- warm up, size the workspace
  -- Best of 5 rounds (the one least disturbed by other processes; the peers
  -- are timed the same way): wall and CPU time per step.
  local best_wall, best_cpu = math.huge, math.huge
  for _ = 1, 5 do
    local n, t0, c0 = 0, now(), os.clock()
    local t = t0
    repeat
      for _ = 1, 20 do net:step(X, Y, opts) end
      n = n + 20
      t = now()
    until t - t0 >= seconds / 5
    if (t - t0) / n < best_wall then
      best_wall, best_cpu = (t - t0) / n, (os.clock() - c0) / n
    end
  end
  return best_wall, best_cpu
end

local secs = quick and 0.05 or 1.0
-- Batch 1 runs on one thread, so its CPU time is the figure that a loaded
-- machine disturbs least; both are printed.
local s1, c1 = bench({ 784, 30, 10 }, { "sigmoid", "sigmoid" }, "quadratic", 1, secs)
print(("step 784-30-10 batch 1: %.2f us/step wall, %.2f us/step cpu"):format(s1 * 1e6, c1 * 1e6))
local s2, c2 = bench({ 784, 100, 10 }, { "sigmoid", "sigmoid" }, "quadratic", 1, secs)
print(("step 784-100-10 batch 1: %.2f us/step wall, %.2f us/step cpu"):format(s2 * 1e6, c2 * 1e6))
local s3 = bench({ 784, 3136, 1568, 10 }, { "relu", "relu", "softmax" }, "log_likelihood", 32,
                 quick and 0.05 or 3.0)
print(("step 784-3136-1568-10 batch 32: %.0f samples/s (%.2f ms/step)"):format(32 / s3, s3 * 1e3))
