-- cifar_twolayer.lua — experiment E5: a two-layer ReLU network with a softmax
-- output and L2 regularisation on CIFAR-10, with a hyper-parameter search.
--
-- The network is 3072-H-10: ReLU hidden layer, softmax output, log-likelihood
-- cost, He initialisation, L2 strength λ. The inputs are standardised with
-- the training set's per-pixel mean and deviation. The last 1000 training
-- images are the validation set. trainer.sweep runs the grid of learning rate,
-- batch size, epochs (the number of iterations) and hidden size and prints a
-- table of the settings against validation accuracy; the best cell is
-- retrained with its loss recorded per step, and its test accuracy, loss
-- history, train/validation accuracy and first-layer weights are shown.
--
-- CIFAR-10 is in no package registry, so it may not be on your machine: get
-- cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html and
-- unpack it into ./data/cifar10/ (or $DELTALAB_DATA/cifar10/). Without it, the
-- script says so and runs on a small generated stand-in written in CIFAR's
-- own binary format (10 classes of coloured stripes with noise), so that the
-- whole pipeline — the loader included — still runs and is tested.
--
--   deltalab examples/cifar_twolayer.lua            the search on CIFAR-10 (or the stand-in)
--   deltalab examples/cifar_twolayer.lua --quick    a 2-cell search on the stand-in
--
-- Flags: --lrs LIST --batches LIST --epochs LIST --hidden LIST --lambda X
-- --standin (use the stand-in even when CIFAR-10 is present) --seed S
-- --png DIR --no-plot.

local cli = require "deltalab.cli"

local USAGE = [==[
usage: deltalab examples/cifar_twolayer.lua [--quick] [--lrs LIST] [--batches LIST]
         [--epochs LIST] [--hidden LIST] [--lambda X] [--standin] [--seed S]
         [--png DIR] [--no-plot]]==]

local opt = cli.parse(arg, {
  quick = false, lrs = "0.01,0.05", batches = "32,128", epochs = "10", hidden = "50,200",
  lambda = 5, standin = false, seed = 1,
}, USAGE)
if opt.quick then
  opt.standin = true
  if not opt.given.lrs then opt.lrs = "0.05" end
  if not opt.given.batches then opt.batches = "32" end
  if not opt.given.epochs then opt.epochs = "4" end
  if not opt.given.hidden then opt.hidden = "16,64" end
end
local function numbers(s, what)
  local t = {}
  for v in s:gmatch("[^,%s]+") do
    t[#t + 1] = tonumber(v) or error(("--%s: '%s' is not a list of numbers"):format(what, s), 0)
  end
  return t
end

-- The stand-in: n images per class in CIFAR's binary records (a label byte,
-- then 1024 red, 1024 green and 1024 blue bytes, each plane 32×32 row by row),
-- five training batches and a test batch, as data.cifar(dir) expects.
local function write_standin(dir, per_batch, n_test)
  os.execute(("mkdir -p '%s'"):format(dir))
  math.randomseed(opt.seed)
  local function batch(path, n)
    local f = assert(io.open(path, "wb"))
    for i = 1, n do
      local k = (i - 1) % 10                  -- the class
      local out = { string.char(k) }
      local fi, fj = 1 + k % 4, 1 + k // 4    -- stripe frequencies of class k
      local phase = math.random() * 6.283
      for c = 0, 2 do
        local level = 110 + 8 * ((k + c) % 3)   -- the class's colour
        local row = {}
        for y = 0, 31 do
          for x = 0, 31 do
            local v = level + 12 * math.sin((fi * x + fj * y) * 0.35 + phase)
                      + 100 * (math.random() + math.random() - 1)
            row[#row + 1] = math.max(0, math.min(255, math.floor(v)))
          end
        end
        for s = 1, 1024, 256 do out[#out + 1] = string.char(table.unpack(row, s, s + 255)) end
      end
      f:write(table.concat(out))
    end
    assert(f:close())
  end
  for b = 1, 5 do batch(("%s/data_batch_%d.bin"):format(dir, b), per_batch) end
  batch(dir .. "/test_batch.bin", n_test)
end

local ok, d = pcall(data.cifar10)
local standin = opt.standin or not ok
if not ok then
  print("CIFAR-10 was not found.")
  print("Get cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html and unpack")
  print("it into ./data/cifar10/ (or $DELTALAB_DATA/cifar10/); until then, a generated stand-in.")
end
local tmpdir
if standin then
  tmpdir = os.tmpname()
  os.remove(tmpdir)
  local per = opt.quick and 120 or 600
  write_standin(tmpdir, per, opt.quick and 300 or 1000)
  d = data.cifar(tmpdir)
  print(("stand-in: %d training and %d test images of 10 generated classes, read back with data.cifar"):format(#d.train, #d.test))
end

local nval = math.min(1000, #d.train // 6)
local train, val = d.train:split((#d.train - nval) / #d.train)
local test = d.test
local mean, std = train:normalize()
val:normalize(mean, std)
test:normalize(mean, std)
print(("E5: two-layer ReLU net + softmax + L2 (λ %g) on %s: %d training, %d validation, %d test")
  :format(opt.lambda, standin and "the stand-in" or "CIFAR-10", #train, #val, #test))

local function fit(cfg, record)
  local net = network{ 3072, { cfg.hidden, "relu" }, { 10, "softmax" }, cost = "log_likelihood",
                       init = "he", seed = opt.seed }
  local t = trainer{ net = net, train = train, validation = val, batch = cfg.batch, lr = cfg.lr,
                     lambda = opt.lambda, epochs = cfg.epochs, seed = opt.seed,
                     record_steps = record, progress = false }
  t:run()
  return net, t
end

print("\nthe search (validation accuracy):")
local results = trainer.sweep{
  grid = { lr = numbers(opt.lrs, "lrs"), batch = numbers(opt.batches, "batches"),
           epochs = numbers(opt.epochs, "epochs"), hidden = numbers(opt.hidden, "hidden") },
  order = { "hidden", "batch", "epochs", "lr" },
  args = {},
  run = function(cfg)
    local _, t = fit(cfg, false)
    local h = t.history
    return { train_acc = ("%.3f"):format(h.train_acc[h.epochs]), val_acc = h.val_acc[h.epochs] }
  end,
}
local best
for _, r in ipairs(results) do
  if r.result and (not best or r.result.val_acc > best.result.val_acc) then best = r end
end
local s = best.settings
print(("\nbest: hidden %d, batch %d, %d epochs, lr %g: validation %.2f%%")
  :format(s.hidden, s.batch, s.epochs, s.lr, 100 * best.result.val_acc))
local net, t = fit(s, true)
local _, tacc = trainer.evaluate(net, test)
print(("E5 test accuracy: %.2f%% (%s; reference on CIFAR-10: about 50%% for this model)")
  :format(100 * tacc, standin and "the stand-in" or "CIFAR-10"))

local show = cli.plots(opt, "cifar_twolayer")
local h = t.history
show("curves", "multiplot", { cols = 2,
  { "lines", { loss = h.step_loss, title = "loss per step", xlabel = "step" } },
  { "lines", { train = h.train_acc, val = h.val_acc, title = "accuracy", xlabel = "epoch" } } })
show("weights", "weights", net.layers[1], 32, 32, { max = 20, cols = 5, title = "first-layer weights" })

if tmpdir then
  for b = 1, 5 do os.remove(("%s/data_batch_%d.bin"):format(tmpdir, b)) end
  os.remove(tmpdir .. "/test_batch.bin")
  os.remove(tmpdir)
end
cli.finish()
