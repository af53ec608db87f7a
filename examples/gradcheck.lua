-- gradcheck.lua — experiment E10: backpropagation against finite differences
-- for every activation × cost on small random networks.
--
-- For each hidden activation, output activation and cost, a 4-5-3 network is
-- built, one batch of 5 random samples is pushed through it, and every ∂C/∂w
-- and ∂C/∂b from backprop is compared with the central difference
-- (C(w + ε) − C(w − ε)) / 2ε computed in double precision. The table shows the
-- largest relative error per combination: fp32 backprop gives about 1e-7…1e-6;
-- a wrong derivative anywhere would give 1e-2 or more.
--
--   deltalab examples/gradcheck.lua [--quick]

local cli = require "deltalab.cli"
local quick = cli.parse(arg, { quick = false }, "usage: deltalab examples/gradcheck.lua [--quick]").quick

local hidden = { "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "linear" }
local outputs = { quadratic = { "sigmoid", "linear", "tanh", "softmax" },
                  cross_entropy = { "sigmoid", "softmax" },
                  log_likelihood = { "softmax", "sigmoid" } }
if quick then hidden = { "sigmoid", "relu" } end

local X = matrix.zeros(5, 4)
for i = 1, 5 do for j = 1, 4 do X:set(i, j, math.sin(i * 3 + j * 7)) end end
local labels = { 0, 2, 1, 1, 0 }

print(("%-15s %-9s %-10s %12s"):format("cost", "output", "hidden", "max rel err"))
local worst, all_ok = 0, true
for _, cost in ipairs{ "quadratic", "cross_entropy", "log_likelihood" } do
  for _, out in ipairs(outputs[cost]) do
    for _, h in ipairs(hidden) do
      local net = network{ 4, { 5, h }, { 3, out }, cost = cost, init = "xavier", seed = 3 }
      local e = net:gradcheck(X, labels, { print = false })
      local m, ok = 0, true
      for _, le in ipairs(e) do m = math.max(m, le.W, le.b); ok = ok and le.ok end
      worst, all_ok = math.max(worst, m), all_ok and ok
      -- a NaN would vanish in math.max: le.ok says whether the layer passed
      print(("%-15s %-9s %-10s %12s"):format(cost, out, h,
            ok and ("%.2e"):format(m) or "FAILED"))
    end
  end
end
print(("\nlargest error over all combinations: %.2e (%s)"):format(worst,
      all_ok and "backprop agrees with finite differences" or "MISMATCH"))
