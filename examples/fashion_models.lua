-- fashion_models.lua — experiment E6: perceptron, logistic (softmax) regression
-- and multi-layer networks on Fashion-MNIST, and how many hidden layers help.
--
-- Three models of growing power on the same data:
--   perceptron     784 → 10 step units trained by the perceptron rule
--                  (trainer{rule = "perceptron"}), one sample at a time
--   logistic       784 → 10 softmax, log-likelihood (multinomial logistic regression)
--   MLP            784 → 100 ReLU → 10 softmax
-- (reference accuracies ≈ 0.70 / 0.84 / 0.87), then 1, 2 and 3 hidden layers
-- of 100 ReLUs. The learning rate of each gradient-trained model is chosen
-- among --lrs on a validation split (the last 10000 training images); the
-- table reports the chosen rate, validation and test accuracy and time.
--
--   deltalab examples/fashion_models.lua            10 epochs per model (a few minutes)
--   deltalab examples/fashion_models.lua --quick    3000 images, 2 epochs
--
-- Flags: --epochs N --lrs LIST --hidden N --batch B --seed S --png DIR --no-plot.
-- Needs Fashion-MNIST: `apt-get install dataset-fashion-mnist` (Debian) or `make data`.

local cli = require "deltalab.cli"

local USAGE = [==[
usage: deltalab examples/fashion_models.lua [--quick] [--epochs N] [--lrs LIST]
         [--hidden N] [--batch B] [--seed S] [--png DIR] [--no-plot]]==]

local opt = cli.parse(arg, {
  quick = false, epochs = 10, lrs = "0.01,0.05,0.2", hidden = 100, batch = 32, seed = 1,
}, USAGE)
if opt.quick then
  if not opt.given.epochs then opt.epochs = 2 end
  if not opt.given.lrs then opt.lrs = "0.05,0.2" end
end
local lrs = {}
for v in opt.lrs:gmatch("[^,%s]+") do lrs[#lrs + 1] = assert(tonumber(v), "--lrs: numbers") end

local d = data.fashion_mnist(opt.quick and { n = 3000 } or nil)
local train, val = d.train:split(5 / 6)
local test = d.test
print(("E6: Fashion-MNIST, %d training, %d validation, %d test images; %d epochs, batch %d, seed %d")
  :format(#train, #val, #test, opt.epochs, opt.batch, opt.seed))

local function layers(n)
  local sizes = { 784 }
  for _ = 1, n do sizes[#sizes + 1] = { opt.hidden, "relu" } end
  sizes[#sizes + 1] = { 10, "softmax" }
  sizes.cost, sizes.init, sizes.seed = "log_likelihood", n > 0 and "he" or "zeros", opt.seed
  return sizes
end

local function run(sizes, lr, extra)
  local net = network(sizes)
  local cfg = { net = net, train = train, validation = val, batch = opt.batch, lr = lr,
                epochs = opt.epochs, seed = opt.seed, progress = false }
  for k, v in pairs(extra or {}) do cfg[k] = v end
  local t = trainer(cfg)
  t:run()
  local _, tacc = trainer.evaluate(net, test)
  local h = t.history
  return { t = t, lr = lr, vacc = h.val_acc[h.epochs], tacc = tacc, secs = h.seconds[h.epochs] }
end

-- The best of the learning rates on validation.
local function choose(sizes)
  local best
  for _, lr in ipairs(lrs) do
    local r = run(sizes, lr)
    if not best or r.vacc > best.vacc then best = r end
  end
  return best
end

local rows = {}
local function report(name, r, ref)
  rows[#rows + 1] = { name = name, r = r }
  print(("%s %8s %9.2f%% %9.2f%% %s %8.1f"):format(cli.pad(name, 22), r.lr and ("%g"):format(r.lr) or "-",
    100 * r.vacc, 100 * r.tacc, cli.pad(ref or "", 9, true), r.secs))
end

print(("\n%-22s %8s %10s %10s %9s %8s"):format("model", "lr", "val acc", "test acc", "reference", "seconds"))
local p = run({ 784, { 10, "step" }, init = "zeros" }, 1, { rule = "perceptron", batch = 1 })
p.lr = nil
report("perceptron", p, "≈ 0.70")
local logistic = choose(layers(0))
report("logistic (softmax)", logistic, "≈ 0.84")
local mlp = choose(layers(1))
report(("MLP 1×%d ReLU"):format(opt.hidden), mlp, "≈ 0.87")
local deep = { mlp }
for n = 2, 3 do
  deep[n] = choose(layers(n))
  report(("MLP %d×%d ReLU"):format(n, opt.hidden), deep[n])
end
print(("E6 test accuracy: perceptron %.3f, logistic %.3f, MLP %.3f (reference 0.70 / 0.84 / 0.87)")
  :format(p.tacc, logistic.tacc, mlp.tacc))

local show = cli.plots(opt, "fashion_models")
local curves = { title = "validation accuracy per epoch", xlabel = "epoch", legend = "below",
                 order = { "perceptron", "logistic", "1 hidden", "2 hidden", "3 hidden" } }
curves.perceptron = p.t.history.val_acc
curves.logistic = logistic.t.history.val_acc
for n = 1, 3 do curves[n .. " hidden"] = deep[n].t.history.val_acc end
show("accuracy", "lines", curves)
cli.finish()
