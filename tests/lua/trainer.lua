-- trainer: training from Lua — toy problems learned, early stopping,
-- reproducible shuffling, schedules, callbacks, interruption, history shapes,
-- evaluation, and every argument error.
local T = require "check"

-- Sets built with matrix functions only (no dependence on the data module).
local function set_from(rows, labels)
  local X = matrix.zeros(#rows, #rows[1])
  local y = matrix.zeros(#rows, 1)
  for i, r in ipairs(rows) do
    for j, v in ipairs(r) do X:set(i, j, v) end
    y:set(i, 1, labels[i])
  end
  return { X = X, y = y }
end

local function xor_set()
  return set_from({ { 0, 0 }, { 1, 0 }, { 0, 1 }, { 1, 1 } }, { 0, 1, 1, 0 })
end

-- A tiny deterministic generator for test data (LCG), independent of the core's.
local function lcg(seed)
  local s = seed
  return function()
    s = (s * 1103515245 + 12345) % 2147483648
    return s / 2147483648
  end
end

-- k spiral arms of m points (CS231n's construction), with a little noise.
local function spirals(k, m, seed)
  local u = lcg(seed)
  local rows, labels = {}, {}
  for c = 0, k - 1 do
    for i = 0, m - 1 do
      local r = i / m
      local th = c * 4 + 4 * i / m + 0.2 * (u() + u() + u() - 1.5)
      rows[#rows + 1] = { r * math.sin(th), r * math.cos(th) }
      labels[#labels + 1] = c
    end
  end
  return set_from(rows, labels)
end

-- Gaussian-ish blobs around k points on a circle of radius sep.
local function blobs(k, m, sep, seed)
  local u = lcg(seed)
  local rows, labels = {}, {}
  for i = 0, k * m - 1 do
    local c = i % k
    local nx, ny = u() + u() + u() - 1.5, u() + u() + u() - 1.5
    rows[#rows + 1] = { sep * math.cos(2 * math.pi * c / k) + nx, sep * math.sin(2 * math.pi * c / k) + ny }
    labels[#labels + 1] = c
  end
  return set_from(rows, labels)
end

local function weights(net)
  local out = {}
  for l = 1, #net.layers do
    for _, name in ipairs{ "W", "b" } do
      local m = net.layers[l][name]
      local r, c = m:shape()
      for i = 1, r do for j = 1, c do out[#out + 1] = m:get(i, j) end end
    end
  end
  return out
end

local function same_weights(a, b)
  local wa, wb = weights(a), weights(b)
  if #wa ~= #wb then return false end
  for i = 1, #wa do if wa[i] ~= wb[i] then return false end end
  return true
end

local function softmax_net(sizes_hidden, seed)
  return network{ 2, { sizes_hidden, "tanh" }, { 2, "softmax" }, cost = "log_likelihood", seed = seed or 1 }
end

T.test("xor is learned", function()
  local net = softmax_net(4, 3)
  local set = xor_set()
  local t = trainer{ net = net, train = set, batch = 4, lr = 0.5, epochs = 1500, seed = 2 }
  T.eq(t:run(), t, "run returns the trainer")
  local loss, acc = trainer.evaluate(net, set)
  T.eq(acc, 1.0, "xor accuracy")
  T.truthy(loss < 0.05, "xor loss " .. loss)
end)

T.test("three spirals above 95%", function()
  local set = spirals(3, 100, 7)
  local net = network{ 2, { 64, "relu" }, { 3, "softmax" }, cost = "log_likelihood", init = "he", seed = 4 }
  trainer{ net = net, train = set, batch = 32, lr = 0.5, momentum = 0.9, epochs = 600, seed = 3 }:run()
  local _, acc = trainer.evaluate(net, set)
  T.truthy(acc > 0.95, "spiral accuracy " .. acc)
end)

T.test("early stopping restores the best epoch", function()
  -- Validation labels rotated: fitting the training set makes validation
  -- worse, so epoch 1 is the best and patience 2 stops after epoch 3.
  local set = blobs(3, 20, 3, 5)
  local vy = matrix.zeros(60, 1)
  for i = 1, 60 do vy:set(i, 1, (set.y:get(i, 1) + 1) % 3) end
  local val = { X = set.X, y = vy }
  local a = network{ 2, { 3, "softmax" }, cost = "log_likelihood", seed = 2 }
  local b = network{ 2, { 3, "softmax" }, cost = "log_likelihood", seed = 2 }
  local t = trainer{ net = a, train = set, validation = val, batch = 10, lr = 0.5,
                     epochs = 20, patience = 2, seed = 8 }
  t:run()
  T.eq(t.stopped, "early")
  T.eq(t.best_epoch, 1)
  T.eq(#t.history.val_loss, 3, "epochs recorded")
  T.truthy(t.history.val_loss[3] > t.history.val_loss[1], "validation got worse")
  trainer{ net = b, train = set, batch = 10, lr = 0.5, epochs = 1, seed = 8 }:run()
  T.truthy(same_weights(a, b), "weights are those after epoch 1")
  T.eq(t:run(), t)   -- stopped: run does nothing more
  T.eq(#t.history.val_loss, 3)
  t:run(2)           -- asked for more: goes on, then back to the best weights
  T.eq(#t.history.val_loss, 5)
  T.truthy(same_weights(a, b), "best weights again after the run")
  T.eq(t:restore_best(), 1)
end)

T.test("shuffle with a seed is reproducible", function()
  local set = blobs(2, 20, 1, 9)
  local nets = {}
  for i, seed in ipairs{ 42, 42, 43 } do
    nets[i] = softmax_net(5, 1)
    trainer{ net = nets[i], train = set, batch = 5, epochs = 3, seed = seed }:run()
  end
  T.truthy(same_weights(nets[1], nets[2]), "same seed, same weights")
  T.truthy(not same_weights(nets[1], nets[3]), "another seed, other weights")
  -- shuffle = false: the seed does not matter.
  local c, d = softmax_net(5, 1), softmax_net(5, 1)
  trainer{ net = c, train = set, batch = 5, epochs = 2, shuffle = false, seed = 1 }:run()
  trainer{ net = d, train = set, batch = 5, epochs = 2, shuffle = false, seed = 99 }:run()
  T.truthy(same_weights(c, d), "no shuffle: order fixed")
end)

T.test("schedules give the documented learning rates", function()
  local set = xor_set()
  local function lrs(schedule)
    local t = trainer{ net = softmax_net(2), train = set, lr = 0.8, epochs = 4, schedule = schedule }
    t:run()
    return t.history.lr
  end
  local function near_list(got, want)
    for i = 1, #want do T.near(got[i], want[i], 1e-7 * want[i], "lr of epoch " .. i) end
  end
  near_list(lrs(nil), { 0.8, 0.8, 0.8, 0.8 })
  near_list(lrs("step"), { 0.8, 0.4, 0.2, 0.1 })
  near_list(lrs{ "step", every = 2, gamma = 0.1 }, { 0.8, 0.8, 0.08, 0.08 })
  near_list(lrs("inv_t"), { 0.8, 0.4, 0.8 / 3, 0.2 })
  near_list(lrs{ "inv_t", decay = 0.5 }, { 0.8, 0.8 / 1.5, 0.4, 0.8 / 2.5 })
  near_list(lrs(function(e) return 1 / e end), { 1, 0.5, 1 / 3, 0.25 })
end)

T.test("a callback returning false stops training", function()
  local set = blobs(2, 20, 2, 1)   -- 40 rows, batch 4: 10 batches an epoch
  local seen = {}
  local t = trainer{ net = softmax_net(3), train = set, batch = 4, epochs = 3,
                     on_step = function(tr, e, b, loss)
                       seen[#seen + 1] = { e, b }
                       T.eq(type(loss), "number")
                       if e == 2 and b == 3 then return false end
                     end }
  t:run()
  T.eq(t.stopped, "callback")
  local e, b = t:position()
  T.eq(e, 1, "epochs done"); T.eq(b, 3, "batches done")
  T.eq(#seen, 13)
  T.eq(#t.history.train_loss, 1)
  t:run()                          -- goes on to the end
  T.eq(t.stopped, nil)
  T.eq(#t.history.train_loss, 3)
  t:run()                          -- already there: nothing
  T.eq(#t.history.train_loss, 3)
  t:step()
  t:run(2)                         -- the partial epoch counts as one of the 2
  T.eq(#t.history.train_loss, 5)
  T.eq(select(2, t:position()), 0)

  local epochs = {}
  local u = trainer{ net = softmax_net(3), train = set, batch = 4, epochs = 5,
                     on_epoch = function(tr, ep)
                       epochs[#epochs + 1] = ep
                       T.eq(#tr.history.train_loss, ep, "history is there in on_epoch")
                       return ep < 2
                     end }
  u:run()
  T.eq(#epochs, 2)
  T.eq(u.stopped, "callback")
end)

T.test("an error in a callback stops training, the network stays consistent", function()
  local set = blobs(2, 20, 2, 1)
  local net = softmax_net(3)
  local t = trainer{ net = net, train = set, batch = 4, epochs = 3,
                     on_step = function(tr, e, b)
                       if e == 2 and b == 5 then error("boom in the callback") end
                     end }
  T.checkerror("boom in the callback", t.run, t)
  local e, b = t:position()
  T.eq(e, 1); T.eq(b, 5)
  T.eq(#t.history.train_loss, 1)
  -- The network still works, and training resumes to the same end as a run
  -- without the error.
  local loss = trainer.evaluate(net, set)
  T.truthy(loss == loss, "finite loss")
  local ok = pcall(t.run, t)   -- the callback raises only at epoch 2 batch 5
  T.truthy(ok, "resumed run")
  local other = softmax_net(3)
  trainer{ net = other, train = set, batch = 4, epochs = 3 }:run()
  T.truthy(same_weights(net, other), "same weights as an uninterrupted run")

  T.eq(t.stopped, nil, "an error is not a stop asked for")

  local bad = trainer{ net = softmax_net(3), train = set, schedule = function() return "fast" end }
  T.checkerror("trainer: schedule(1) must return a learning rate >= 0, got string", bad.run, bad)
  T.eq(select(2, bad:position()), 0, "no batch before the schedule's η")

  -- on_epoch's error: the epoch is in the history, the next run goes on.
  local calls = 0
  local u = trainer{ net = softmax_net(3), train = set, batch = 4, epochs = 3,
                     on_epoch = function(tr, ep)
                       calls = calls + 1
                       if calls == 2 then error({ code = 7 }) end   -- any value, not only strings
                     end }
  local ok, err = pcall(u.run, u)
  T.eq(ok, false); T.eq(type(err), "table"); T.eq(err.code, 7)
  T.eq(#u.history.train_loss, 2); T.eq(u.history.epochs, 2)
  T.eq(u:run(), u)
  T.eq(#u.history.train_loss, 3)

  -- The REPL's Ctrl-C inside a callback arrives as the error "interrupted":
  -- it is reported with the place, like the core's own interruption.
  local w = trainer{ net = softmax_net(3), train = set, batch = 4, epochs = 3,
                     on_step = function(tr, e, b) if e == 1 and b == 4 then error("interrupted", 0) end end }
  T.checkerror("^interrupted after batch 4 of epoch 1$", w.run, w)
  T.eq(w.stopped, "interrupted")
end)

T.test("the interrupt flag stops between batches", function()
  local set = blobs(2, 20, 2, 1)
  local net = softmax_net(3)
  local t = trainer{ net = net, train = set, batch = 4, epochs = 3,
                     on_step = function(tr, e, b) if e == 2 and b == 7 then require("deltalab.sys").interrupt() end end }
  -- Raised in the callback after batch 7: batch 8 is the one under way.
  T.checkerror("^interrupted after batch 8 of epoch 2$", t.run, t)
  T.eq(t.stopped, "interrupted")
  local e, b = t:position()
  T.eq(e, 1); T.eq(b, 8)
  T.eq(#t.history.train_loss, 1)
  -- The flag was cleared by the report: a new run goes to the end.
  local u = trainer{ net = net, train = set, batch = 4, epochs = 3 }
  T.truthy(pcall(u.run, u), "flag cleared")
  -- Set before a run: stops after the first batch.
  local v = trainer{ net = softmax_net(3), train = set, batch = 4, epochs = 2 }
  require("deltalab.sys").interrupt()
  T.checkerror("interrupted after batch 1 of epoch 1", v.run, v)
end)

T.test("history shapes", function()
  local set = blobs(2, 20, 2, 1)
  local t = trainer{ net = softmax_net(3), train = set, batch = 8, epochs = 3, record_steps = true }
  t:run()
  local h = t.history
  T.eq(h.epochs, 3)
  for _, k in ipairs{ "train_loss", "train_acc", "seconds", "lr" } do T.eq(#h[k], 3, k) end
  T.eq(#h.val_loss, 0, "no validation")
  T.eq(#h.step_loss, 15, "5 batches x 3 epochs")
  T.truthy(h.seconds[3] >= h.seconds[1], "seconds grow")
  local v = trainer{ net = softmax_net(3), train = set, validation = set, epochs = 2 }
  v:epoch()
  T.eq(#v.history.val_loss, 1); T.eq(#v.history.val_acc, 1)
  T.eq(v.history.step_loss, nil, "no step record unless asked")
  T.eq(type(v:step()), "number", "step returns the cost")
  T.eq(select(2, v:position()), 1)
  v:epoch()
  T.eq(#v.history.val_acc, 2)

  -- Regression: targets, no accuracies.
  local X, Y = matrix.zeros(20, 1), matrix.zeros(20, 1)
  for i = 1, 20 do X:set(i, 1, i / 10); Y:set(i, 1, 3 * i / 10 - 1) end
  local net = network{ 1, { 1, "linear" }, cost = "quadratic" }
  local r = trainer{ net = net, train = { X = X, Y = Y }, validation = { X = X, Y = Y },
                     batch = 20, lr = 0.3, epochs = 1500 }
  r:run()
  T.eq(#r.history.train_acc, 0); T.eq(#r.history.val_acc, 0); T.eq(#r.history.val_loss, 1500)
  T.near(net.layers[1].W:get(1, 1), 3, 1e-2, "slope")
  T.near(net.layers[1].b:get(1, 1), -1, 1e-2, "intercept")
  local loss, acc = trainer.evaluate(net, { X = X, Y = Y })
  T.truthy(loss < 1e-4 and acc == nil, "regression evaluate gives the loss only")
end)

T.test("steps allocate no Lua memory, callbacks included", function()
  -- The C core's side is counted in test_train.c; here the binding's loop:
  -- 500 steps may only add the epoch's history entries (a few numbers).
  local X, y = matrix.zeros(2000, 20), matrix.zeros(2000, 1)
  local net = network{ 20, { 30, "relu" }, { 2, "softmax" }, cost = "log_likelihood" }
  for _, cb in ipairs{ false, true } do
    local t = trainer{ net = net, train = { X = X, y = y }, batch = 4, epochs = 10, progress = false,
                       on_step = cb and function() end or nil }
    t:epoch(); t:epoch()
    collectgarbage(); collectgarbage("stop")
    local before = collectgarbage("count")
    t:epoch()
    local grown = (collectgarbage("count") - before) * 1024
    collectgarbage("restart")
    T.truthy(grown < 1000, ("%d bytes over 500 steps"):format(grown))
  end
end)

T.test("evaluate and most confident errors", function()
  local set = blobs(3, 30, 1, 4)
  local net = network{ 2, { 3, "softmax" }, cost = "log_likelihood", seed = 9 }
  local loss, acc, cm = trainer.evaluate(net, set)
  local r, c = cm:shape()
  T.eq(r, 3); T.eq(c, 3)
  local total, diag = 0, 0
  for i = 1, 3 do for j = 1, 3 do total = total + cm:get(i, j) end diag = diag + cm:get(i, i) end
  T.eq(total, 90); T.near(acc, diag / 90, 1e-12)
  -- The same by hand with net:forward and the outputs.
  local idx, pred, conf = trainer.most_confident_errors(net, set, 90)
  T.eq(#idx, 90 - diag)
  for i = 2, #conf do T.truthy(conf[i] <= conf[i - 1], "sorted by confidence") end
  for i = 1, #idx do
    T.truthy(pred[i] ~= set.y:get(idx[i], 1), "a real error")
  end
  local idx3 = trainer.most_confident_errors(net, set, 3)
  T.eq(#idx3, math.min(3, #idx))
  T.eq(idx3[1], idx[1])
  T.truthy(math.abs(loss) < 1e9)
end)

T.test("the perceptron rule learns a separable set", function()
  local set = blobs(2, 30, 4, 12)
  local net = network{ 2, { 1, "step" }, init = "zeros" }
  local t = trainer{ net = net, train = set, batch = 1, lr = 1, epochs = 30, rule = "perceptron" }
  t:run()
  local _, acc = trainer.evaluate(net, set)
  T.eq(acc, 1.0)
  T.checkerror("rule perceptron needs a network of one step layer",
    trainer, { net = softmax_net(2), train = set, rule = "perceptron" })
end)

T.test("argument errors", function()
  local set = xor_set()
  local net = softmax_net(2)
  local function make(extra)
    local o = { net = net, train = set }
    for k, v in pairs(extra) do o[k] = v end
    return trainer(o)
  end
  T.checkerror("bad argument #1 to 'deltalab.trainer.new' (table of options expected, got number)", trainer.new, 5)
  T.checkerror("trainer: option 'net' is required", trainer, { train = set })
  T.checkerror("trainer: option 'net' must be a network, got number", trainer, { net = 5, train = set })
  T.checkerror("trainer: option 'train' is required", trainer, { net = net })
  T.checkerror("trainer: train must be a dataset (a table with X and y), got number", make, { train = 5 })
  T.checkerror("trainer: train.X must be a matrix", make, { train = { y = set.y } })
  T.checkerror("trainer: train has neither y (labels) nor Y (targets)", make, { train = { X = set.X } })
  T.checkerror("trainer: train.y must be an Nx1 matrix of labels, got string", make, { train = { X = set.X, y = "a" } })
  -- A typo names the function, the near name and every valid one.
  local valid = "net, train, validation, batch, lr, epochs, lambda, momentum, shuffle, seed, "
    .. "patience, restore_best, monitor, schedule, rule, on_step, on_epoch, record_steps, "
    .. "progress, eval_batch, on_nan, checkpoint, every"
  local ok, msg = pcall(trainer, { net = net, train = set, lrr = 1 })
  T.eq(ok, false)
  T.eq(msg, "trainer: unknown option 'lrr' (did you mean 'lr'? expected one of " .. valid .. ")")
  T.checkerror("trainer: unknown option 'lamda' (did you mean 'lambda'?", make, { lamda = 1 })
  T.checkerror("trainer: unknown option '[1]' (expected one of net, train,", make, { [1] = 3 })
  T.checkerror("trainer: option 'batch' must be an integer from 1 to 2147483647, got 0", make, { batch = 0 })
  T.checkerror("trainer: option 'batch' must be an integer, got 1.5", make, { batch = 1.5 })
  T.checkerror("trainer: option 'epochs' must be an integer from 1 to 2147483647, got 0", make, { epochs = 0 })
  T.checkerror("trainer: option 'lr' must be a number, got string", make, { lr = "fast" })
  T.checkerror("trainer: lr -1 must be a finite number >= 0", make, { lr = -1 })
  T.checkerror("trainer: lambda -1 must be a finite number >= 0", make, { lambda = -1 })
  T.checkerror("trainer: momentum 1 must be in [0, 1)", make, { momentum = 1 })
  T.checkerror("trainer: option 'shuffle' must be true or false, got number", make, { shuffle = 1 })
  T.checkerror("trainer: option 'seed' must be an integer, got 1.5", make, { seed = 1.5 })
  T.checkerror("trainer: option 'patience' must be an integer from 0 to 2147483647, got -1", make, { patience = -1 })
  T.checkerror("trainer: patience needs a validation set to watch", make, { patience = 3 })
  T.checkerror("trainer: invalid monitor 'val_los' (did you mean 'val_loss'? expected one of val_loss, val_acc)",
    make, { monitor = "val_los" })
  T.checkerror("trainer: invalid rule 'perceptrn' (did you mean 'perceptron'? expected one of backprop, perceptron)",
    make, { rule = "perceptrn" })
  T.checkerror("trainer: invalid schedule 'exp' (expected one of constant, step, inv_t, custom)", make, { schedule = "exp" })
  T.checkerror("trainer: invalid schedule 'setp' (did you mean 'step'?", make, { schedule = { "setp" } })
  T.checkerror("trainer: option 'schedule' must be a name, a table or a function, got number", make, { schedule = 3 })
  T.checkerror("trainer schedule: option 'every' must be an integer from 1 to 2147483647, got 0", make,
    { schedule = { "step", every = 0 } })
  T.checkerror("trainer schedule: unknown option 'evry' (did you mean 'every'? expected one of every, gamma, decay)",
    make, { schedule = { "step", evry = 2 } })
  T.checkerror("trainer: schedule 'custom' is given as a function(epoch) returning lr", make, { schedule = "custom" })
  T.checkerror("trainer: schedule step gamma -1 must be > 0", make, { schedule = { "step", gamma = -1 } })
  T.checkerror("trainer: option 'on_step' must be a function, got number", make, { on_step = 1 })
  T.checkerror("trainer: option 'on_epoch' must be a function, got string", make, { on_epoch = "x" })
  T.checkerror("trainer: option 'progress' must be true or false, got number", make, { progress = 1 })
  T.checkerror("trainer: option 'restore_best' must be true or false, got string", make, { restore_best = "yes" })
  T.checkerror("trainer: option 'eval_batch' must be an integer from 1 to 2147483647, got 0", make, { eval_batch = 0 })
  T.checkerror("trainer: validation must be a dataset", make, { validation = 1 })
  local wide = { X = matrix.zeros(4, 3), y = set.y }
  T.checkerror("trainer: train.X has 3 columns but the network takes 2 inputs", make, { train = wide })
  local bad = { X = set.X, y = matrix.zeros(4, 1) }
  bad.y:set(3, 1, 7)
  T.checkerror("trainer: train.y row 3 holds 7, not a label 0..1 of this 2-output network", make, { train = bad })
  T.checkerror("trainer: train.y is 3x1 but train.X has 4 rows", make,
    { train = { X = set.X, y = matrix.zeros(3, 1) } })
  T.checkerror("trainer: validation.X has 3 columns", make, { validation = wide })

  local t = make{}
  T.checkerror("(trainer expected, got number)", t.run, 5)
  T.checkerror("(trainer expected, got table)", t.step, {})
  T.checkerror("(number of epochs must be at least 1)", t.run, t, 0)
  T.checkerror("trainer: no best epoch kept", t.restore_best, t)
  T.checkerror("(dataset expected, got number)", trainer.evaluate, net, 5)
  T.checkerror("network expected, got number", trainer.evaluate, 5, set)
  T.checkerror("evaluate: set.X has 3 columns but the network takes 2 inputs", trainer.evaluate, net, wide)
  T.checkerror("k must be >= 0, got -1", trainer.most_confident_errors, net, set, -1)
  T.checkerror("most_confident_errors: the set has no labels (y)", trainer.most_confident_errors,
    net, { X = set.X, Y = matrix.zeros(4, 2) })
  -- A matrix closed under a trainer is refused before the core touches it.
  local X = matrix.zeros(4, 2)
  local u = trainer{ net = net, train = { X = X, y = set.y } }
  X:close()
  T.checkerror("attempt to use a freed matrix", u.run, u)
  -- ... and so is one closed by a callback, before the next batch reads it.
  local X2 = matrix.rand(40, 2)
  local v = trainer{ net = net, train = { X = X2, y = matrix.zeros(40, 1) }, batch = 4,
                     on_step = function(tr, e, b) if b == 3 then X2:close() end end }
  T.checkerror("attempt to use a freed matrix", v.run, v)
  local n2 = softmax_net(2)
  local w = trainer{ net = n2, train = set, epochs = 3,
                     on_epoch = function() getmetatable(n2).__close(n2) end }
  T.checkerror("attempt to use a closed network", w.run, w)
  T.checkerror("attempt to use a closed network", w.run, w)
end)

T.test("progress bar only on a terminal (or when asked)", function()
  local prog = os.getenv("DELTALAB") or "./deltalab"
  local script = [[
    local X = matrix.zeros(4, 2); local y = matrix.zeros(4, 1)
    local net = network{2, {2, "softmax"}, cost = "log_likelihood"}
    trainer{net = net, train = {X = X, y = y}, epochs = 2, progress = %s}:run()
    io.write("done")]]
  local function run(p)
    local f = io.popen(prog .. " -e '" .. script:format(p) .. "'")
    local out = f:read("a")
    f:close()
    return out
  end
  T.eq(run("nil"), "done", "nothing on a pipe")
  local shown = run("true")
  T.truthy(shown:find("epoch 2/2", 1, true), "summary lines when asked: " .. shown)
  -- Two batches an epoch: the bar at batch 1 (drawn at once), then the
  -- summary line in its place; t:step() draws no bar, only a summary when
  -- its batch ends an epoch.
  script = [[
    local X = matrix.zeros(4, 2); local y = matrix.zeros(4, 1)
    local net = network{2, {2, "softmax"}, cost = "log_likelihood"}
    local t = trainer{net = net, train = {X = X, y = y}, batch = 2, epochs = 2, progress = %s}
    t:run(1); io.write("|"); t:step(); io.write("|"); t:step(); io.write("done")]]
  shown = run("true")
  local esc = "\r\27%[K"
  T.truthy(shown:find("^" .. esc .. "epoch 1/1 %[==========>         %] 1/2  loss %d%.%d+  acc %d+%.%d+%%  "
                      .. "%d+ samples/s  ETA %d+:%d%d" .. esc .. "epoch 1/1  loss %d%.%d+  acc %d+%.%d+%%  "
                      .. "%d+%.%ds\n|" .. "|" .. esc .. "epoch 2/2  loss [^\n]*\ndone$"), shown)
end)

-- The real thing, small: 2,000 MNIST images, 2 epochs, with validation.
local ok_mnist, mnist = pcall(data.mnist, { n = 2000 })
if ok_mnist then
  T.test("a 2-epoch MNIST smoke run on 2,000 images", function()
    local net = network{ 784, { 30, "relu" }, { 10, "softmax" }, cost = "log_likelihood",
                         init = "he", seed = 1 }
    local t = trainer{ net = net, train = mnist.train, validation = mnist.test, batch = 16,
                       lr = 0.1, epochs = 2, seed = 1 }
    t:run()
    T.eq(#t.history.val_acc, 2)
    -- 2,000 images and 2 epochs reach about 88 %; 80 % leaves room for noise
    -- while still catching a trainer that learns nothing (10 %).
    T.truthy(t.history.val_acc[2] > 0.8, "val acc " .. t.history.val_acc[2])
    local _, acc, cm = trainer.evaluate(net, mnist.test)
    T.near(acc, t.history.val_acc[2], 1e-12, "evaluate agrees with the history")
    local total = 0
    for i = 1, 10 do for j = 1, 10 do total = total + cm:get(i, j) end end
    T.eq(total, #mnist.test)
  end)
else
  T.skip("a 2-epoch MNIST smoke run on 2,000 images", "MNIST not found: " .. tostring(mnist):match("[^\n]*"))
end

T.done()
