--- deltalab.plot.functions: functions drawn over their domain.
--
-- The kinds landscape (a 1-D loss curve with the paths gradient descent took
-- on it), surface and contour (a function of two variables, with an optional
-- descent path). The functions are sampled here, in Lua: a function's error
-- names the point it happened at.

local util = require "deltalab.util"
local gnuplot = require "deltalab.plot.gnuplot"
local style = require "deltalab.plot.style"
local values = require "deltalab.plot.values"
local legend = require "deltalab.plot.legend"
local plotcore = require "deltalab.plotcore"

local num = gnuplot.num
local argerror, typename, vector = values.argerror, values.typename, values.vector
local range_arg, points_of = values.range_arg, values.points_of
local COLOURS, PALETTES = style.COLOURS, style.PALETTES

local kinds = {}

--- The option names of each kind.
kinds.OPTIONS = {
  landscape = gnuplot.options{ "samples", "curve" },
  surface = gnuplot.options{ "samples", "path" },
  contour = gnuplot.options{ "samples", "levels", "path" },
}
local LANDSCAPE_OPTIONS = {}
for _, k in ipairs(kinds.OPTIONS.landscape) do LANDSCAPE_OPTIONS[k] = true end

-- Sample f on n points of [a, b]; f's errors name the x they happened at.
local function sample1(f, a, b, n, fname)
  local xs, ys = {}, {}
  for i = 0, n - 1 do
    local x = a + (b - a) * i / (n - 1)
    local y = f(x)
    if type(y) ~= "number" then
      argerror(1, fname, ("f(%s) returned %s, expected a number"):format(num(x), typename(y)))
    end
    xs[#xs + 1], ys[#ys + 1] = x, y
  end
  return xs, ys
end

function kinds.landscape(ctx, f, r, paths, o)
  if not values.callable(f) then
    argerror(1, "landscape", "function expected, got " .. typename(f))
  end
  if type(paths) == "table" and not plotcore.shape(paths) and paths[1] == nil and next(paths) ~= nil then
    -- {["lr 0.1"] = {...}, ...} or options? options have known keys only
    -- (a key that is no option with a value that is no path is a misspelt option)
    local only_options, stray = true, false
    for k, v in pairs(paths) do
      if not LANDSCAPE_OPTIONS[k] then
        only_options = false
        if type(v) ~= "table" and not plotcore.shape(v) then stray = true end
      end
    end
    if (only_options or stray) and o == nil then o, paths = paths, nil end
  end
  o = util.options(o, ctx.fn, kinds.OPTIONS.landscape, ctx.level)
  local a, b = range_arg(r, 2, "landscape")
  local xs, ys = sample1(f, a, b, o.samples or 400, "landscape")
  local rows = {}
  for i = 1, #xs do rows[i] = num(xs[i]) .. " " .. num(ys[i]) end
  ctx:add("set grid")
  ctx:add("set xlabel " .. ctx:text(o.xlabel or "w", "xlabel"))
  ctx:add("set ylabel " .. ctx:text(o.ylabel or "loss", "ylabel"))
  ctx:common(o)
  local series = { { xs = xs, ys = ys, joined = true } }
  local titles = { tostring(o.curve or "loss") }
  local parts = { ("%s using 1:2 with lines lw 2 lc rgb '#333333' title %s"):format(
    ctx:block(table.concat(rows, "\n")), ctx:text(o.curve or "loss", "curve")) }
  -- the paths: a list of x, a list of lists, or a table name → list
  local list = {}
  if paths ~= nil then
    local pv = plotcore.shape(paths) and plotcore.values(paths) or paths
    if type(pv) ~= "table" then argerror(3, "landscape", "path (list of x) expected, got " .. typename(paths)) end
    if type(pv[1]) == "number" then
      list[1] = { "gradient descent", pv }
    elseif pv[1] ~= nil then
      for i = 1, #pv do list[i] = { "path " .. i, pv[i] } end
    else
      local names = {}
      for k in pairs(pv) do names[#names + 1] = k end
      table.sort(names, function(x, y) return tostring(x) < tostring(y) end)
      for i, k in ipairs(names) do list[i] = { tostring(k), pv[k] } end
    end
  end
  for i, p in ipairs(list) do
    local pts = vector(p[2], 3, "landscape", "path (list of x)")
    local prow, px, py = {}, {}, {}
    for j = 1, #pts do
      local y = f(pts[j])
      if type(y) ~= "number" then argerror(1, "landscape", ("f(%s) returned %s"):format(num(pts[j]), typename(y))) end
      prow[j] = num(pts[j]) .. " " .. num(y)
      px[j], py[j] = pts[j], y
    end
    if #prow > 0 then
      local c = COLOURS[(i - 1) % #COLOURS + 1]
      local block = ctx:block(table.concat(prow, "\n"))
      parts[#parts + 1] = ("%s using 1:2 with linespoints lw 1 pt 7 ps 0.9 lc rgb '%s' title %s"):format(block, c, ctx:text(p[1], "a path name"))
      -- the start of the path: an open circle
      parts[#parts + 1] = ("%s every ::0::0 using 1:2 with points pt 6 ps 2.2 lc rgb '%s' notitle"):format(block, c)
      series[#series + 1] = { xs = px, ys = py, joined = true }
      titles[#titles + 1] = tostring(p[1])
    end
  end
  legend.place(ctx, o, series, titles)
  ctx:add("plot " .. table.concat(parts, ", "))
  return o
end

-- Sample f(x, y) on an n×n grid as splot data (blank line between rows).
local function sample2(ctx, f, xr, yr, n, fname)
  local x0, x1 = range_arg(xr, 2, fname)
  local y0, y1 = range_arg(yr, 3, fname)
  local rows, zlo, zhi = {}, math.huge, -math.huge
  for i = 0, n - 1 do
    local y = y0 + (y1 - y0) * i / (n - 1)
    for j = 0, n - 1 do
      local x = x0 + (x1 - x0) * j / (n - 1)
      local z = f(x, y)
      if type(z) ~= "number" then
        argerror(1, fname, ("f(%s, %s) returned %s, expected a number"):format(num(x), num(y), typename(z)))
      end
      if z < zlo then zlo = z end
      if z > zhi then zhi = z end
      rows[#rows + 1] = num(x) .. " " .. num(y) .. " " .. num(z)
    end
    rows[#rows + 1] = ""
  end
  return ctx:block(table.concat(rows, "\n")), zlo, zhi
end

-- A 2-D path {{x, y}, ...} as splot data at height f(x, y) (or z).
local function path2(ctx, f, path, z, fname)
  local xs = points_of(path, nil, fname)
  local rows = {}
  for i, p in ipairs(xs) do rows[i] = ("%s %s %s"):format(num(p[1]), num(p[2]), num(z or f(p[1], p[2]))) end
  return ctx:block(table.concat(rows, "\n"))
end

local function check_f2(f, fname)
  if not values.callable(f) then
    argerror(1, fname, "function of (x, y) expected, got " .. typename(f))
  end
end

function kinds.surface(ctx, f, xr, yr, o)
  check_f2(f, "surface")
  o = util.options(o, ctx.fn, kinds.OPTIONS.surface, ctx.level)
  local block = sample2(ctx, f, xr, yr, o.samples or 40, "surface")
  ctx:add(PALETTES.viridis)
  ctx:add("set pm3d depthorder border lc rgb '#404040' lw 0.3")
  ctx:add("set view 55,35")
  ctx:add("set xyplane relative 0")  -- the x-y plane at the lowest z, not half a height below
  ctx:add("set xlabel " .. ctx:text(o.xlabel or "x", "xlabel"))
  ctx:add("set ylabel " .. ctx:text(o.ylabel or "y", "ylabel"))
  ctx:add("unset key")
  ctx:common(o)
  local parts = { block .. " using 1:2:3 with pm3d notitle" }
  if o.path then
    parts[#parts + 1] = path2(ctx, f, o.path, nil, "surface")
      .. " using 1:2:3 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#d62728' notitle"
  end
  ctx:add("splot " .. table.concat(parts, ", "))
  return o
end

function kinds.contour(ctx, f, xr, yr, o)
  check_f2(f, "contour")
  o = util.options(o, ctx.fn, kinds.OPTIONS.contour, ctx.level)
  local block, _, zhi = sample2(ctx, f, xr, yr, o.samples or 60, "contour")
  ctx:add(PALETTES.viridis)
  ctx:add("set view map")
  ctx:add("set contour base")
  ctx:add(("set cntrparam levels %d"):format(o.levels or 12))
  ctx:add("unset clabel")
  ctx:add("set xlabel " .. ctx:text(o.xlabel or "x", "xlabel"))
  ctx:add("set ylabel " .. ctx:text(o.ylabel or "y", "ylabel"))
  local x0, x1 = range_arg(xr, 2, "contour")
  local y0, y1 = range_arg(yr, 3, "contour")
  ctx:add(("set xrange [%s:%s]"):format(num(x0), num(x1)))
  ctx:add(("set yrange [%s:%s]"):format(num(y0), num(y1)))
  ctx:add("set size ratio -1")
  ctx:add("unset key")
  ctx:common(o)
  local parts = { block .. " using 1:2:3 with pm3d notitle",
                  block .. " using 1:2:3 nosurface with lines lc rgb '#ffffff' lw 0.8 notitle" }
  if o.path then
    parts[#parts + 1] = path2(ctx, f, o.path, zhi, "contour")
      .. " using 1:2:3 nocontour with linespoints lw 2 pt 7 ps 0.8 lc rgb '#d62728' notitle"
  end
  ctx:add("splot " .. table.concat(parts, ", "))
  return o
end

return kinds
