--- deltalab.plot.kinds: every plot kind, by name, in one table.
--
-- kinds.build.X(ctx, ...) checks the arguments of plot.X, adds X's commands
-- and data to ctx (a gnuplot.script) and returns the options table of the
-- call; kinds.OPTIONS.X lists the options X takes. The kinds themselves live
-- in charts.lua, images.lua and functions.lua; multiplot, which puts several
-- of them in one picture, is here.

local util = require "deltalab.util"
local values = require "deltalab.plot.values"

local argerror, typename = values.argerror, values.typename

local kinds = {}

--- The kinds in the order the reference lists them.
kinds.ORDER = { "lines", "scatter", "hist", "bar", "image", "grid", "heatmap", "confusion", "weights",
                "landscape", "surface", "contour", "boundary", "multiplot" }

local build, OPTIONS = {}, {}
kinds.build, kinds.OPTIONS = build, OPTIONS

for _, name in ipairs{ "charts", "images", "functions" } do
  local m = require("deltalab.plot." .. name)
  for kind, names in pairs(m.OPTIONS) do
    build[kind], OPTIONS[kind] = m[kind], names
  end
end

OPTIONS.multiplot = { "cols", "rows", "title", "output", "size", "script", "timeout" }

-- Several plots in one picture, side by side: each panel is {kind, args...}.
function build.multiplot(ctx, t)
  if type(t) ~= "table" then argerror(1, "multiplot", "table of panels expected, got " .. typename(t)) end
  local n = #t
  util.check_options(t, ctx.fn, OPTIONS.multiplot, ctx.level, n)
  if n == 0 then argerror(1, "multiplot", "no panels") end
  local cols = t.cols or math.min(n, t.rows and math.ceil(n / t.rows) or math.ceil(math.sqrt(n)))
  local rows = t.rows or math.ceil(n / cols)
  ctx:add(("set multiplot layout %d,%d%s"):format(rows, cols,
    t.title and (" title " .. ctx:text(t.title, "title")) or ""))
  local fn, level = ctx.fn, ctx.level
  ctx.layout = { rows = rows, cols = cols }  -- each panel's share of the page (Script:defer)
  for i = 1, n do
    local p = t[i]
    if type(p) ~= "table" or p[1] == "multiplot" or not build[p[1]] then
      argerror(1, "multiplot", ("panel %d must be {kind, args...} with kind one of %s"):format(
        i, table.concat(kinds.ORDER, ", ", 1, #kinds.ORDER - 1)))
    end
    if i > 1 then ctx:add("reset") end
    ctx.fn, ctx.level = ("%s panel %d (%s)"):format(fn, i, p[1]), level + 1  -- one call deeper
    build[p[1]](ctx, table.unpack(p, 2, p.n or #p))
  end
  ctx.fn, ctx.level, ctx.layout = fn, level, nil
  ctx:add("unset multiplot")
  return t
end

return kinds
