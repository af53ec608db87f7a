--- deltalab.plot.charts: curves, points, counts and decision regions.
--
-- The kinds lines, scatter, hist, bar and boundary. Each kinds.X(ctx, ...)
-- checks its arguments and options, adds its commands and data to ctx (a
-- gnuplot.script) and returns the options table of the call, which says where
-- the picture goes; deltalab.plot makes plot.X and figure:X of it.

local plotcore = require "deltalab.plotcore"
local util = require "deltalab.util"
local gnuplot = require "deltalab.plot.gnuplot"
local style = require "deltalab.plot.style"
local values = require "deltalab.plot.values"
local axes = require "deltalab.plot.axes"
local legend = require "deltalab.plot.legend"

local num = gnuplot.num
local argerror, typename, vector = values.argerror, values.typename, values.vector
local minmax, range_arg, points_of, grid_values = values.minmax, values.range_arg, values.points_of,
                                                  values.grid_values
local COLOURS, colour, pale = style.COLOURS, style.colour, style.pale

local kinds = {}

--- The option names of each kind.
kinds.OPTIONS = {
  lines = gnuplot.options{ "points", "order" },
  scatter = gnuplot.options{ "names" },
  hist = gnuplot.options{ "bins" },
  bar = gnuplot.options{ "labels" },
  boundary = gnuplot.options{ "resolution", "threshold", "names" },
}
local LINES_OPTIONS = {}
for _, k in ipairs(kinds.OPTIONS.lines) do LINES_OPTIONS[k] = true end

-- One series: a list of y (x = 1, 2, ...), an n×2 matrix or list of {x, y}
-- pairs, or an n×1 / 1×n matrix. Returns its xs and ys.
local function series_xy(v, name, fname)
  local r, c = plotcore.shape(v)
  local xs, ys = {}, {}
  if r and c == 2 and r ~= 1 then
    local m = plotcore.values(v)
    for i = 1, r do xs[i], ys[i] = m[2 * i - 1], m[2 * i] end
  elseif type(v) == "table" and type(v[1]) == "table" then
    for i = 1, #v do
      local p = v[i]
      if type(p) ~= "table" or type(p[1]) ~= "number" or type(p[2]) ~= "number" then
        argerror(1, fname, ("series '%s': element %d is not an {x, y} pair"):format(name, i))
      end
      xs[i], ys[i] = p[1], p[2]
    end
  else
    ys = vector(v, 1, fname, ("series '%s': table or matrix"):format(name))
    for i = 1, #ys do xs[i] = i end
  end
  return xs, ys
end

-- A trainer's history (t.history, or the trainer): what plot.lines(h [,
-- name] [, opts]) draws. The series of `name`: "loss" (the default: train
-- and validation loss), "acc", or any list of the history (lr, seconds,
-- step_loss, train_acc, ...), against the epoch (the batch for step_loss).
local function history_of(t)
  if type(t) ~= "table" or plotcore.shape(t) then return nil end
  local ok, h = pcall(function() return t.history end)
  if ok and type(h) == "table" and type(h.epochs) == "number" then return h end
  if type(t.epochs) == "number" and (type(t.train_loss) == "table" or type(t.lr) == "table") then return t end
end

local HISTORY_PAIRS = {
  loss = { "train_loss", "val_loss", "loss" },
  acc = { "train_acc", "val_acc", "accuracy" },
}
HISTORY_PAIRS.accuracy = HISTORY_PAIRS.acc
local HISTORY_YLABEL = { lr = "learning rate", seconds = "seconds", step_loss = "loss" }

