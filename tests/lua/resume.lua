-- resume.lua — trainer checkpoints: t:save, trainer.load, trainer{checkpoint=, every=}.
-- Training that resumes must be exactly the training that never stopped:
-- the final weights are compared byte for byte (as network checkpoints) with
-- an uninterrupted run, in another process and after kill -9.
local T = require "check"
local sys = require "deltalab.sys"

local prog = os.getenv("DELTALAB") or "./deltalab"
local dir = os.tmpname()
os.remove(dir)
assert(sys.mkdir(dir))
local function path(name) return dir .. "/" .. name end
local function bytes(p)
  local f = io.open(p, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end
local function put(p, s)
  local f = assert(io.open(p, "wb"))
  f:write(s)
  f:close()
end

-- The one definition of the runs, for this process and the children: data,
-- network and trainer options (momentum, shuffling, validation, early
-- stopping with best weights kept, a step schedule, every step recorded).
local SETUP = [[
local set = data.spirals{n = 240, classes = 3, seed = 5}
local val = data.spirals{n = 60, classes = 3, seed = 6}
local function fresh_net() return network{2, {12, "tanh"}, 3, seed = 9, cost = "log_likelihood"} end
local function options(n, extra)
  local o = {net = n, train = set, validation = val, epochs = 4, batch = 16, lr = 0.3,
             momentum = 0.9, shuffle = true, seed = 42, patience = 10, progress = false,
             schedule = {"step", every = 2, gamma = 0.5}, record_steps = true}
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end
]]
local set, val, fresh_net, options = load(SETUP .. "return set, val, fresh_net, options")()

-- Run a deltalab script in a new process; its stdout.
local function child(script)
  put(path("child.lua"), SETUP .. script)
  local p = io.popen(prog .. " " .. path("child.lua") .. " 2>&1")
  local out = p:read("a")
  p:close()
  return out
end

local function history_text(h)
  local out = {}
  for _, k in ipairs{ "train_loss", "train_acc", "val_loss", "val_acc", "lr", "step_loss" } do
    for i, v in ipairs(h[k]) do out[#out + 1] = ("%s %d %.17g"):format(k, i, v) end
  end
  return table.concat(out, "\n")
end

-- The uninterrupted run everything is compared with.
local straight_net = fresh_net()
local straight = trainer(options(straight_net))
straight:run()
straight_net:save(path("straight.dln"))
local straight_bytes = bytes(path("straight.dln"))
put(path("straight.hist"), history_text(straight.history))

T.test("2 epochs + t:save + trainer.load in a new process + 2 epochs = 4 epochs, bit for bit", function()
  local t = trainer(options(fresh_net()))
  t:run(2)
  t.net:save(path("half.dln"))
  T.truthy(bytes(path("half.dln")) ~= straight_bytes, "the weights after 2 epochs differ from those after 4")
  T.eq(t:save(path("half.ckpt")), t, "t:save returns the trainer")
  local out = child(([[
local t = trainer.load(%q, {train = set, validation = val, progress = false})
assert(t:position() == 2)
t:run()
t.net:save(%q)
local h = {}
for _, k in ipairs{"train_loss", "train_acc", "val_loss", "val_acc", "lr", "step_loss"} do
  for i, v in ipairs(t.history[k]) do h[#h + 1] = ("%%s %%d %%.17g"):format(k, i, v) end
end
local f = io.open(%q, "w"); f:write(table.concat(h, "\n")); f:close()
print("done", t.history.epochs, t:lr())
]]):format(path("half.ckpt"), path("resumed.dln"), path("resumed.hist")))
  T.truthy(out:find("done\t4", 1, true), "the child ran to epoch 4: " .. out)
  T.truthy(bytes(path("resumed.dln")) == straight_bytes, "the resumed weights are the straight run's, byte for byte")
  T.eq(bytes(path("resumed.hist")), bytes(path("straight.hist")), "history (losses, accuracies, lr, every step)")
end)

T.test("a save in the middle of an epoch resumes at that batch", function()
  local t = trainer(options(fresh_net()))
  t:run(1)
  for _ = 1, 5 do t:step() end
  t:save(path("mid.ckpt"))
  local back = trainer.load(path("mid.ckpt"), {train = set, validation = val, progress = false})
  local e, b = back:position()
  T.eq(e, 1, "epochs done")
  T.eq(b, 5, "batches of the epoch done")
  back:run()
  back.net:save(path("mid.dln"))
  T.truthy(bytes(path("mid.dln")) == straight_bytes, "identical to the straight run")
end)

T.test("the weights alone do not resume: velocities, order and schedule are needed", function()
  -- The control that shows the comparison above can fail: a fresh trainer on
  -- the 2-epoch weights (zero velocity, a new permutation stream, epoch 0 of
  -- the schedule) ends elsewhere.
  local t = trainer(options(fresh_net()))
  t:run(2)
  t.net:save(path("w2.dln"))
  local n = network.load(path("w2.dln"))
  trainer(options(n, {epochs = 2})):run()
  n:save(path("naive.dln"))
  T.truthy(bytes(path("naive.dln")) ~= straight_bytes, "weights-only resumption differs")
end)

T.test("what trainer.load gives back: settings, history, position, best epoch", function()
  local t = trainer(options(fresh_net()))
  t:run(3)
  t:save(path("three.ckpt"))
  local back = trainer.load(path("three.ckpt"), {train = set, validation = val})
  T.eq(back.history.epochs, 3, "history epochs")
  for i = 1, 3 do
    T.eq(back.history.val_loss[i], t.history.val_loss[i], "val_loss " .. i)
    T.eq(back.history.lr[i], t.history.lr[i], "lr " .. i)
  end
  T.eq(#back.history.step_loss, #t.history.step_loss, "recorded steps")
  T.eq(back.best_epoch, t.best_epoch, "best epoch")
  T.eq(back.settings.momentum, t.settings.momentum, "settings.momentum")
  T.eq(back.settings.schedule, "step", "settings.schedule")
  T.eq(back:lr(), t:lr(), "lr of the coming epoch")
  T.eq(tostring(back), tostring(t), "tostring")
  T.truthy(getmetatable(back.net).__name == "network", "back.net is a network")
end)

T.test("a different data set is an error that says which and how", function()
  local t = trainer(options(fresh_net()))
  t:run(1)
  t:save(path("one.ckpt"))
  local p = path("one.ckpt")
  T.checkerror("the training set is 60 x 2 with 1 column of labels, not the checkpoint's 240 x 2",
               trainer.load, p, {train = val, validation = val})
  local other = data.spirals{n = 240, classes = 3, seed = 77}   -- same sizes, other values
  T.checkerror("the training set has the checkpoint's sizes (240 x 2) but other values",
               trainer.load, p, {train = other, validation = val})
  T.checkerror("the checkpoint was made with a validation set: give it again", trainer.load, p, {train = set})
  -- and the other way: made without validation, loaded with one
  local o = options(fresh_net(), {patience = 0})
  o.validation = nil
  trainer(o):save(path("noval.ckpt"))
  T.checkerror("the checkpoint was made without a validation set, but one was given",
               trainer.load, path("noval.ckpt"), {train = set, validation = val})
  T.truthy(trainer.load(path("noval.ckpt"), {train = set}), "loads without one")
end)

T.test("trainer.load checks its arguments", function()
  local t = trainer(options(fresh_net()))
  t:save(path("zero.ckpt"))
  local p = path("zero.ckpt")
  T.checkerror("unknown option 'lr'", trainer.load, p, {train = set, validation = val, lr = 1})
  T.checkerror("option 'train' is required", trainer.load, p, {validation = val})
  T.checkerror("table of options (train = the training set, ...) expected, got no value", trainer.load, p)
  T.checkerror("option 'schedule' is only for a checkpoint whose schedule is a function (this one's is 'step'",
               trainer.load, p, {train = set, validation = val, schedule = function() return 1 end})
  T.checkerror("option 'every' needs option 'checkpoint'", trainer.load, p, {train = set, validation = val, every = 2})
  T.checkerror("trainer.load: " .. path("none.ckpt") .. ": No such file or directory",
               trainer.load, path("none.ckpt"), {train = set, validation = val})
  T.checkerror("trainer:save: cannot write " .. path("no/dir.ckpt") .. ": No such file or directory",
               t.save, t, path("no/dir.ckpt"))
end)

T.test("a function schedule must be given again, and then resumes exactly", function()
  local sched = function(e) return 0.3 / e end
  local a = trainer(options(fresh_net(), {schedule = sched}))
  a:run()
  local b = trainer(options(fresh_net(), {schedule = sched}))
  b:run(2)
  b:save(path("fn.ckpt"))
  T.checkerror("the checkpoint's schedule is a Lua function", trainer.load, path("fn.ckpt"),
               {train = set, validation = val})
  local c = trainer.load(path("fn.ckpt"), {train = set, validation = val, schedule = sched})
  c:run()
  a.net:save(path("fa.dln"))
  c.net:save(path("fc.dln"))
  T.truthy(bytes(path("fa.dln")) == bytes(path("fc.dln")), "identical weights")
  T.eq(c.history.lr[4], a.history.lr[4], "lr of epoch 4, as the straight run")
end)

T.test("damaged checkpoints are refused with a reason", function()
  local t = trainer(options(fresh_net()))
  t:run(1)
  t:save(path("good.ckpt"))
  local good = bytes(path("good.ckpt"))
  local function refused(name, content, why)
    put(path(name), content)
    T.checkerror(why, trainer.load, path(name), {train = set, validation = val})
  end
  refused("cut.ckpt", good:sub(1, #good - 10), "truncated (" .. #good .. " bytes expected, the file has " .. (#good - 10) .. ")")
  refused("long.ckpt", good .. "xyz", "3 unexpected bytes after the end")
  refused("head.ckpt", good:sub(1, 100), "truncated header")
  local mid = #good // 2
  refused("flip.ckpt", good:sub(1, mid - 1) .. string.char((good:byte(mid) + 1) % 256) .. good:sub(mid + 1),
          "checksum mismatch")
  refused("text.ckpt", "hello, this is not a checkpoint at all", "not a deltalab trainer checkpoint (bad magic)")
  t.net:save(path("net.dln"))
  T.checkerror("a network checkpoint, not a trainer's", trainer.load, path("net.dln"), {train = set, validation = val})
  -- a newer version: the version field is the u32 after the magic
  refused("v2.ckpt", good:sub(1, 8) .. string.char(2, 0, 0, 0) .. good:sub(13),
          "format version 2 is newer than this deltalab reads (1)")
end)

T.test("checkpoint = ..., every = k saves every k epochs and at the end of a run", function()
  local seen = {}
  local t = trainer(options(fresh_net(), {epochs = 5, checkpoint = path("run.ckpt"), every = 2,
    on_epoch = function(tr, e)
      local f = io.open(path("run.ckpt"), "rb")
      if f then
        f:close()
        seen[e] = trainer.load(path("run.ckpt"), {train = set, validation = val}):position()
      else
        seen[e] = "none"
      end
    end}))
  t:run()
  T.eq(seen[1], "none", "after epoch 1")
  T.eq(seen[2], 2, "after epoch 2")
  T.eq(seen[3], 2, "after epoch 3")
  T.eq(seen[4], 4, "after epoch 4")
  T.eq(trainer.load(path("run.ckpt"), {train = set, validation = val}):position(), 5, "at the end of the run")
  T.truthy(not bytes(path(".run.ckpt.deltalab-tmp")), "no temporary left")
  T.checkerror("option 'every' must be", trainer, options(fresh_net(), {checkpoint = path("x.ckpt"), every = 0}))
  T.checkerror("trainer: option 'every' needs option 'checkpoint'", trainer, options(fresh_net(), {every = 2}))
end)

T.test("Ctrl-C during t:run() saves the checkpoint and says so", function()
  local t = trainer(options(fresh_net(), {checkpoint = path("int.ckpt"),
    on_step = function(tr, e, b) if e == 2 and b == 3 then sys.interrupt() end end}))
  local ok, err = pcall(t.run, t)
  -- the flag is seen after the next batch (the loop polls it before on_step)
  T.truthy(not ok and tostring(err):find("interrupted after batch 4 of epoch 2 (saved to " .. path("int.ckpt") .. ")", 1, true),
           "the message: " .. tostring(err))
  local back = trainer.load(path("int.ckpt"), {train = set, validation = val})
  local e, b = back:position()
  T.eq(e, 1, "epochs done")
  T.eq(b, 4, "batches of epoch 2 done")
  back:run()
  back.net:save(path("int.dln"))
  T.truthy(bytes(path("int.dln")) == straight_bytes, "resumed after Ctrl-C: identical to the straight run")
end)

T.test("kill -9 of a run with checkpoint, every = 1: resumed from the last checkpoint, identical", function()
  -- The child trains slowly (a busy callback, slower from epoch 3) and
  -- reports each epoch; it is killed while training epoch 3, after its
  -- second checkpoint.
  put(path("killed.lua"), SETUP .. ([[
local t = trainer(options(fresh_net(), {checkpoint = %q, every = 1,
  on_step = function(tr, e)   -- slow from epoch 3 on, so that the kill lands inside it
    local x = 0
    for i = 1, e >= 3 and 5000000 or 20000 do x = x + i end
  end,
  on_epoch = function(tr, e) io.stdout:write("epoch ", e, "\n"); io.stdout:flush() end}))
t:run()
print("finished")
]]):format(path("killed.ckpt")))
  local p = io.popen("sh -c '" .. prog .. " " .. path("killed.lua") .. " > " .. path("killed.out") ..
                     " 2>&1 & echo $!'")
  local pid = p:read("l")
  p:close()
  local t0, out = sys.clock(), ""
  while sys.clock() - t0 < 20 do
    out = bytes(path("killed.out")) or ""
    if out:find("epoch 2", 1, true) then break end
    os.execute("sleep 0.01")
  end
  os.execute("kill -9 " .. pid .. " 2>/dev/null; sleep 0.2")
  T.truthy(out:find("epoch 2", 1, true) and not out:find("finished", 1, true),
           "killed after epoch 2 and before the end: " .. out)
  local back = trainer.load(path("killed.ckpt"), {train = set, validation = val, progress = false})
  local e = back:position()
  T.truthy(e >= 2 and e < 4, "the last checkpoint is of epoch 2 or 3, got " .. e)
  io.stderr:write(("killed after epoch %d; resumed from the checkpoint of epoch %d\n"):format(
    tonumber(out:match("epoch (%d+)%s*$")) or -1, e))
  back:run()
  back.net:save(path("killed.dln"))
  T.truthy(bytes(path("killed.dln")) == straight_bytes, "identical to the straight run")
end)

os.execute("rm -rf '" .. dir .. "'")
T.done()
