--- deltalab.plot.legend: a legend where the data is not.
--
-- gnuplot puts the legend (the key) in the top right corner whatever is
-- drawn there, so it hid the end of falling curves and the top of fitted
-- ones. When a call names no place (option legend), the place is chosen
-- here, once the page is known (Script:defer): the first corner, then the
-- middle of the top or bottom edge, whose box holds no point and crosses no
-- line of the data; when there is none, the legend goes outside the plot.
--
-- The box is measured on the page (font size, number and length of the
-- entries, the plot's share of a multiplot) and the data on the range it
-- spans; gnuplot's autoscaling only widens that range, which moves the
-- data away from the corners, never into a box found free.

local legend = {}

-- The places tried, in order, as fractions of the plot area: x0, x1, y0, y1
-- of a box of width bw and height bh.
local PLACES = {
  { "top right", function(bw, bh) return 1 - bw, 1, 1 - bh, 1 end },
  { "top left", function(bw, bh) return 0, bw, 1 - bh, 1 end },
  { "bottom left", function(bw, bh) return 0, bw, 0, bh end },
  { "bottom right", function(bw, bh) return 1 - bw, 1, 0, bh end },
  { "top center", function(bw, bh) return 0.5 - bw / 2, 0.5 + bw / 2, 1 - bh, 1 end },
  { "bottom center", function(bw, bh) return 0.5 - bw / 2, 0.5 + bw / 2, 0, bh end },
}

-- Whether the segment (ax, ay)-(bx, by) meets the box [x0, x1]×[y0, y1]
-- (Liang–Barsky clipping: the part of the segment inside is not empty).
local function crosses(ax, ay, bx, by, x0, x1, y0, y1)
  local t0, t1 = 0, 1
  local dx, dy = bx - ax, by - ay
  for _, e in ipairs{ { -dx, ax - x0 }, { dx, x1 - ax }, { -dy, ay - y0 }, { dy, y1 - ay } } do
    local p, r = e[1], e[2]
    if p == 0 then
      if r < 0 then return false end
    else
      local t = r / p
      if p < 0 then
        if t > t1 then return false end
        if t > t0 then t0 = t end
      else
        if t < t0 then return false end
        if t < t1 then t1 = t end
      end
    end
  end
  return true
end

-- The data in fractions of its range: lists of {x, y} runs, joined or not.
-- log: the axes drawn in log scale ("x", "y", "xy"); ranges: fixed ranges.
local function normalise(series, log, xrange, yrange)
  local lx, ly = log and log:find("x") ~= nil, log and log:find("y") ~= nil
  local function fx(x) if lx then return x > 0 and math.log(x, 10) or nil end return x end
  local function fy(y) if ly then return y > 0 and math.log(y, 10) or nil end return y end
  local x0, x1, y0, y1 = math.huge, -math.huge, math.huge, -math.huge
  for _, s in ipairs(series) do
    for i = 1, #s.xs do
      local x, y = fx(s.xs[i]), fy(s.ys[i])
      if x and y and x == x and y == y and math.abs(x) < math.huge and math.abs(y) < math.huge then
        x0, x1, y0, y1 = math.min(x0, x), math.max(x1, x), math.min(y0, y), math.max(y1, y)
      end
    end
  end
  if xrange then x0, x1 = fx(xrange[1]) or x0, fx(xrange[2]) or x1 end
  if yrange then y0, y1 = fy(yrange[1]) or y0, fy(yrange[2]) or y1 end
  if x0 > x1 then return {} end
  local sx, sy = x1 > x0 and x1 - x0 or 1, y1 > y0 and y1 - y0 or 1
  local out = {}
  for _, s in ipairs(series) do
    local run = { joined = s.joined }
    for i = 1, #s.xs do
      local x, y = fx(s.xs[i]), fy(s.ys[i])
      if x and y and x == x and y == y then
        run[#run + 1] = { (x - x0) / sx, (y1 > y0) and (y - y0) / sy or 0.5 }
      elseif #run > 0 then  -- a gap (NaN, or ≤ 0 on a log axis) breaks the line
        out[#out + 1] = run
        run = { joined = s.joined }
      end
    end
    out[#out + 1] = run
  end
  return out
end

-- Whether any of runs (normalised) touches the box x0..x1, y0..y1.
local function occupied(runs, x0, x1, y0, y1)
  for _, run in ipairs(runs) do
    for i = 1, #run do
      local p = run[i]
      if p[1] >= x0 and p[1] <= x1 and p[2] >= y0 and p[2] <= y1 then return true end
      local n = run[i + 1]
      if run.joined and n and crosses(p[1], p[2], n[1], n[2], x0, x1, y0, y1) then return true end
    end
  end
  return false
end

--- The "set key" command for data series (each {xs = ..., ys = ..., joined
-- = bool}) with n legend entries of at most `longest` characters, on the
-- page geom (term.geometry and the multiplot layout, see Script:defer).
-- opts: logscale, xrange, yrange as the call gave them.
function legend.choose(series, n, longest, geom, opts)
  local cw, lh = geom.cw, geom.lh
  -- the plot area: the page's share, less the tick labels and axis labels
  -- beside and below it and the title above (about 10 and 3 characters,
  -- 3 and 3 lines)
  local aw = geom.w / (geom.cols or 1) - 13 * cw
  local ah = geom.h / (geom.rows or 1) - 6 * lh
  -- an entry is its text, a sample line of 4 characters and spacing
  local bw = (longest + 7) * cw / math.max(aw, cw) + 0.03
  local bh = (n + 0.6) * lh / math.max(ah, lh) + 0.03
  if bw < 0.7 and bh < 0.7 then
    local runs = normalise(series, opts.logscale == true and "y" or opts.logscale, opts.xrange, opts.yrange)
    for _, place in ipairs(PLACES) do
      if not occupied(runs, place[2](bw, bh)) then return "set key " .. place[1] end
    end
  end
  -- no room inside: beside the plot when the page is wide, else below it
  if aw / cw >= 60 and (geom.cols or 1) == 1 then return "set key outside right top" end
  return "set key below"
end

--- Unless the call placed the legend itself (o.legend), have ctx place it
-- by the data (see legend.choose) once the page is known. titles: the
-- legend's entries.
function legend.place(ctx, o, series, titles)
  if o.legend ~= nil or #titles == 0 then return end
  local longest = 0
  for _, t in ipairs(titles) do longest = math.max(longest, utf8.len(t) or #t) end
  local opts = { logscale = o.logscale, xrange = o.xrange, yrange = o.yrange }
  ctx:defer(function(geom) return legend.choose(series, #titles, longest, geom, opts) end)
end

return legend