local function history_table(h, name, o, ctx)
  if type(name) == "table" and o == nil then name, o = nil, name end
  o = util.options(o, ctx.fn, kinds.OPTIONS.lines, ctx.level + 1)
  name = name or "loss"
  if type(name) ~= "string" then argerror(2, "lines", "name of a history series expected, got " .. typename(name)) end
  local t = { order = {} }
  local pair = HISTORY_PAIRS[name]
  if pair then
    for i, key in ipairs{ pair[1], pair[2] } do
      if type(h[key]) == "table" and #h[key] > 0 then
        local label = i == 1 and "train" or "val"
        t[label] = h[key]
        t.order[#t.order + 1] = label
      end
    end
    t.ylabel = pair[3]
  elseif name ~= "epochs" and type(h[name]) == "table" then
    t[name] = h[name]
    t.order[1] = name
    t.ylabel = HISTORY_YLABEL[name] or name
  else
    local have = {}
    for k, v in pairs(h) do if type(v) == "table" then have[#have + 1] = k end end
    table.sort(have)
    argerror(2, "lines", ("history has no series '%s' (it has loss, acc, %s)"):format(
      tostring(name):sub(1, 80), table.concat(have, ", ")))
  end
  if #t.order == 0 then argerror(1, "lines", ("no data: the history's %s is empty"):format(name)) end
  t.xlabel = name == "step_loss" and "batch" or "epoch"
  for k, v in pairs(o) do t[k] = v end
  return t
end

-- The series of a lines table: {name, xs, ys} in drawing order.
local function lines_series(t, ctx)
  -- The table holds series and options side by side: a string key that is
  -- no option and holds no series (a table or matrix) is a misspelt option.
  local bare = type(t[1]) == "number"
  local names, stray = {}, nil
  for k, v in pairs(t) do
    if type(k) == "string" and not LINES_OPTIONS[k] then
      if not bare and (type(v) == "table" or plotcore.shape(v)) then
        names[#names + 1] = k
      else
        stray = stray or {}
        stray[k] = v
      end
    end
  end
  if stray then util.check_options(stray, ctx.fn, kinds.OPTIONS.lines, ctx.level + 1) end  -- one call below the kind
  local list = {}
  if bare then
    list[1] = { "", t }
  else
    for i = 1, #t do list[#list + 1] = { #t > 1 and tostring(i) or "", t[i] } end
    if t.order then names = t.order else table.sort(names) end
    for _, k in ipairs(names) do
      if t[k] == nil then argerror(1, "lines", "order names a missing series '" .. tostring(k) .. "'") end
      list[#list + 1] = { k, t[k] }
    end
  end
  local series = {}
  for _, s in ipairs(list) do
    local xs, ys = series_xy(s[2], s[1], "lines")
    series[#series + 1] = { name = s[1], xs = xs, ys = ys, joined = true }
  end
  return series
end

-- Ticks that read right: whole numbers on an x axis of whole numbers
-- (epochs, steps), plain decimals on a log axis (see deltalab.plot.axes).
local function lines_axes(ctx, t, series)
  local log = t.logscale == true and "y" or t.logscale or ""
  local whole, x0, x1, ylo, yhi, xlo = true, math.huge, -math.huge, math.huge, -math.huge, math.huge
  for _, s in ipairs(series) do
    for i = 1, #s.xs do
      local x, y = s.xs[i], s.ys[i]
      if x ~= math.floor(x) then whole = false end
      x0, x1 = math.min(x0, x), math.max(x1, x)
      if x > 0 then xlo = math.min(xlo, x) end
      if y > 0 and y < math.huge then ylo, yhi = math.min(ylo, y), math.max(yhi, y) end
    end
  end
  if x0 > x1 then return end
  if log:find("x") then
    local r = t.xrange
    for _, c in ipairs(axes.log_tics("x", r and r[1] or xlo, r and r[2] or x1, r ~= nil)) do ctx:add(c) end
  elseif whole then
    local r = t.xrange
    ctx:add(axes.integer_tics("x", r and r[1] or x0, r and r[2] or x1))
  end
  if log:find("y") and ylo <= yhi then
    local r = t.yrange
    for _, c in ipairs(axes.log_tics("y", r and r[1] or ylo, r and r[2] or yhi, r ~= nil)) do ctx:add(c) end
  end
end

function kinds.lines(ctx, t, name, o)
  local h = history_of(t)
  if h then
    t = history_table(h, name, o, ctx)
  elseif type(t) ~= "table" or plotcore.shape(t) then
    if plotcore.shape(t) then t = { t } else argerror(1, "lines", "table expected, got " .. typename(t)) end
  end
  local series = lines_series(t, ctx)
  ctx:add("set grid")
  ctx:common(t)
  local longest = 0
  for _, s in ipairs(series) do longest = math.max(longest, #s.xs) end
  if longest == 1 and not t.xrange then ctx:add("set xrange [0.5:1.5]") end  -- one epoch so far
  lines_axes(ctx, t, series)
  local parts, drawn, titles = {}, {}, {}
  for _, s in ipairs(series) do
    if #s.xs > 0 then
      local rows = {}
      for i = 1, #s.xs do rows[i] = num(s.xs[i]) .. " " .. num(s.ys[i]) end
      parts[#parts + 1] = ("%s using 1:2 with %s lw 2 lc rgb '%s' title %s"):format(
        ctx:block(table.concat(rows, "\n")), (t.points or longest == 1) and "linespoints pt 7 ps 0.6" or "lines",
        COLOURS[(#parts) % #COLOURS + 1], ctx:text(s.name, "a series name"))
      drawn[#drawn + 1] = s
      if s.name ~= "" then titles[#titles + 1] = s.name end
    end
  end
  if #parts == 0 then argerror(1, "lines", "no data: every series is empty") end
  if #parts == 1 and series[1].name == "" then
    ctx:add("unset key")
  else
    legend.place(ctx, t, drawn, titles)
  end
  ctx:add("plot " .. table.concat(parts, ", "))
  return t
end

-- Datablocks of points by class and the plot clauses drawing them; also
-- the points by class and their names, for placing the legend.
local function class_points(ctx, xs, labels, names, style)
  local byclass, classes = {}, {}
  for i, p in ipairs(xs) do
    local k = labels and labels[i] or 0
    if not byclass[k] then byclass[k] = { xs = {}, ys = {} }; classes[#classes + 1] = k end
    local b = byclass[k]
    b.xs[#b.xs + 1], b.ys[#b.ys + 1] = p[1], p[2]
  end
  table.sort(classes)
  local parts, series, titles = {}, {}, {}
  for _, k in ipairs(classes) do
    local b, rows = byclass[k], {}
    for i = 1, #b.xs do rows[i] = num(b.xs[i]) .. " " .. num(b.ys[i]) end
    local block = ctx:block(table.concat(rows, "\n"))
    local title = labels and (names and names[k + 1] or ("class " .. num(k))) or ""
    parts[#parts + 1] = ("%s using 1:2 with points %s lc rgb '%s' title %s"):format(
      block, style or "pt 7 ps 0.7", colour(k), ctx:text(title, "a class name"))
    series[#series + 1] = b
    if title ~= "" then titles[#titles + 1] = tostring(title) end
  end
  return parts, series, titles
end

function kinds.scatter(ctx, X, y, o)
  if type(y) == "table" and not plotcore.shape(y) and y[1] == nil and next(y) ~= nil and type(X) == "table" and X.X then
    o, y = y, nil  -- scatter(set, opts)
  end
  o = util.options(o, ctx.fn, kinds.OPTIONS.scatter, ctx.level)
  local xs, labels = points_of(X, y, "scatter")
  if #xs == 0 then argerror(1, "scatter", "no points") end
  ctx:add("set grid")
  -- the points' own range plus a margin (no point cut by the border, and
  -- no rounding out to the next tic, which shrank the cloud)
  ctx:add("set autoscale fix")
  ctx:add("set offsets graph 0.04, graph 0.04, graph 0.04, graph 0.04")
  ctx:common(o)
  local names = o.names or (type(X) == "table" and X.names) or nil
  local parts, series, titles = class_points(ctx, xs, labels, names)
  if not labels then ctx:add("unset key") else legend.place(ctx, o, series, titles) end
  ctx:add("plot " .. table.concat(parts, ", "))
  return o
end

function kinds.hist(ctx, values, o)
  o = util.options(o, ctx.fn, kinds.OPTIONS.hist, ctx.level)
  local v = vector(values, 1, "hist")
  local lo, hi = minmax(v)
  if lo > hi then argerror(1, "hist", "no numbers to count") end
  local n = o.bins or math.max(10, math.min(50, math.ceil(math.sqrt(#v))))
  if type(n) ~= "number" or n < 1 or n ~= math.floor(n) then
    argerror(2, "hist", "option bins must be a positive integer")
  end
  if hi == lo then lo, hi = lo - 0.5, hi + 0.5 end
  local width = (hi - lo) / n
  local count = {}
  for b = 1, n do count[b] = 0 end
  for i = 1, #v do
    local x = v[i]
    if x == x then
      local b = math.min(n, math.floor((x - lo) / width) + 1)  -- the top edge belongs to the last bin
      count[b] = count[b] + 1
    end
  end
  local rows = {}
  for b = 1, n do rows[b] = ("%s %d %s"):format(num(lo + (b - 0.5) * width), count[b], num(width)) end
  ctx:add("set grid ytics")
  ctx:add("set style fill solid 0.6 border rgb '#333333'")
  ctx:add("set yrange [0:*]")
  ctx:common(o)
  ctx:add(("plot %s using 1:2:3 with boxes lc rgb '%s' notitle"):format(ctx:block(table.concat(rows, "\n")), COLOURS[1]))
  return o
end

function kinds.bar(ctx, values, o)
  o = util.options(o, ctx.fn, kinds.OPTIONS.bar, ctx.level)
  local labels, v = o.labels, nil
  if labels ~= nil and type(labels) ~= "table" then
    argerror(2, "bar", "option labels must be a list of names, got " .. typename(labels))
  end
  if type(values) == "table" and not plotcore.shape(values) and values[1] == nil and next(values) ~= nil then
    labels, v = {}, {}
    for k in pairs(values) do labels[#labels + 1] = k end
    table.sort(labels, function(a, b) return tostring(a) < tostring(b) end)
    for i, k in ipairs(labels) do
      v[i] = values[k]
      if type(v[i]) ~= "number" then argerror(1, "bar", ("value of '%s' is not a number"):format(tostring(k))) end
    end
  else
    v = vector(values, 1, "bar")
  end
  if #v == 0 then argerror(1, "bar", "no values") end
  local rows, tics = {}, {}
  for i = 1, #v do
    rows[i] = i .. " " .. num(v[i])
    tics[i] = ctx:text(labels and labels[i] ~= nil and tostring(labels[i]) or tostring(i), "a bar label") .. " " .. i
  end
  local lo = minmax(v)
  ctx:add("set grid ytics")
  ctx:add("set style fill solid 0.7 border rgb '#333333'")
  ctx:add("set boxwidth 0.7")
  ctx:add(("set xrange [0.4:%s]"):format(num(#v + 0.6)))
  if lo >= 0 then ctx:add("set yrange [0:*]") end
  -- slanted tick labels only when upright ones would run into each other
  -- (about 7 characters fit under a bar of a 600-pixel plot of 10 bars)
  local longest = 0
  for i = 1, #v do longest = math.max(longest, utf8.len(tostring(labels and labels[i] or i)) or 0) end
  ctx:add("set xtics (" .. table.concat(tics, ", ") .. ")" .. (longest * #v > 70 and " rotate by -45" or ""))
  ctx:common(o)
  ctx:add(("plot %s using 1:2 with boxes lc rgb '%s' notitle"):format(ctx:block(table.concat(rows, "\n")), COLOURS[1]))
  return o
end

-- The height, width and channels (1 or 3) of an image of n values.
-- net:forward on a B×2 matrix of grid points → predicted 0-based labels.
local function classify_grid(net, pts, fname, threshold)
  local matrix = require "deltalab.matrix"
  local B = #pts
  local X = matrix.zeros(B, 2)
  for i, p in ipairs(pts) do X:set(i, 1, p[1]); X:set(i, 2, p[2]) end
  local ok, out = pcall(net.forward, net, X)
  if not ok then error(fname .. ": net:forward on a " .. B .. "x2 grid failed: " .. tostring(out), 0) end
  local r, c = plotcore.shape(out)
  local v
  if r then
    v = plotcore.values(out)
  elseif type(out) == "table" then
    r, c, v = grid_values(out, 1, fname)
  else
    error(fname .. ": net:forward returned " .. typename(out) .. ", expected a matrix", 0)
  end
  if r ~= B then error(("%s: net:forward returned %d rows for %d points"):format(fname, r, B), 0) end
  local labels = {}
  for i = 1, B do
    if c == 1 then
      labels[i] = v[i] >= threshold and 1 or 0
    else
      local best, arg = -math.huge, 1
      for j = 1, c do
        local x = v[(i - 1) * c + j]
        if x > best then best, arg = x, j end
      end
      labels[i] = arg - 1  -- class labels are 0-based
    end
  end
  return labels, math.max(c, 2)
end

function kinds.boundary(ctx, net, set, o)
  o = util.options(o, ctx.fn, kinds.OPTIONS.boundary, ctx.level)
  if net == nil or (type(net) ~= "table" and type(net) ~= "userdata") then
    argerror(1, "boundary", "network expected, got " .. typename(net))
  end
  local okf, fwd = pcall(function() return net.forward end)
  if not okf or fwd == nil then argerror(1, "boundary", "network with a forward method expected, got " .. typename(net)) end
  local xs, labels = points_of(set, nil, "boundary")
  if #xs == 0 then argerror(2, "boundary", "no points") end
  local x0, x1, y0, y1 = math.huge, -math.huge, math.huge, -math.huge
  for _, p in ipairs(xs) do
    x0, x1 = math.min(x0, p[1]), math.max(x1, p[1])
    y0, y1 = math.min(y0, p[2]), math.max(y1, p[2])
  end
  local mx, my = (x1 - x0) * 0.08 + 1e-3, (y1 - y0) * 0.08 + 1e-3
  x0, x1, y0, y1 = x0 - mx, x1 + mx, y0 - my, y1 + my
  if o.xrange then x0, x1 = range_arg(o.xrange, 3, "boundary") end
  if o.yrange then y0, y1 = range_arg(o.yrange, 3, "boundary") end
  local G = o.resolution or 120
  local pts = {}
  for i = 0, G - 1 do
    for j = 0, G - 1 do
      pts[#pts + 1] = { x0 + (x1 - x0) * (j + 0.5) / G, y0 + (y1 - y0) * (i + 0.5) / G }
    end
  end
  local pred, k = classify_grid(net, pts, "boundary", o.threshold or 0.5)
  for _, l in ipairs(labels or {}) do k = math.max(k, math.floor(l) + 1) end
  local rows = {}
  for i, p in ipairs(pts) do rows[i] = num(p[1]) .. " " .. num(p[2]) .. " " .. pred[i] end
  local pal = {}
  for c = 0, k - 1 do pal[#pal + 1] = ("%d '%s'"):format(c, pale(colour(c))) end
  ctx:add(("set palette maxcolors %d"):format(k))
  ctx:add("set palette defined (" .. table.concat(pal, ", ") .. ")")
  ctx:add(("set cbrange [-0.5:%s]"):format(num(k - 0.5)))
  ctx:add("unset colorbox")
  ctx:add(("set xrange [%s:%s]"):format(num(x0), num(x1)))
  ctx:add(("set yrange [%s:%s]"):format(num(y0), num(y1)))
  ctx:add("set size ratio -1")
  ctx:add("set key below")  -- over the regions a legend would be hard to read and hide points
  ctx:common(o)
  local parts = { ctx:block(table.concat(rows, "\n")) .. " using 1:2:3 with image notitle" }
  local names = o.names or (type(set) == "table" and set.names) or nil
  for _, p in ipairs(class_points(ctx, xs, labels, names, "pt 7 ps 0.6")) do parts[#parts + 1] = p end
  if not labels then ctx:add("unset key") end
  ctx:add("plot " .. table.concat(parts, ", "))
  return o
end

return kinds
