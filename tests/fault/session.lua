-- session.lua — the scripted session the fault-injection sweeps run: build,
-- train a few steps, save, load, write a plot script, read data back. Each
-- stage runs under pcall; an injected failure must surface as a clean Lua
-- error, and since the fault is transient the retry must succeed and the
-- session end with the same figures as a run without faults.
local dir = assert(arg[1], "usage: session.lua DIR")

local function attempt(name, f)
  local ok, r = pcall(f)
  if ok then return r end
  if type(r) ~= "string" then error(name .. ": error object is not a message: " .. tostring(r)) end
  io.stderr:write("recovered: ", name, ": ", r, "\n")
  local ok2, r2 = pcall(f)
  if not ok2 then error(name .. ": failed again after a transient fault: " .. tostring(r2), 0) end
  return r2
end

local x = attempt("matrix", function() return matrix{ { 0.05, 0.10 }, { 0.3, 0.7 } } end)
local y = attempt("labels", function() return matrix{ { 0.01, 0.99 }, { 0.9, 0.1 } } end)
local net = attempt("network", function()
  return network{ 2, { 3, "tanh" }, 2, init = {
    { W = { { 0.1, 0.2 }, { -0.3, 0.4 }, { 0.5, -0.6 } }, b = { 0.1, 0.2, 0.3 } },
    { W = { { 0.15, 0.25, 0.35 }, { -0.45, 0.55, 0.65 } }, b = { 0.0, 0.1 } } } }
end)
-- One step at a time from a saved copy, so a failure inside a step leaves
-- nothing half-done: the retry starts from the same weights.
for i = 1, 3 do
  local before = attempt("save before step", function() net:save(dir .. "/before.dln"); return true end)
  assert(before)
  attempt("step " .. i, function()
    local ok, err = pcall(net.step, net, x, y, { lr = 0.5 })
    if not ok then net = network.load(dir .. "/before.dln"); error(err, 0) end
  end)
end
-- A failed save leaves the old file as it was, and says which file and why
-- (for an injected write failure: the reason is the one injected).
-- A broken promise is not a transient fault to retry: the session ends there.
local io_faults = (tonumber(os.getenv("DELTALAB_FAIL_IO")) or 0) > 0
local function broken(msg)
  io.stderr:write("broken: ", msg, "\n")
  os.exit(3)
end
local function save_over(name, path, save, read)
  local old = read(path)
  attempt(name, function()
    local ok, err = pcall(save, path)
    if ok then return end
    err = tostring(err)
    if not err:find(path, 1, true) then broken(name .. ": the error does not name the file: " .. err) end
    if io_faults and not (err:find("No space left on device", 1, true) or err:find("Input/output error", 1, true)) then
      broken(name .. ": the error does not give the reason: " .. err)
    end
    if read(path) ~= old then broken(name .. ": the old file changed after a failed save: " .. err) end
    error(err, 0)
  end)
end
local function bytes(path) local f = io.open(path, "rb"); local s = f and f:read("a"); if f then f:close() end; return s end
save_over("save over", dir .. "/before.dln", function(p) net:save(p) end, bytes)
attempt("save", function() net:save(dir .. "/net.dln") end)
local back = attempt("load", function() return network.load(dir .. "/net.dln") end)
local cost = attempt("cost", function() return back:cost(x, y) end)
attempt("npy", function() back.layers[1].W:save(dir .. "/W.npy") end)
save_over("npy over", dir .. "/W.npy", function(p) back.layers[2].W:save(p) end, bytes)
attempt("npy again", function() back.layers[1].W:save(dir .. "/W.npy") end)
local W = attempt("npy back", function() return matrix.load(dir .. "/W.npy") end)
local set = attempt("dataset", function() return data.xor() end)
local t = attempt("trainer", function()
  return trainer{ net = network{ 2, 4, 1, seed = 3 }, train = set, epochs = 2, batch = 2,
                  lr = 1, shuffle = false, progress = false }
end)
attempt("train", function() t:run() end)
-- Every other writer: sys.write_atomic (plain and appending), records, the
-- trainer's checkpoint (by t:save and by the run's own every = 1).
local sys = require "deltalab.sys"
local function atomic(text, opts) return function(p)
  local ok, err = sys.write_atomic(p, text, opts)
  if not ok then error(err, 0) end
end end
attempt("write_atomic", function() atomic("first\n")(dir .. "/cell.txt") end)
save_over("write_atomic over", dir .. "/cell.txt", atomic("second\n"), bytes)
save_over("write_atomic append", dir .. "/cell.txt", atomic("third\n", { append = true }), bytes)
attempt("record", function() t:record(dir .. "/runs.jsonl", { note = "first" }) end)
save_over("record append", dir .. "/runs.jsonl", function(p) t:record(p, { note = "second" }) end, bytes)
attempt("trainer save", function() t:save(dir .. "/t.ckpt") end)
save_over("trainer save over", dir .. "/t.ckpt", function(p) t:save(p) end, bytes)
local back_t = attempt("trainer load", function()
  return trainer.load(dir .. "/t.ckpt", { train = set, progress = false })
end)
attempt("trainer resumed", function() back_t:run(1) end)
local ct = attempt("checkpointing trainer", function()
  return trainer{ net = network{ 2, 4, 1, seed = 3 }, train = set, epochs = 2, batch = 2,
                  lr = 1, momentum = 0.5, progress = false, checkpoint = dir .. "/c.ckpt", every = 1 }
end)
-- A failed checkpoint stops the run after its epoch; run() again goes on.
attempt("checkpointing run", function() ct:run() end)
local cback = attempt("checkpoint load", function()
  return trainer.load(dir .. "/c.ckpt", { train = set })
end)
local records = attempt("records back", function() return trainer.records(dir .. "/runs.jsonl") end)
attempt("plot script", function()
  plot.script(dir .. "/p.gp")
  plot.lines{ loss = { 3, 2, 1 }, title = "loss" }
  plot.output(nil)
end)
print(("final: cost %.6f  W[1][1] %.6f  epochs %d  resumed %d %.6f  checkpoint %d  records %d  cell %s"):format(
  cost, W:get(1, 1), #t.history.train_loss, back_t.history.epochs, back_t.history.train_loss[3],
  (cback:position()), #records, bytes(dir .. "/cell.txt"):gsub("\n", "|")))
