-- vanishing.lua — the vanishing gradient (Nielsen, chapter 5): how fast each
-- layer of a deep network learns, sigmoid against ReLU.
--
-- Two networks 784-30-30-30-30-10 with softmax outputs and the log-likelihood
-- cost are trained by the same SGD on MNIST: one with sigmoid hidden layers
-- (the book's init, W ~ N(0, 1/n_in)), one with ReLU hidden layers (He init).
-- After every batch the script records ‖δˡ‖ of each layer — the norm of
-- ∂C/∂bˡ, the batch mean of δˡ (layer.db), the "speed of learning" of layer l.
-- In the sigmoid net it shrinks layer by layer toward the input (each BP2
-- step multiplies by σ′ ≤ 1/4), so the first layers barely learn; in the ReLU
-- net (σ′ = 1 where active) the layers learn at comparable speeds. The table
-- gives the mean over the first and the last 50 batches; the plot shows every
-- batch, one curve per layer. Without MNIST it uses 2-D spirals instead.
--
--   deltalab examples/vanishing.lua            2 epochs of 10000 images
--   deltalab examples/vanishing.lua --quick    300 batches of 10 images
--
-- Flags: --epochs N --n N --lr X --batch B --seed S --png DIR --no-plot.

local cli = require "deltalab.cli"
local opt = cli.parse(arg, { quick = false, epochs = 2, n = 10000, lr = 0.1, batch = 10, seed = 1 }, [==[
usage: deltalab examples/vanishing.lua [--quick] [--epochs N] [--n N] [--lr X] [--batch B]
         [--seed S] [--png DIR] [--no-plot]]==])
if opt.quick then
  if not opt.given.n then opt.n = 3000 end
  if not opt.given.epochs then opt.epochs = 1 end
end

local ok, d = pcall(data.mnist, { n = opt.n })
local train, inputs
if ok then
  train, inputs = d.train, 784
  print(("MNIST, the first %d training images"):format(#train))
else
  train, inputs = data.spirals{ n = opt.n, classes = 3, seed = opt.seed }:shuffle{ seed = opt.seed }, 2
  print("MNIST not found: 2-D spirals instead")
end
local classes = train.classes
if opt.quick then train = train:subset(1, math.min(#train, 300 * opt.batch)) end

local function run(act, init)
  local sizes = { inputs }
  for _ = 1, 4 do sizes[#sizes + 1] = { 30, act } end
  sizes[#sizes + 1] = { classes, "softmax" }
  sizes.cost, sizes.init, sizes.seed = "log_likelihood", init, opt.seed
  local net = network(sizes)
  local speed = {}
  for l = 1, net.L do speed[l] = {} end
  local t = trainer{ net = net, train = train, batch = opt.batch, lr = opt.lr, epochs = opt.epochs,
                     seed = opt.seed, progress = false,
                     on_step = function(tr)
                       for l = 1, net.L do
                         local s = speed[l]
                         s[#s + 1] = net.layers[l].db:norm()
                       end
                     end }
  t:run()
  return net, speed, t.history.train_acc[t.history.epochs]
end

local function mean(v, a, b)
  local s = 0
  for i = a, b do s = s + v[i] end
  return s / (b - a + 1)
end

local show = cli.plots(opt, "vanishing")
local ratios = {}
for _, case in ipairs{ { "sigmoid", "scaled" }, { "relu", "he" } } do
  local net, speed, acc = run(case[1], case[2])
  local n = #speed[1]
  local k = math.min(50, n)
  print(("\n%s hidden layers (%s init): %d batches of %d, lr %g, training accuracy %.1f%%")
    :format(case[1], case[2], n, opt.batch, opt.lr, 100 * acc))
  print("  layer   " .. cli.pad("‖δ‖ first 50", 16, true) .. " " .. cli.pad("‖δ‖ last 50", 16, true))
  for l = 1, net.L do
    print(("  %-7s %16.3e %16.3e"):format(l == net.L and l .. " (out)" or l, mean(speed[l], 1, k),
      mean(speed[l], n - k + 1, n)))
  end
  local r = mean(speed[1], 1, k) / mean(speed[net.L - 1], 1, k)
  ratios[case[1]] = r
  print(("  first hidden layer / last hidden layer, first 50 batches: %.3f"):format(r))
  local series = { title = ("‖δˡ‖ per batch, %s hidden layers"):format(case[1]), logscale = "y",
                   xlabel = "batch", order = {} }
  for l = 1, net.L do
    local name = l == net.L and "output layer" or ("layer " .. l)
    series[name] = speed[l]
    series.order[#series.order + 1] = name
  end
  show(case[1], "lines", series)
end
print(("\nvanishing: first/last hidden ‖δ‖ ratio sigmoid %.3f, relu %.3f"):format(ratios.sigmoid, ratios.relu))
cli.finish()
