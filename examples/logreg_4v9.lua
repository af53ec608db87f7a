-- logreg_4v9.lua — experiment E3: L2-regularised logistic regression on MNIST,
-- digit 4 against digit 9.
--
-- Logistic regression is a network of one sigmoid neuron with the
-- cross-entropy cost: network{784, {1, "sigmoid"}, cost = "cross_entropy"}.
-- Labels: 4 becomes 0 and 9 becomes 1 (subset{relabel = true}). A grid over
-- the L2 strength λ and the learning rate prints, per cell, how many of the
-- first 1000 test images of 4s and 9s it gets right. The cell with the best
-- accuracy on a validation split (the last 1/6 of the training 4s and 9s) is
-- saved as a checkpoint, loaded back and checked to give the same count; its
-- 20 most confidently misclassified test images are shown as a 4×5 grid with
-- their confidence.
--
--   deltalab examples/logreg_4v9.lua            the full grid, 20 epochs per cell
--   deltalab examples/logreg_4v9.lua --quick    a 2×2 grid on 2000 images, 3 epochs
--
-- Flags: --epochs N --lambdas 0,0.1,1,10,100 --lrs 0.01,0.1,0.5 --batch B
-- --save PATH (the checkpoint; default a temporary file) --seed S --png DIR
-- --no-plot. Needs MNIST (data.mnist(); `make data` fetches it).

local cli = require "deltalab.cli"

local USAGE = [==[
usage: deltalab examples/logreg_4v9.lua [--quick] [--epochs N] [--lambdas LIST]
         [--lrs LIST] [--batch B] [--save PATH] [--seed S] [--png DIR] [--no-plot]]==]

local opt = cli.parse(arg, {
  quick = false, epochs = 20, lambdas = "0,0.1,1,10,100", lrs = "0.01,0.1,0.5", batch = 32,
  save = cli.text, seed = 1,
}, USAGE)
if opt.quick then
  if not opt.given.epochs then opt.epochs = 3 end
  if not opt.given.lambdas then opt.lambdas = "0,10" end
  if not opt.given.lrs then opt.lrs = "0.01,0.5" end
end

local function numbers(s)
  local t = {}
  for v in s:gmatch("[^,%s]+") do
    t[#t + 1] = tonumber(v) or error(("'%s' is not a list of numbers"):format(s), 0)
  end
  return t
end
local lambdas, lrs = numbers(opt.lambdas), numbers(opt.lrs)

local d = data.mnist(opt.quick and { n = 2000 } or nil)
local function fours_nines(l) return l == 4 or l == 9 end
local all = d.train:subset(fours_nines, { relabel = true })   -- 4 → 0, 9 → 1
local train, val = all:split(5 / 6)
local test = d.test:subset(fours_nines, { relabel = true })
if #test > 1000 then test = test:subset(1, 1000) end
print(("E3: logistic regression, MNIST 4 (label 0) vs 9 (label 1): %d training, %d validation, %d test images")
  :format(#train, #val, #test))
print(("%d epochs per cell, batch %d, seed %d"):format(opt.epochs, opt.batch, opt.seed))

local function fit(lambda, lr)
  local net = network{ 784, { 1, "sigmoid" }, cost = "cross_entropy", init = "zeros" }
  trainer{ net = net, train = train, batch = opt.batch, lr = lr, lambda = lambda,
           epochs = opt.epochs, seed = opt.seed, progress = false }:run()
  local _, vacc = trainer.evaluate(net, val)
  local _, tacc = trainer.evaluate(net, test)
  return net, vacc, math.floor(tacc * #test + 0.5)
end

-- The grid: rows λ, columns lr, each cell the correct count out of #test.
print(("\ncorrect out of %d test images (λ down, learning rate across)"):format(#test))
local head = { "  λ \\ lr" }
for _, lr in ipairs(lrs) do head[#head + 1] = ("%8g"):format(lr) end
print(table.concat(head, " "))
local best
for _, lambda in ipairs(lambdas) do
  local row = { ("%8g"):format(lambda) }
  for _, lr in ipairs(lrs) do
    local net, vacc, correct = fit(lambda, lr)
    row[#row + 1] = ("%8d"):format(correct)
    if not best or vacc > best.vacc then
      best = { net = net, vacc = vacc, correct = correct, lambda = lambda, lr = lr }
    end
  end
  print(table.concat(row, " "))
end
print(("\nbest on validation: λ %g, lr %g: validation %.2f%%, %d of %d test images right (%.1f%%)")
  :format(best.lambda, best.lr, 100 * best.vacc, best.correct, #test, 100 * best.correct / #test))

-- Checkpoint the best model and read it back: the same network, bit for bit.
local path = opt.save or os.tmpname()
best.net:save(path)
local loaded = network.load(path)
local _, lacc = trainer.evaluate(loaded, test)
local lcorrect = math.floor(lacc * #test + 0.5)
print(("saved to %s and reloaded: %d correct (%s)"):format(opt.save and path or "a temporary file",
  lcorrect, lcorrect == best.correct and "the same" or "DIFFERENT"))
if not opt.save then os.remove(path) end

-- The mistakes it was most sure of.
local idx, pred, conf = trainer.most_confident_errors(loaded, test, 20)
local digit = { [0] = 4, [1] = 9 }
local images, titles, line = {}, {}, {}
print(("\nthe %d most confident mistakes (test position: true → predicted, confidence)"):format(#idx))
for i = 1, #idx do
  images[i] = test.X:row(idx[i])
  titles[i] = ("%d as %d (%.2f)"):format(digit[1 - pred[i]], digit[pred[i]], conf[i])
  line[#line + 1] = ("#%d: %d→%d %.3f"):format(idx[i], digit[1 - pred[i]], digit[pred[i]], conf[i])
  if #line == 4 or i == #idx then print("  " .. table.concat(line, "   ")); line = {} end
end

local show = cli.plots(opt, "logreg_4v9")
if #idx > 0 then
  show("mistakes", "grid", images, { cols = 5, rows = 4, shape = { 28, 28 }, titles = titles,
    title = "most confident mistakes (true as predicted, confidence)" })
end
show("weights", "image", loaded.layers[1].W, 28, 28,
  { title = "the weights: red pushes toward 9, blue toward 4", palette = "diverging" })
cli.finish()
