--- deltalab.training: the parts of `trainer` written in Lua.
-- deltalab's loader (src/linit.c) merges `extends.trainer` into the trainer
-- type and `extends_module["deltalab.trainer"]` into the trainer table at
-- start: t:summary(), t:record(path), trainer.sweep{...},
-- trainer.records(paths), trainer.merge(paths).
--
--     > t = trainer{net = net, train = set, epochs = 2}
--     > t:run()
--     > t:record("runs.jsonl", {note = "first try"})
local records = require "deltalab.records"
local sweep = require "deltalab.sweep"
local util = require "deltalab.util"

local methods, module = {}, {}

local function copy_list(l)
  local out = records.array({})
  for i = 1, #(l or {}) do out[i] = l[i] end
  return out
end

local function check_trainer(t, fname)
  local mt = getmetatable(t)
  if type(t) ~= "table" or not mt or mt.__name ~= "trainer" then
    util.argerror(1, fname, ("trainer expected, got %s"):format(type(t)), 3)
  end
end

--- What a record keeps of a trainer: settings, seed, history, final figures.
-- @treturn table {settings=, seed=, history=, final=}
function methods.summary(t)
  check_trainer(t, "summary")
  local h = t.history or {}
  local hist = {}
  for _, k in ipairs{ "train_loss", "train_acc", "val_loss", "val_acc", "seconds", "lr", "step_loss" } do
    if h[k] then hist[k] = copy_list(h[k]) end
  end
  local n = h.epochs or #(h.train_loss or {})
  local final = { epochs = n, stopped = t.stopped, best_epoch = t.best_epoch }
  for _, k in ipairs{ "train_loss", "train_acc", "val_loss", "val_acc", "seconds" } do
    if h[k] and #h[k] > 0 then final[k] = h[k][#h[k]] end
  end
  local settings = {}
  for k, v in pairs(t.settings or {}) do settings[k] = v end
  if t.net and t.net.sizes then settings.sizes = t.net.sizes end
  return { settings = settings, seed = settings.seed, history = hist, final = final }
end

--- Append this trainer's record (summary, machine, UTC time, and the fields
-- of extra) to a JSON-lines file.
-- @tparam string path
-- @tparam[opt] table extra e.g. {test_acc = 0.981, name = "e2"}
function methods.record(t, path, extra)
  check_trainer(t, "record")
  if type(path) ~= "string" then
    util.argerror(1, "record", ("file name expected, got %s"):format(type(path)))
  end
  if extra ~= nil and type(extra) ~= "table" then
    util.argerror(2, "record", ("table expected, got %s"):format(type(extra)))
  end
  local rec = t:summary()
  rec.machine = records.machine()
  rec.time = os.date("!%Y-%m-%dT%H:%M:%SZ")
  for k, v in pairs(extra or {}) do rec[k] = v end
  records.append(path, rec, "record", 2)
  return rec
end

module.sweep = sweep.sweep
--- Print a table of sweep results (see deltalab.sweep).
module.sweep_table = sweep.table
--- Merge sweep record files and print their table.
module.merge = sweep.merge
--- Read JSON-lines records from a file or a list of files.
module.records = function(paths)
  local r = records.read(paths, "records", 2)
  return r
end

return { extends = { trainer = methods }, extends_module = { ["deltalab.trainer"] = module } }
