--- deltalab.plot.gnuplot: talking to gnuplot.
--
-- The text of one plot (commands and inline datablocks, with every user
-- string quoted), and the conversation with a figure's gnuplot process:
-- starting it, sending a plot, reading the reply up to a marker, and turning
-- what gnuplot said on stderr into errors and warnings. The process itself
-- (pipes, timeouts, Ctrl-C, TERM/KILL) is src/core/proc.c, reached through
-- deltalab.plotcore.
--
-- Quoting: every string that reaches gnuplot (titles, labels, legends, file
-- names) is passed as a single-quoted gnuplot string, in which gnuplot
-- expands nothing (no backquote commands, no @macros); quotes are doubled and
-- control characters become spaces, so a title cannot end the command it is
-- in. Such strings are at most MAX_TEXT bytes (doc/plot.md says so).

local plotcore = require "deltalab.plotcore"
local values = require "deltalab.plot.values"

local argerror, range_arg = values.argerror, values.range_arg

local gnuplot = {}

--- Settings used when a call and its figure say nothing else (plot.defaults).
-- `size` of files and windows in pixels; `timeout` in seconds for one plot;
-- `program`: the gnuplot to run (DELTALAB_GNUPLOT overrides "gnuplot").
gnuplot.defaults = {
  size = { 800, 600 },
  timeout = 60,
  program = os.getenv("DELTALAB_GNUPLOT") or "gnuplot",
}

--- The longest title, label or name a plot takes, in bytes: far more than a
-- picture can show, and little enough that a runaway string (a whole file
-- passed as a title) fails at once instead of choking gnuplot.
gnuplot.MAX_TEXT = 4096

-- The terminals this gnuplot has (GPVAL_TERMINALS), learnt at the first start.
local terminals

local INSTALL = "gnuplot is not installed (no 'gnuplot' in PATH); install it with:"
  .. " sudo apt-get install gnuplot-nox  (or use plot.script(path) to write the"
  .. " gnuplot script and data instead)"

------------------------------------------------------------------------------
-- Quoting and numbers
------------------------------------------------------------------------------

--- The one quoting function: a gnuplot single-quoted string. gnuplot expands
-- backquotes and @macros only outside single quotes, and inside them only ''
-- is special; a newline would end the command, so control characters go.
-- One wrinkle: gnuplot reads a single-quoted string that starts with ''
-- as an empty string, so a leading quote is joined on as "'" (a
-- double-quoted string holding nothing that could expand).
local function q(s)
  s = tostring(s):gsub("%c", " ")
  if s:sub(1, 1) == "'" then return "\"'\" . " .. q(s:sub(2)) end
  return "'" .. s:gsub("'", "''") .. "'"
end
gnuplot.quote = q

