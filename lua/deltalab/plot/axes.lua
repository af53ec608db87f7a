--- deltalab.plot.axes: tick marks a reader can take at their word.
--
-- gnuplot's automatic ticks suit a continuous axis; three axes read wrong
-- with them, and get their ticks from here:
--
-- * an axis that counts (epochs, batches, classes) ticks at whole numbers
--   only, never at 1.2, 1.4, ...;
-- * a log axis is labelled in plain decimals (0.001, 0.01, 1, 10), never
--   "10.0000000", which gnuplot prints once the axis spans many decades;
-- * an axis of named cells (a heatmap's rows, a confusion matrix's classes)
--   is labelled with the names, one tick per cell.

local gnuplot = require "deltalab.plot.gnuplot"

local num, q = gnuplot.num, gnuplot.quote

local axes = {}

--- The step of whole-number ticks over [lo, hi]: the smallest of 1, 2, 5,
-- 10, 20, 50, ... that gives at most `most` (default 10) intervals.
function axes.integer_step(lo, hi, most)
  local span, p = hi - lo, 1
  while true do
    for _, m in ipairs{ 1, 2, 5 } do
      if span / (m * p) <= (most or 10) then return m * p end
    end
    p = p * 10
  end
end

--- "set Xtics STEP" for an axis (x, y) of whole numbers from lo to hi.
function axes.integer_tics(axis, lo, hi)
  return ("set %stics %d"):format(axis, axes.integer_step(lo, hi))
end

--- v, a tick of a log axis (m·10^p, m of 1..9), in plain decimals: 0.002,
-- 1, 500; beyond a millionth or a million, 1e-07 and 2e+08 (a row of zeros
-- there reads worse than the exponent).
function axes.decimal(v)
  local p = math.floor(math.log(v, 10) + 1e-9)
  if p < -6 or p > 6 then return ("%g"):format(v) end
  return ("%." .. math.max(0, -p) .. "f"):format(v)
end
local decimal = axes.decimal

-- Largest m·10^p ≤ x (m in 1, 2, 5), and smallest ≥ x.
local function floor125(x)
  local p = 10 ^ math.floor(math.log(x, 10) + 1e-9)
  for _, m in ipairs{ 5, 2, 1 } do
    if m * p <= x * (1 + 1e-9) then return m * p end
  end
  return p / 2
end
local function ceil125(x)
  local p = 10 ^ math.floor(math.log(x, 10) - 1e-9)
  for _, m in ipairs{ 1, 2, 5, 10 } do
    if m * p >= x * (1 - 1e-9) then return m * p end
  end
  return 10 * p
end

--- The ticks of a log axis (x or y) over the positive numbers lo..hi: the
-- commands setting its tick list (labels in plain decimals, minor ticks
-- unlabelled) and, unless fixed (the user gave the range), its range, from
-- the 1-2-5 number below lo to the one above hi.
function axes.log_tics(axis, lo, hi, fixed)
  local a, b = lo, hi
  if not fixed then a, b = floor125(lo), ceil125(hi) end
  if not (a > 0 and b > a) then return {} end
  local la, lb = math.log(a, 10), math.log(b, 10)
  local decades = lb - la
  local tics = {}
  local function tic(v, minor)
    if v >= a * (1 - 1e-9) and v <= b * (1 + 1e-9) then
      tics[#tics + 1] = minor and ("'' %s 1"):format(num(v)) or ("%s %s"):format(q(decimal(v)), num(v))
    end
  end
  local every = math.max(1, math.ceil(decades / 8))  -- at most about 8 labelled decades
  for p = math.floor(la + 1e-9), math.ceil(lb - 1e-9) do
    local d = 10 ^ p
    for m = 1, 9 do
      if decades <= 1.5 then
        tic(m * d, not (m == 1 or m == 2 or m == 5))  -- a short axis: 1, 2, 5 labelled
      elseif m == 1 then
        tic(d, p % every ~= 0)
      elseif every == 1 then
        tic(m * d, true)
      end
    end
  end
  local cmds = { ("set %stics (%s)"):format(axis, table.concat(tics, ", ")) }
  if not fixed then cmds[2] = ("set %srange [%s:%s]"):format(axis, num(a), num(b)) end
  return cmds
end

--- "set Xtics (...)" naming cells 1..n of an axis: names[i] for cell i (a
-- list), or first + i - 1 (a number: 0 for 0-based class labels). More
-- than 20 cells are labelled every so often, at whole steps.
function axes.cell_tics(axis, n, names, fname)
  local step = n <= 20 and 1 or axes.integer_step(1, n, 10)
  local tics = {}
  for i = 1, n, step do
    local label
    if type(names) == "number" then
      label = ("%d"):format(names + i - 1)
    else
      label = tostring(names[i] == nil and "" or names[i])
    end
    tics[#tics + 1] = gnuplot.text(label, fname, "a tick label") .. " " .. i
  end
  return ("set %stics (%s)"):format(axis, table.concat(tics, ", "))
end

return axes
