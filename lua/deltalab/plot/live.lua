--- deltalab.plot.live: training curves redrawn after every epoch.
--
-- A callback for a trainer's on_epoch that draws the loss and accuracy
-- curves of t.history, side by side, in a figure of its own: the same window
-- and the same gnuplot process at every epoch.

local plotcore = require "deltalab.plotcore"
local util = require "deltalab.util"
local figure = require "deltalab.plot.figure"
local values = require "deltalab.plot.values"

local argerror, typename = values.argerror, values.typename

local live = {}

local OPTIONS = { "output", "size", "quiet", "persist", "title" }

-- Numbers from a history field (table or matrix); nil when empty.
local function history(h, key)
  local v = h and h[key]
  if v == nil then return nil end
  v = plotcore.shape(v) and plotcore.values(v) or v
  if type(v) ~= "table" or #v == 0 then return nil end
  return v
end

--- Live training curves: a callback `f(trainer, epoch)` that redraws the
-- trainer's loss and accuracy curves (`t.history`) in its own figure — the
-- same window, the same gnuplot — each time it is called. Given a trainer,
-- also hooks itself into `trainer.on_epoch` (keeping a callback already there).
-- @param[opt] trainer a trainer, or nil to just get the callback
-- @tparam[opt] table opts figure options (`output`, `size`, `quiet`) and `title`
-- @treturn function the callback
-- @treturn figure the figure it draws in
-- @usage local t = trainer{net = net, train = d.train, epochs = 10, on_epoch = plot.live()}
function live.new(trainer, opts)
  if type(trainer) == "table" and getmetatable(trainer) == nil and trainer.history == nil
     and opts == nil then
    trainer, opts = nil, trainer  -- plot.live{output = ...}
  end
  opts = util.options(opts, "plot.live", OPTIONS)
  local fig = figure.new{ output = opts.output, size = opts.size, quiet = opts.quiet, persist = opts.persist }
  local title = opts.title or "training"
  local function draw(t, epoch)
    local h = t and t.history
    local loss = { train = history(h, "train_loss"), val = history(h, "val_loss"),
                   title = title .. " — loss", xlabel = "epoch", legend = "top right" }
    local acc = { train = history(h, "train_acc"), val = history(h, "val_acc"),
                  title = title .. " — accuracy", xlabel = "epoch", legend = "bottom right" }
    local panels = {}
    if loss.train or loss.val then panels[#panels + 1] = { "lines", loss } end
    if acc.train or acc.val then panels[#panels + 1] = { "lines", acc } end
    if #panels == 0 then return end
    fig:multiplot{ cols = #panels, rows = 1, table.unpack(panels) }
  end
  if trainer ~= nil then
    -- A deltalab trainer reads its callbacks from the table kept as the user
    -- value of its C state (t._state), not from the trainer table, so that
    -- is where the hook goes; any other table gets a field on_epoch.
    local into = trainer
    local okst, st = pcall(function() return trainer._state end)
    if okst and type(st) == "userdata" then
      local uv = debug.getuservalue(st, 1)
      if type(uv) == "table" then into = uv end
    end
    local ok, prev = pcall(function() return into.on_epoch end)
    local hook = function(t, e, ...)
      local go_on = true
      if ok and type(prev) == "function" then go_on = prev(t, e, ...) end
      draw(t, e)
      return go_on  -- the trainer's own callback still decides whether to stop
    end
    if not pcall(function() into.on_epoch = hook end) then
      argerror(1, "live", "trainer whose on_epoch can be set expected, got " .. typename(trainer))
    end
  end
  return draw, fig
end

return live
