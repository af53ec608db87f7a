-- linreg.lua — experiment E7: linear regression in closed form and by gradient
-- descent, and a small regression network that over-fits.
--
-- Part 1. Data y = X·w + b + noise (data.linear). The closed form is the least
-- squares solution of [X 1]·θ = y (matrix.lstsq, Householder QR in double).
-- Gradient descent trains the same model — a network of one linear neuron
-- with the quadratic cost — on the whole set, step by step, and the distance
-- ‖θ_step − θ*‖ between its parameters and the closed form is printed and
-- plotted per step: it falls geometrically, at a rate set by the learning
-- rate and the conditioning of XᵀX.
--
-- Part 2. A 1-100-100-1 tanh network fitted to 15 noisy samples of
-- sin(3x), with 200 test points from the same curve. The training loss keeps
-- falling; the test loss falls, then rises as the net starts to fit the noise
-- (over-fitting). The train/test curves and the fitted function are plotted.
--
--   deltalab examples/linreg.lua            2000 GD steps, 3000 epochs for the net
--   deltalab examples/linreg.lua --quick    300 steps, 1000 epochs
--
-- Flags: --steps N --lr X --epochs N --net-lr X --seed S --png DIR --no-plot.

local cli = require "deltalab.cli"

local USAGE = [==[
usage: deltalab examples/linreg.lua [--quick] [--steps N] [--lr X] [--epochs N]
         [--net-lr X] [--seed S] [--png DIR] [--no-plot]]==]

local opt = cli.parse(arg, {
  quick = false, steps = 2000, lr = 0.5, epochs = 3000, net_lr = 0.1, seed = 1,
}, USAGE)
if opt.quick then
  if not opt.given.steps then opt.steps = 300 end
  if not opt.given.epochs then opt.epochs = 1000 end
end

------------------------------------------------------------------------------
-- Part 1: closed form against gradient descent
------------------------------------------------------------------------------

local set = data.linear{ n = 200, dim = 3, w = { 2, -1, 0.5 }, b = 1, noise = 0.1, seed = opt.seed }
local X, Y = set.X, set.Y
local theta = matrix.lstsq(matrix.hcat(X, matrix.ones(#set, 1)), Y)   -- 4×1: w1 w2 w3 b
print("E7 part 1: y = X·w + b + noise, 200 samples of 3 features")
print(("  true         w = (%.4f, %.4f, %.4f), b = %.4f"):format(set.w[1], set.w[2], set.w[3], set.b))
print(("  closed form  w = (%.4f, %.4f, %.4f), b = %.4f   (matrix.lstsq)")
  :format(theta[1], theta[2], theta[3], theta[4]))

local net = network{ 3, { 1, "linear" }, cost = "quadratic", init = "zeros" }
local W, b = net.layers[1].W, net.layers[1].b
local function distance()
  local s = 0
  for j = 1, 3 do s = s + (W[j] - theta[j]) ^ 2 end
  return math.sqrt(s + (b[1] - theta[4]) ^ 2)
end
local dist = { distance() }
print(("\n  gradient descent, lr %g, full batch: distance ‖θ − θ*‖ to the closed form"):format(opt.lr))
print(("  %6s %14s"):format("step", "distance"))
print(("  %6d %14.3e"):format(0, dist[1]))
local mark = {}
for _, s in ipairs{ 1, 10, 50, 100, 200, 500, 1000, 2000, 5000 } do mark[s] = true end
for step = 1, opt.steps do
  net:step(X, Y, { lr = opt.lr })
  dist[step + 1] = distance()
  if mark[step] or step == opt.steps then print(("  %6d %14.3e"):format(step, dist[step + 1])) end
end
print(("  gradient descent   w = (%.4f, %.4f, %.4f), b = %.4f after %d steps")
  :format(W[1], W[2], W[3], b[1], opt.steps))
print(("E7 distance after %d steps: %.2e"):format(opt.steps, dist[#dist]))

------------------------------------------------------------------------------
-- Part 2: a regression net that over-fits
------------------------------------------------------------------------------

local function curve(n, seed, noise)
  local x = matrix.rand(n, 1, { seed = seed, min = -1, max = 1 })
  local y = x:map(function(v) return math.sin(3 * v) end) + noise * matrix.randn(n, 1, { seed = seed + 1 })
  return data.dataset{ X = x, Y = y, name = ("sin(3x) + noise, %d points"):format(n) }
end
local train = curve(15, opt.seed * 10, 0.4)
local test = curve(200, opt.seed * 10 + 5, 0.4)
local rnet = network{ 1, { 100, "tanh" }, { 100, "tanh" }, { 1, "linear" }, cost = "quadratic",
                      init = "xavier", seed = opt.seed }
local t = trainer{ net = rnet, train = train, validation = test, batch = #train, lr = opt.net_lr, momentum = 0.9,
                   epochs = opt.epochs, seed = opt.seed, progress = false }
t:run()
local h = t.history
local best, best_e = math.huge, 0
for e = 1, h.epochs do
  if h.val_loss[e] < best then best, best_e = h.val_loss[e], e end
end
print(("\nE7 part 2: 1-100-100-1 tanh net, %d training points, %d test points, lr %g, momentum 0.9, %d epochs (full batch)")
  :format(#train, #test, opt.net_lr, opt.epochs))
print(("  %8s %12s %12s"):format("epoch", "train loss", "test loss"))
for _, e in ipairs{ 1, 10, 100, best_e, 1000, 2000 } do
  if e < h.epochs then print(("  %8d %12.5f %12.5f%s"):format(e, h.train_loss[e], h.val_loss[e],
    e == best_e and "   <- lowest test loss" or "")) end
end
print(("  %8d %12.5f %12.5f   (last)"):format(h.epochs, h.train_loss[h.epochs], h.val_loss[h.epochs]))
print(("E7 over-fitting: test loss %.4f at epoch %d, %.4f at the end; train loss %.5f at the end")
  :format(best, best_e, h.val_loss[h.epochs], h.train_loss[h.epochs]))

local show = cli.plots(opt, "linreg")
local dpts = {}
for i, v in ipairs(dist) do dpts[i] = { i - 1, v } end
show("distance", "lines", { ["‖θ − θ*‖"] = dpts, logscale = "y", xlabel = "step",
  title = "gradient descent vs closed form: distance per step" })
local tl, vl = {}, {}
for e = 1, h.epochs do tl[e] = { e, h.train_loss[e] }; vl[e] = { e, h.val_loss[e] } end
show("overfit", "lines", { train = tl, test = vl, logscale = "xy", xlabel = "epoch",
  title = "regression net: train and test loss" })
local xs, fit, truth = matrix.range(-1, 1, 0.05), {}, {}
local out = rnet:forward(xs:reshape(xs:rows() * xs:cols(), 1))
for i = 1, out:rows() do
  local x = -1 + 0.05 * (i - 1)
  fit[i], truth[i] = { x, out[i] }, { x, math.sin(3 * x) }
end
local pts = {}
for i = 1, #train do pts[i] = { train.X[i], train.Y[i] } end
table.sort(pts, function(p, q) return p[1] < q[1] end)
show("fit", "lines", { net = fit, ["sin(3x)"] = truth, ["training points (joined)"] = pts, points = true,
  title = "the fitted function" })
cli.finish()
