-- mnist_deep.lua — experiment E2: a deep network on MNIST with mini-batch SGD,
-- and the trade-off between online learning (batch 1) and mini-batches.
--
-- The course's network: 784-3136-1568-10, ReLU hidden layers, softmax output
-- with the log-likelihood cost, the default init (He on the ReLU layers), lr 0.1,
-- batch 32, 6 epochs:
-- about 98 % of the 10000 test images right. Each epoch prints the training
-- loss, the test accuracy and the time; the loss and accuracy curves are
-- plotted at the end. With --compare, the same network is trained for
-- --compare-epochs epochs at each batch size in the list, printing samples per
-- second and test accuracy side by side: batch 1 follows the gradient of every
-- sample (32 times as many steps as batch 32) and runs at a fraction of the
-- speed of the batched GEMMs. A batch gradient is a mean, so a batch of B
-- moves about B times less per sample than B single steps would: the
-- comparison scales the learning rate with the batch (lr·B/32, the "linear
-- scaling rule"; --compare-same-lr keeps lr for all, and at lr 0.1 batch 1
-- diverges). --epochs 0 skips the main run.
--
--   deltalab examples/mnist_deep.lua                  the full E2 run (minutes)
--   deltalab examples/mnist_deep.lua --quick          a small net on 3000 images
--   deltalab examples/mnist_deep.lua --compare 1,32,256 --compare-epochs 1
--   deltalab examples/mnist_deep.lua --batch 1 --epochs 1   online learning alone
--
-- Flags: --epochs N --lr X --batch B --hidden 3136,1568 --n N (first N training
-- images) --seed S --compare LIST --compare-epochs N --compare-n N (first N
-- images for the comparison) --png DIR --no-plot.
-- Needs MNIST (data.mnist(); `make data` fetches it).

local cli = require "deltalab.cli"

local USAGE = [==[
usage: deltalab examples/mnist_deep.lua [--quick] [--epochs N] [--lr X] [--batch B]
         [--hidden 3136,1568] [--n N] [--seed S] [--compare 1,32,256]
         [--compare-epochs N] [--compare-n N] [--compare-same-lr] [--png DIR]
         [--no-plot]]==]

local opt = cli.parse(arg, {
  quick = false, epochs = 6, lr = 0.1, batch = 32, hidden = "3136,1568", n = 0, seed = 1,
  compare = cli.text, compare_epochs = 1, compare_n = 0, compare_same_lr = false,
}, USAGE)

if opt.quick then
  -- A few seconds: a narrower net on the first 3000 images, and a compare of
  -- batch 1 against 32 on 1000 images.
  if not opt.given.hidden then opt.hidden = "256,128" end
  if not opt.given.n then opt.n = 3000 end
  if not opt.given.epochs then opt.epochs = 2 end
  if not opt.given.compare then opt.compare = "1,32" end
  if not opt.given.compare_n then opt.compare_n = 1000 end
end

local function numbers(s)
  local t = {}
  for v in tostring(s):gmatch("[^,%s]+") do
    local x = tonumber(v)
    if not x or x < 1 or x ~= math.floor(x) then
      io.stderr:write(("'%s' is not a list of positive integers\n%s\n"):format(s, USAGE)); os.exit(2)
    end
    t[#t + 1] = x
  end
  return t
end

local hidden = numbers(opt.hidden)
local d = data.mnist(opt.n > 0 and { n = opt.n } or nil)
local train, test = d.train, d.test

local function make_net()
  local sizes = { 784 }
  for _, h in ipairs(hidden) do sizes[#sizes + 1] = { h, "relu" } end
  sizes[#sizes + 1] = { 10, "softmax" }
  sizes.cost, sizes.seed = "log_likelihood", opt.seed   -- the default init: He on ReLU layers
  return network(sizes)
end

if opt.epochs > 0 then
  local net = make_net()
  print(("E2: MNIST %s, ReLU + softmax, log-likelihood, default init; %d training and %d test images")
    :format(table.concat(net.sizes, "-"), #train, #test))
  print(("lr %g, batch %d, %d epochs, seed %d, %s kernels"):format(opt.lr, opt.batch, opt.epochs,
    opt.seed, deltalab.isa))
  print(("%5s %11s %10s %9s %9s"):format("epoch", "train loss", "train acc", "test acc", "seconds"))

  local t = trainer{
    net = net, train = train, validation = test, batch = opt.batch, lr = opt.lr,
    epochs = opt.epochs, seed = opt.seed,
    on_epoch = function(tr, e)
      local h = tr.history
      print(("%5d %11.4f %9.2f%% %8.2f%% %9.1f"):format(e, h.train_loss[e], 100 * h.train_acc[e],
        100 * h.val_acc[e], h.seconds[e]))
    end,
  }
  t:run()
  local h = t.history
  local secs = h.seconds[h.epochs]
  print(("E2 test accuracy: %.2f%% after %d epochs (reference: about 98%% after 6)")
    :format(100 * h.val_acc[h.epochs], h.epochs))
  print(("training time %.1f s: %.0f samples/s"):format(secs, h.epochs * #train / secs))

  local show = cli.plots(opt, "mnist_deep")
  show("curves", "multiplot", { cols = 2,
    { "lines", { train = h.train_loss, test = h.val_loss, order = { "train", "test" },
                 title = "loss (log-likelihood)", xlabel = "epoch" } },
    { "lines", { train = h.train_acc, test = h.val_acc, order = { "train", "test" },
                 title = "accuracy", xlabel = "epoch", legend = "bottom right" } } })
end

-- Online versus mini-batch: the same network from the same start, trained at
-- each batch size for the same number of epochs (so the same samples seen).
if opt.compare then
  local sizes = numbers(opt.compare)
  local csub = opt.compare_n > 0 and opt.compare_n < #train and train:subset(1, opt.compare_n) or train
  print(("\nbatch size: speed and accuracy after %d epoch(s) on %d images, %s")
    :format(opt.compare_epochs, #csub, opt.compare_same_lr and ("lr %g"):format(opt.lr)
      or ("lr %g·B/%d"):format(opt.lr, opt.batch)))
  print(("%6s %9s %12s %10s %9s %9s"):format("batch", "lr", "samples/s", "steps", "test acc", "seconds"))
  for _, b in ipairs(sizes) do
    local n = make_net()
    local lr = opt.compare_same_lr and opt.lr or opt.lr * b / opt.batch
    local c = trainer{ net = n, train = csub, validation = test, batch = b, lr = lr,
                       epochs = opt.compare_epochs, seed = opt.seed }
    c:run()
    local ch = c.history
    local s = ch.seconds[ch.epochs]
    print(("%6d %9.4g %12.0f %10d %8.2f%% %9.1f"):format(b, lr, ch.epochs * #csub / s,
      ch.epochs * math.ceil(#csub / b), 100 * ch.val_acc[ch.epochs], s))
  end
end

cli.finish()
