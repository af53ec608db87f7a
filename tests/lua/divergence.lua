-- Divergence is caught where it happens, and the default init trains: a
-- non-finite batch loss stops t:run() at that batch, before its update, with a
-- message that says where and what to change; init = "auto" (the default)
-- keeps a deep ReLU network finite where the book's N(0, 1) overflows.
local T = require "check"

-- Every element of a equals b's (bit for bit, as floats).
local function same(a, b)
  local ta, tb = a:totable(), b:totable()
  for i = 1, #ta do
    for j = 1, #ta[i] do
      if ta[i][j] ~= tb[i][j] then return false end
    end
  end
  return #ta == #tb
end

local function spiral_net(init)
  return network{ 2, { 200, "relu" }, { 200, "relu" }, { 3, "softmax" },
                  cost = "log_likelihood", init = init, seed = 1 }
end

-- lr 1e6 makes the second update overflow layer 3 on these spirals.
local function wild(net, opts)
  local o = { net = net, train = data.spirals{ n = 300, seed = 1 }, lr = 1e6, batch = 10,
              epochs = 3, progress = false }
  for k, v in pairs(opts or {}) do o[k] = v end
  return trainer(o)
end

T.test("a diverging run stops at the first non-finite batch loss, before its update", function()
  -- The batch where the loss first turns non-finite, seen by a run that trains on.
  local watch = wild(spiral_net("nielsen"), { on_nan = "continue", record_steps = true })
  local first
  for b = 1, 30 do
    local loss = watch:step()
    if loss ~= loss or loss == math.huge or loss == -math.huge then first = b break end
  end
  T.truthy(first ~= nil and first > 1, "the run diverges after its first batch: " .. tostring(first))

  local net = spiral_net("nielsen")
  local t = wild(net)
  local ok, err = pcall(t.run, t)
  T.truthy(not ok, "t:run() raised")
  T.eq(tonumber(err:match("diverged at epoch 1, batch (%d+)")), first,
    "the batch named is the first non-finite one")
  T.truthy(err:find("the loss is NaN", 1, true) or err:find("the loss is infinite", 1, true),
    "names the loss: " .. err)
  T.truthy(err:find("layer %d's activations overflowed") or err:find("output layer overflowed"),
    "names the layer that overflowed: " .. err)
  T.truthy(err:find("lower lr (1e+06)", 1, true), "suggests a lower lr, with its value: " .. err)
  T.truthy(err:find('init = "auto"', 1, true), "suggests the scaled init after nielsen: " .. err)
  T.eq(t.stopped, "diverged")
  local epochs, batches = t:position()
  T.eq(epochs, 0); T.eq(batches, first - 1, "the failed batch is not counted")

  -- The weights are those after first - 1 updates: replay them on a twin.
  local twin = spiral_net("nielsen")
  local tt = wild(twin, { on_nan = "continue" })
  for _ = 1, first - 1 do tt:step() end
  for l = 1, 3 do
    local a, b = net.layers[l].W, twin.layers[l].W
    T.truthy(same(a, b), ("layer %d's W is as before the failed batch's update"):format(l))
    T.truthy(same(net.layers[l].b, twin.layers[l].b), ("layer %d's b likewise"):format(l))
  end
end)

T.test("on_nan = 'continue' trains on; on_nan is checked", function()
  local t = wild(spiral_net("nielsen"), { on_nan = "continue", epochs = 1 })
  t:run()
  local loss = t.history.train_loss[1]
  T.truthy(loss ~= loss, "the epoch's loss is NaN: " .. tostring(loss))
  T.checkerror("trainer: invalid on_nan 'go' (expected one of stop, continue)", trainer,
    { net = spiral_net(), train = data.spirals{ n = 30 }, on_nan = "go" })
  T.eq(trainer{ net = spiral_net(), train = data.spirals{ n = 30 } }.settings.on_nan, "stop")
end)

T.test("the hint leaves init alone when the init was already scaled", function()
  local t = wild(spiral_net("he"), { lr = 1e9 })
  local ok, err = pcall(t.run, t)
  T.truthy(not ok and err:find("diverged", 1, true), "diverges at lr 1e9: " .. tostring(err))
  T.truthy(not err:find("init =", 1, true), "no init hint after he: " .. err)
end)

T.test("net:step at the prompt warns once when the cost stops being finite", function()
  local exe = os.getenv("DELTALAB") or "./deltalab"
  local script = 'local n = network{2, {3, "relu"}, {2, "linear"}, init = "nielsen", seed = 1} '
    .. 'local c for i = 1, 80 do c = n:step({10, 10}, {0, 1}, {lr = 10}) end '
    .. 'io.write(c ~= c and "NAN" or tostring(c))'
  local p = io.popen(exe .. " -e '" .. script .. "' 2>&1")
  local out = p:read("a")
  p:close()
  local _, warnings = out:gsub("warning: network:step: the cost is", "")
  T.eq(warnings, 1, "warnings in: " .. out)
  T.truthy(out:find('init = "auto"', 1, true), "suggests the default init: " .. out)
  T.truthy(out:find("NAN$"), "the steps went on to NaN: " .. out)
end)

-- The E2 network of the experiments: 784-3136-1568-10 ReLU, softmax, lr 0.1,
-- batch 32. With N(0, 1) its first batches overflow; with the default init
-- they train.
local ok, d = pcall(data.mnist, { n = 2000 })
if not ok then
  T.skip("E2 with the default init", "MNIST not found (make data, or ../shared/data/mnist)")
else
  local function e2(init)
    return network{ 784, { 3136, "relu" }, { 1568, "relu" }, { 10, "softmax" },
                    cost = "log_likelihood", init = init, seed = 1 }
  end
  T.test("E2 with init = 'nielsen' diverges within its first batches", function()
    local t = trainer{ net = e2("nielsen"), train = d.train, lr = 0.1, batch = 32,
                       progress = false }
    local okr, err = pcall(t.run, t)
    T.truthy(not okr and err:find("diverged at epoch 1", 1, true), tostring(err))
    T.truthy(tonumber(err:match("batch (%d+)")) <= 20, "within 20 batches: " .. err)
  end)
  T.test("E2 with the default init trains 40 batches, its loss falling", function()
    local t = trainer{ net = e2(), train = d.train, lr = 0.1, batch = 32, progress = false,
                       record_steps = true }
    local first, last = t:step(), nil
    for _ = 2, 40 do last = t:step() end
    T.truthy(first == first and last == last, "finite losses")
    T.truthy(last < first * 0.7, ("loss %.3f after 40 batches, from %.3f"):format(last, first))
  end)
end

T.done()
