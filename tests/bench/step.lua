-- tests/bench/step.lua — how long one net:step(x, y) takes when called from
-- Lua: 784-30-10 and 784-100-10 at batch 1 (per-sample SGD, the book's
-- setting), and samples/s at batch 32 for 784-3136-1568-10 (experiment E2).
-- Batch 1 runs twice: on one dense synthetic input (every pixel (j mod 17)/17,
-- nothing to skip) and on the first 1000 MNIST training images in turn (the
-- book's workload, 60 % of its 8-pixel chunks zero), skipped when MNIST is
-- not found. Prints one line per case; tests/bench/step_peers.py times
-- PyTorch and NumPy doing the same, and tests/bench/run.sh prints the ratios.
--   deltalab tests/bench/step.lua [--quick]
local quick = arg and arg[1] == "--quick"
local now = require("deltalab.sys").clock

-- The inputs and labels a case steps through in turn: B × n_in dense
-- synthetic rows (the peers make the same), or MNIST's first images.
local function synthetic(B, n_in, n_out)
  local X = matrix.zeros(B, n_in)
  for i = 1, B do for j = 1, n_in do X:set(i, j, ((i * j - 1) % 17) / 17) end end
  local labels = {}
  for i = 1, B do labels[i] = (i * 3) % n_out end
  return { { X, B == 1 and labels[1] or labels } }
end

-- MNIST's first n training images and labels, and the directory they came
-- from (run.sh hands it to the peers); nil when MNIST is not found.
local function mnist_samples(n)
  local ok, d = pcall(data.mnist)
  if not ok then return nil end
  local samples = {}
  for i = 1, n do samples[i] = { d.train.X:row(i), d.train.y:get(i, 1) } end
  return samples, d.dir
end

local function bench(sizes, acts, cost, samples, seconds)
  local spec = { sizes[1] }
  for i = 2, #sizes do spec[i] = { sizes[i], acts[i - 1] } end
  spec.cost, spec.init, spec.seed = cost, "scaled", 1
  local net = network(spec)
  local opts, ns, s = { lr = 0.01 }, #samples, 0
  for _ = 1, 3 do net:step(samples[1][1], samples[1][2], opts) end  -- warm up, size the workspace
  -- Best of 5 rounds (the one least disturbed by other processes; the peers
  -- are timed the same way): wall and CPU time per step.
  local best_wall, best_cpu = math.huge, math.huge
  for _ = 1, 5 do
    local n, t0, c0 = 0, now(), os.clock()
    local t = t0
    repeat
      for _ = 1, 20 do
        s = s % ns + 1
        net:step(samples[s][1], samples[s][2], opts)
      end
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
local images, mnist_dir = mnist_samples(1000)
if mnist_dir then print("step mnist from " .. mnist_dir) end
for _, hidden in ipairs{ 30, 100 } do
  local name = ("784-%d-10 batch 1"):format(hidden)
  local w, c = bench({ 784, hidden, 10 }, { "sigmoid", "sigmoid" }, "quadratic",
                     synthetic(1, 784, 10), secs)
  print(("step %s: %.2f us/step wall, %.2f us/step cpu"):format(name, w * 1e6, c * 1e6))
  if images then
    w, c = bench({ 784, hidden, 10 }, { "sigmoid", "sigmoid" }, "quadratic", images, secs)
    print(("step %s mnist: %.2f us/step wall, %.2f us/step cpu"):format(name, w * 1e6, c * 1e6))
  else
    print(("step %s mnist: skipped, MNIST not found (make data)"):format(name))
  end
end
local s3 = bench({ 784, 3136, 1568, 10 }, { "relu", "relu", "softmax" }, "log_likelihood",
                 synthetic(32, 784, 10), quick and 0.05 or 3.0)
print(("step 784-3136-1568-10 batch 32: %.0f samples/s (%.2f ms/step)"):format(32 / s3, s3 * 1e3))
