--- deltalab.plot.live: training curves redrawn after every epoch.
--
-- A callback for a trainer's on_epoch that draws the loss and accuracy
-- curves of t.history, side by side, in a figure of its own: the same window
-- and the same gnuplot process at every epoch. In a terminal the picture is
-- redrawn in place: the trainer's epoch lines collect above one picture
-- instead of a picture piling up per epoch.

local plotcore = require "deltalab.plotcore"
local sys = require "deltalab.sys"
local util = require "deltalab.util"
local figure = require "deltalab.plot.figure"
local term = require "deltalab.plot.term"
local values = require "deltalab.plot.values"

local argerror, typename = values.argerror, values.typename

local live = {}

local OPTIONS = { "output", "size", "quiet", "persist", "title", "progress" }

--- What replaces a text picture of `lines` lines that has `below` lines
-- (the trainer's epoch lines) printed under it, the cursor on the line
-- after them: up to the picture's first line, delete the picture's lines
-- (the epoch lines move up into their place), down past the epoch lines,
-- clear what is left of the screen. The new picture is written after it.
function live.redraw(lines, below)
  if lines == 0 then return "" end
  local s = ("\27[%dA\r\27[%dM"):format(lines + below, lines)
  if below > 0 then s = s .. ("\27[%dB"):format(below) end
  return s .. "\27[J"
end

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
-- @tparam[opt] table opts figure options (`output`, `size`, `quiet`), `title`,
-- and `progress` (false: the trainer prints no epoch line between pictures,
-- as with trainer{progress = false}; see live.redraw)
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
  local shown = { lines = 0, epoch = nil }  -- the text picture on the screen
  local function print_picture(text, epoch)
    if opts.quiet or text == "" then return end
    local out = io.stdout
    if fig.kind == "text" and sys.isatty(out) then
      if text:sub(-1) ~= "\n" then text = text .. "\n" end
      -- one epoch line per epoch since the last picture, if the trainer prints them
      local below = 0
      if shown.epoch and opts.progress ~= false and type(epoch) == "number" then
        below = math.max(0, epoch - shown.epoch)
      end
      out:write(live.redraw(shown.lines, below))
      shown.lines = select(2, text:gsub("\n", ""))
      shown.epoch = epoch
    end
    out:write(text)
    out:flush()
  end
  local function draw(t, epoch)
    local h = t and t.history
    local loss = { train = history(h, "train_loss"), val = history(h, "val_loss"),
                   title = title .. " — loss", xlabel = "epoch" }
    local acc = { train = history(h, "train_acc"), val = history(h, "val_acc"),
                  title = title .. " — accuracy", xlabel = "epoch" }
    local panels = {}
    if loss.train or loss.val then panels[#panels + 1] = { "lines", loss } end
    if acc.train or acc.val then panels[#panels + 1] = { "lines", acc } end
    if #panels == 0 then return end
    local mp = { cols = #panels, rows = 1, table.unpack(panels) }
    if opts.output == "text" or fig.kind == "text" then
      -- short enough that the picture, an epoch line and the cursor's line
      -- fit on the screen: the cursor cannot go up past its top
      mp.size = { term.text_size({}, 4) }
    end
    -- the figure keeps the picture quiet; it is printed here, so that it
    -- can replace the one before
    local quiet = fig.quiet
    fig.quiet = true
    local ok, err = pcall(fig.multiplot, fig, mp)
    fig.quiet = quiet
    if not ok then error(err, 0) end
    print_picture(fig.text or "", epoch)
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