--- q(s) for a string of the user's, checked against MAX_TEXT: what (e.g.
-- "title") and fname (the call) name it in the error.
function gnuplot.text(s, fname, what)
  s = tostring(s)
  if #s > gnuplot.MAX_TEXT then
    error(("%s: %s is %d bytes long; plot takes at most %d"):format(fname, what, #s, gnuplot.MAX_TEXT), 0)
  end
  return q(s)
end

--- A number as gnuplot data: 7 significant digits, as much as a float holds.
function gnuplot.num(x)
  return ("%.7g"):format(x)
end
local num = gnuplot.num

------------------------------------------------------------------------------
-- A plot under construction: gnuplot commands and inline datablocks
------------------------------------------------------------------------------

local Script = {}
Script.__index = Script

--- An empty plot text for the call fname ("lines", ...); fn is the name the
-- user typed ("plot.lines", "figure:lines") and level where the user's call
-- is, seen from a kind (3: kind, wrapper, user), for option errors.
function gnuplot.script(fname, fn)
  return setmetatable({ name = fname, fn = fn or fname, level = 3, lines = {}, nblock = 0 }, Script)
end

function Script:add(s) self.lines[#self.lines + 1] = s end

--- A command that depends on the page the plot is drawn on (its size and
-- font, known only where the picture goes: see figure.emit): fn(geom)
-- returns it, geom being term.geometry's with `rows` and `cols`, the
-- layout of the multiplot the plot is a panel of (1, 1 alone).
function Script:defer(fn)
  local layout = self.layout or { rows = 1, cols = 1 }
  self.lines[#self.lines + 1] = function(geom)
    local g = setmetatable({ rows = layout.rows, cols = layout.cols }, { __index = geom })
    return fn(g)
  end
end

--- The commands of the plot for the page geom (see Script:defer).
function Script:render(geom)
  local out = {}
  for i, l in ipairs(self.lines) do
    if type(l) == "function" then l = l(geom) or "" end
    out[i] = l
  end
  return out
end

--- A user string, quoted and checked (see gnuplot.text).
function Script:text(s, what)
  return gnuplot.text(s, self.name, what)
end

--- A datablock holding text (lines of numbers); returns its name, e.g. $d3.
function Script:block(text)
  self.nblock = self.nblock + 1
  local name = "$d" .. self.nblock
  if text:sub(-1) ~= "\n" then text = text .. "\n" end
  self:add(name .. " << EOD\n" .. text .. "EOD")
  return name
end

--- The options of common(), which most kinds take.
gnuplot.COMMON = { "title", "xlabel", "ylabel", "xrange", "yrange", "logscale", "legend" }
--- The options of every call, read where its picture goes (figure.emit).
gnuplot.CALL = { "output", "size", "script", "timeout" }

--- The option names of a kind: COMMON, CALL and its own.
function gnuplot.options(...)
  local names = {}
  for _, list in ipairs{ gnuplot.COMMON, gnuplot.CALL, ... } do
    for _, n in ipairs(list) do names[#names + 1] = n end
  end
  return names
end

local LEGEND = { ["top left"] = 1, ["top right"] = 1, ["bottom left"] = 1, ["bottom right"] = 1,
                 ["outside"] = "outside right top", ["below"] = "below" }

--- Title, axis labels, ranges, log scale, legend: what most kinds share.
function Script:common(o)
  if o.title then self:add("set title " .. self:text(o.title, "title")) end
  if o.xlabel then self:add("set xlabel " .. self:text(o.xlabel, "xlabel")) end
  if o.ylabel then self:add("set ylabel " .. self:text(o.ylabel, "ylabel")) end
  if o.xrange then
    local a, b = range_arg(o.xrange, 1, self.name .. " option xrange")
    self:add(("set xrange [%s:%s]"):format(num(a), num(b)))
  end
  if o.yrange then
    local a, b = range_arg(o.yrange, 1, self.name .. " option yrange")
    self:add(("set yrange [%s:%s]"):format(num(a), num(b)))
  end
  local ls = o.logscale
  if ls then
    if ls == true then ls = "y" end
    if ls ~= "x" and ls ~= "y" and ls ~= "xy" then
      argerror(1, self.name, "option logscale must be \"x\", \"y\", \"xy\" or true, got " .. tostring(ls))
    end
    self:add("set logscale " .. ls)
    -- "%g" labels read 0.01, 1, 100, where gnuplot's default turns into
    -- "10.0000000" over many decades (lines sets its own labels: axes.lua)
    for axis in ls:gmatch(".") do self:add(("set format %s '%%g'"):format(axis)) end
  end
  if o.legend == false then
    self:add("unset key")
  elseif o.legend ~= nil then
    if not LEGEND[o.legend] then
      argerror(1, self.name, "option legend must be false, 'top left', 'top right', 'bottom left',"
        .. " 'bottom right', 'outside' or 'below', got " .. q(tostring(o.legend):sub(1, 80)))
    end
    self:add("set key " .. (LEGEND[o.legend] == 1 and o.legend or LEGEND[o.legend]))
  end
end

------------------------------------------------------------------------------
-- The process: one per figure
------------------------------------------------------------------------------

--- The names of the terminals this gnuplot has ("" before the first start).
function gnuplot.terminals()
  return terminals or ""
end

local function ms(timeout)
  return math.floor((timeout or gnuplot.defaults.timeout) * 1000 + 0.5)
end

-- The error of a send or reply that did not come back ("timeout",
-- "interrupted"), naming the call.
local function stopped(fname, state, timeout, what)
  if state == "interrupted" then error(fname .. ": interrupted (gnuplot stopped)", 0) end
  error(("%s: gnuplot did not %s within %g s and was stopped"):format(
    fname, what, timeout or gnuplot.defaults.timeout), 0)
end

--- Start fig's gnuplot (fig.proc), learning on the first start which
-- terminals this gnuplot has. fig has `id`, `persist` and `serial`.
function gnuplot.start(fig, fname)
  local argv = { gnuplot.defaults.program, "--default-settings" }
  if fig.persist then argv[#argv + 1] = "-persist" end
  local proc, err, code = plotcore.spawn(argv)
  if not proc then
    if code == 2 then error(fname .. ": " .. INSTALL, 0) end  -- ENOENT
    error(fname .. ": cannot start gnuplot: " .. err, 0)
  end
  fig.proc = proc
  fig.serial = (fig.serial or 0) + 1
  local marker = ("deltalab-ready-%d-%d"):format(fig.id, fig.serial)
  local sent, _, sst = proc:send("set encoding utf8\nprint GPVAL_TERMINALS\nprint '" .. marker .. "'\n",
                                 ms())
  local said, st = "", sst
  if sent then _, said, st = proc:sync(marker, ms()) end
  if st ~= "ok" then
    fig.proc = nil
    error(("%s: gnuplot did not start (%s): %s"):format(fname, st, said), 0)
  end
  terminals = terminals or said:gsub("\n", " ")
end

--- Split what gnuplot said on stderr into errors and warnings.
function gnuplot.complaints(said)
  local errs, warns = {}, {}
  for line in said:gmatch("[^\n]+") do
    local msg = line:match("^%s*(.-)%s*$")
    if msg:find("matrix contains missing or undefined values", 1, true) then
      -- expected: the blank pixels between the cells of a grid are NaN
    elseif msg:find("empty [xyz]2? range %[") then
      -- a flat series (one epoch of plot.live, a constant): gnuplot widens
      -- the range itself, which is right, and need not say so every time
    elseif msg:lower():find("warning:", 1, true) then
      warns[#warns + 1] = msg:gsub("^line %d+:%s*", "")
    elseif msg:match("^line %d+: ") or msg:match("^\"[^\"]*\" line %d+: ") then
      errs[#errs + 1] = msg:gsub("^.-line %d+:%s*", "")
    elseif msg:match("^system error: ") then
      errs[#errs + 1] = msg:sub(15)
    elseif msg:find("empty %a2? ?range %[") then
      -- a single point or a flat series: gnuplot widens the range itself
    elseif msg:match("^QStandardPaths:") or msg:match("^qt%.") then
      -- the Qt toolkit's notes about the desktop session, not about the plot
    elseif msg ~= "" and not msg:match("^%^$") and not msg:match("^gnuplot> ") then
      warns[#warns + 1] = msg  -- e.g. a window toolkit's chatter
    end
  end
  return errs, warns
end

--- Send one plot's commands to fig's gnuplot (starting it if needed) and
-- wait for it, at most timeout seconds (default plot.defaults.timeout; 0:
-- no limit) for gnuplot to read them and as long again to answer. Returns
-- what it printed on stdout and on stderr; raises, naming the call, when it
-- did not answer, was interrupted or died.
function gnuplot.execute(fig, fname, text, timeout)
  for _ = 1, 2 do
    if not fig.proc then gnuplot.start(fig, fname) end
    fig.serial = fig.serial + 1
    local marker = ("deltalab-done-%d-%d"):format(fig.id, fig.serial)
    local sent, _, sst = fig.proc:send(text .. "\nprint '" .. marker .. "'\n", ms(timeout))
    if sent then
      local out, said, st = fig.proc:sync(marker, ms(timeout))
      if st == "ok" then return out, said end
      fig.proc = nil
      if st ~= "dead" then stopped(fname, st, timeout, "finish") end
      local errs = gnuplot.complaints(said)
      error(("%s: gnuplot exited%s"):format(fname, #errs > 0 and (": " .. table.concat(errs, "; ")) or ""), 0)
    end
    fig.proc:close()
    fig.proc = nil
    if sst ~= "dead" then stopped(fname, sst, timeout, "read the plot") end
    -- gnuplot went away since the last plot (killed, or its window closed
    -- the program): start a fresh one and try once more.
  end
  error(fname .. ": cannot talk to gnuplot", 0)
end

return gnuplot
