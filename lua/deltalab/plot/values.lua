--- deltalab.plot.values: reading the data and arguments plot calls are given.
--
-- Numbers from matrices and Lua tables (series, grids, points with labels),
-- ranges, and the argument errors every kind raises, in luaL_argerror's
-- words. A helper at any depth below a public call raises them, so they
-- carry no position (level 0), as the C bindings' errors do not.

local plotcore = require "deltalab.plotcore"
local util = require "deltalab.util"

local values = {}

--- Raise `bad argument #n to 'fname' (msg)`.
function values.argerror(n, fname, msg)
  util.argerror(n, fname, msg, 0)
end
local argerror = values.argerror

--- The type a user would name: matrix, a metatable's __name, or type(x).
function values.typename(x)
  if plotcore.shape(x) then return "matrix" end
  local mt = getmetatable(x)
  if type(mt) == "table" and type(mt.__name) == "string" then return mt.__name end
  return type(x)
end
local typename = values.typename

--- Whether f can be called (a function or a table with __call, not a matrix).
function values.callable(f)
  if plotcore.shape(f) then return false end
  return type(f) == "function" or (getmetatable(f) or {}).__call ~= nil
end

--- A flat list of numbers from a table of numbers or a matrix (row by row).
function values.vector(x, n, fname, what)
  if plotcore.shape(x) then return plotcore.values(x) end
  if type(x) ~= "table" then
    argerror(n, fname, ("%s expected, got %s"):format(what or "table or matrix", typename(x)))
  end
  for i = 1, #x do
    if type(x[i]) ~= "number" then
      argerror(n, fname, ("element %d is %s, expected a number"):format(i, typename(x[i])))
    end
  end
  return x
end

--- rows, cols and a flat row-major list of a matrix or a table of rows.
function values.grid_values(x, n, fname)
  local r, c = plotcore.shape(x)
  if r then return r, c, plotcore.values(x) end
  if type(x) == "table" and type(x.W) ~= "nil" and plotcore.shape(x.W) then
    return values.grid_values(x.W, n, fname)  -- a layer: its weights
  end
  if type(x) ~= "table" or type(x[1]) ~= "table" then
    argerror(n, fname, "matrix or table of rows expected, got " .. typename(x))
  end
  r, c = #x, #x[1]
  local v = {}
  for i = 1, r do
    if type(x[i]) ~= "table" or #x[i] ~= c then
      argerror(n, fname, ("row %d has not %d numbers"):format(i, c))
    end
    for j = 1, c do v[#v + 1] = tonumber(x[i][j]) or argerror(n, fname, "non-number in row " .. i) end
  end
  return r, c, v
end

--- The smallest and largest number of v, NaN skipped (huge, -huge if none).
function values.minmax(v)
  local lo, hi = math.huge, -math.huge
  for i = 1, #v do
    local x = v[i]
    if x == x then  -- skip NaN
      if x < lo then lo = x end
      if x > hi then hi = x end
    end
  end
  return lo, hi
end

--- a, b of a range {a, b} with a < b.
function values.range_arg(r, n, fname)
  if type(r) ~= "table" or type(r[1]) ~= "number" or type(r[2]) ~= "number" or not (r[1] < r[2]) then
    argerror(n, fname, "range {a, b} with a < b expected")
  end
  return r[1], r[2]
end

--- Points and their 0-based labels from (X, y) or a dataset.
function values.points_of(X, y, fname)
  if type(X) == "table" and X.X ~= nil and not plotcore.shape(X) then
    X, y = X.X, y or X.y
  end
  local xs = {}
  local r, c = plotcore.shape(X)
  if r then
    if c < 2 then argerror(1, fname, ("points must be an N×2 matrix, got %dx%d"):format(r, c)) end
    local v = plotcore.values(X)
    for i = 1, r do xs[i] = { v[(i - 1) * c + 1], v[(i - 1) * c + 2] } end
  elseif type(X) == "table" then
    for i = 1, #X do
      if type(X[i]) ~= "table" or type(X[i][1]) ~= "number" or type(X[i][2]) ~= "number" then
        argerror(1, fname, ("point %d is not an {x, y} pair"):format(i))
      end
      xs[i] = X[i]
    end
  else
    argerror(1, fname, "N×2 matrix, list of {x, y} or dataset expected, got " .. typename(X))
  end
  local labels
  if y ~= nil then
    labels = values.vector(y, 2, fname, "labels (table or matrix)")
    if #labels ~= #xs then
      argerror(2, fname, ("%d labels for %d points"):format(#labels, #xs))
    end
    for i = 1, #labels do
      if labels[i] ~= labels[i] then argerror(2, fname, ("label %d is NaN"):format(i)) end
    end
  end
  return xs, labels
end

return values
