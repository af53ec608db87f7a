-- softmax_l2.lua — experiment E4: softmax regression on MNIST with L2
-- regularisation, early stopping, and shuffling on or off.
--
-- Softmax regression is one softmax layer with the log-likelihood cost:
-- network{784, {10, "softmax"}, cost = "log_likelihood"}. MNIST's training set
-- is split 50000 / 10000 into training and validation (Nielsen's split). For
-- each λ the trainer runs until the validation loss has not improved for
-- --patience epochs and keeps the best epoch's weights; the table gives the
-- epochs run, the best epoch, validation and test accuracy, and ‖W‖ (larger λ,
-- smaller weights). For the best λ the run is repeated without shuffling (the
-- same order every epoch) to compare. Plots: train/validation loss and
-- accuracy per epoch, ‖W‖ per λ, and each class's 784 weights as a 28×28
-- image (what "looks like" each digit to the model).
--
--   deltalab examples/softmax_l2.lua            λ in 0,1,10,100,1000, up to 40 epochs
--   deltalab examples/softmax_l2.lua --quick    3000 images, 2 values of λ, 6 epochs
--
-- Flags: --lambdas LIST --epochs N (at most) --patience P --lr X --batch B
-- --seed S --png DIR --no-plot. Needs MNIST (data.mnist(); `make data`).

local cli = require "deltalab.cli"

local USAGE = [==[
usage: deltalab examples/softmax_l2.lua [--quick] [--lambdas LIST] [--epochs N]
         [--patience P] [--lr X] [--batch B] [--seed S] [--png DIR] [--no-plot]]==]

local opt = cli.parse(arg, {
  quick = false, lambdas = "0,1,10,100,1000", epochs = 40, patience = 5, lr = 0.1, batch = 32, seed = 1,
}, USAGE)
if opt.quick then
  if not opt.given.lambdas then opt.lambdas = "0,100" end
  if not opt.given.epochs then opt.epochs = 6 end
  if not opt.given.patience then opt.patience = 2 end
end
local lambdas = {}
for v in opt.lambdas:gmatch("[^,%s]+") do lambdas[#lambdas + 1] = assert(tonumber(v), "--lambdas: numbers") end

local d = data.mnist(opt.quick and { n = 3000 } or nil)
local train, val = d.train:split(5 / 6)
local test = d.test
print(("E4: softmax regression + L2 on MNIST: %d training, %d validation, %d test images")
  :format(#train, #val, #test))
print(("lr %g, batch %d, at most %d epochs, patience %d on the validation loss, seed %d")
  :format(opt.lr, opt.batch, opt.epochs, opt.patience, opt.seed))

local function fit(lambda, shuffle)
  local net = network{ 784, { 10, "softmax" }, cost = "log_likelihood", init = "zeros" }
  local t = trainer{ net = net, train = train, validation = val, batch = opt.batch, lr = opt.lr,
                     lambda = lambda, epochs = opt.epochs, patience = opt.patience,
                     shuffle = shuffle, seed = opt.seed, progress = false }
  t:run()
  local _, tacc = trainer.evaluate(net, test)
  local b = t.best_epoch or t.history.epochs
  return { net = net, t = t, lambda = lambda, epochs = t.history.epochs, best = b,
           vacc = t.history.val_acc[b], tacc = tacc, norm = net.layers[1].W:norm() }
end

print("\n       λ  epochs   best   val acc  test acc      ‖W‖")
local runs, best = {}, nil
for _, lambda in ipairs(lambdas) do
  local r = fit(lambda, true)
  runs[#runs + 1] = r
  print(("%8g %7d %6d %8.2f%% %8.2f%% %8.3f"):format(lambda, r.epochs, r.best, 100 * r.vacc,
    100 * r.tacc, r.norm))
  if not best or r.vacc > best.vacc then best = r end
end
print(("best λ on validation: %g, test accuracy %.2f%%"):format(best.lambda, 100 * best.tacc))

local fixed = fit(best.lambda, false)
print(("\nshuffle on vs off (λ %g):"):format(best.lambda))
print(("  shuffled every epoch: %d epochs, best %d, val %.2f%%, test %.2f%%")
  :format(best.epochs, best.best, 100 * best.vacc, 100 * best.tacc))
print(("  same order each time: %d epochs, best %d, val %.2f%%, test %.2f%%")
  :format(fixed.epochs, fixed.best, 100 * fixed.vacc, 100 * fixed.tacc))
print(("E4 test accuracy: %.2f%% (reference: about 92%% for softmax regression)"):format(100 * best.tacc))

local show = cli.plots(opt, "softmax_l2")
local h, fh = best.t.history, fixed.t.history
show("curves", "multiplot", { cols = 2,
  { "lines", { train = h.train_loss, val = h.val_loss, ["val, no shuffle"] = fh.val_loss,
               title = ("loss, λ = %g"):format(best.lambda), xlabel = "epoch" } },
  { "lines", { train = h.train_acc, val = h.val_acc, ["val, no shuffle"] = fh.val_acc,
               title = "accuracy", xlabel = "epoch" } } })
local norms, accs = {}, {}
for i, r in ipairs(runs) do
  norms[i] = { math.log(r.lambda + 1, 10), r.norm }
  accs[i] = { math.log(r.lambda + 1, 10), r.vacc }
end
show("lambda", "multiplot", { cols = 2,
  { "lines", { ["‖W‖"] = norms, title = "‖W‖ per λ", xlabel = "log10(1 + λ)" } },
  { "lines", { ["val acc"] = accs, title = "validation accuracy per λ", xlabel = "log10(1 + λ)" } } })
show("weights", "weights", best.net.layers[1], 28, 28,
  { cols = 5, titles = test.names, title = ("class weights, λ = %g"):format(best.lambda) })
cli.finish()
