--- deltalab.data.dataset: the dataset object — X, labels y or targets Y, the
-- class count and names, the sample shape — and its methods (doc/data.md).
local core = require "deltalab.datacore"
local util = require "deltalab.util"
local common = require "deltalab.data.common"

local ismatrix, relay = common.ismatrix, common.relay

local M = {}

--- The dataset's methods (the metatable's __index).
local dataset = {}
local meta = { __index = dataset, __name = "dataset" }

local function shape(m)
  return m:shape()
end

--- Make a dataset from matrices (data.dataset).
-- @param t {X =, y =, Y =, classes =, names =, shape =, name =}; y's labels are
--   checked (whole numbers >= 0); classes defaults to the largest label + 1
-- @treturn dataset
-- @usage local s = data.dataset{X = matrix{{0, 0}, {1, 1}}, y = matrix{0, 1}}
function M.new(t)
  if type(t) ~= "table" then
    util.argerror(1, "dataset", "table expected, got " .. (t == nil and "no value" or type(t)))
  end
  local X = t.X
  if not ismatrix(X) then util.argerror(1, "dataset", "field X must be a matrix") end
  local n, d = shape(X)
  for _, k in ipairs{ "y", "Y" } do
    local v = t[k]
    if v ~= nil then
      if not ismatrix(v) then util.argerror(1, "dataset", "field " .. k .. " must be a matrix") end
      local r, c = shape(v)
      if r ~= n then
        util.argerror(1, "dataset", ("X is %dx%d but %s is %dx%d: the numbers of rows differ")
          :format(n, d, k, r, c))
      end
      if k == "y" and c ~= 1 then
        util.argerror(1, "dataset", ("y must be an Nx1 matrix of labels, got %dx%d"):format(r, c))
      end
    end
  end
  local set = { X = X, y = t.y, Y = t.Y, names = t.names, name = t.name,
                shape = t.shape or { d } }
  if t.y then
    local k = core.check_labels(t.y)
    set.classes = t.classes or k
    if set.classes < k then
      util.argerror(1, "dataset", ("classes is %d but a label is %d"):format(set.classes, k - 1))
    end
  end
  return setmetatable(set, meta)
end

--- Whether v is a dataset.
function M.isdataset(v)
  return getmetatable(v) == meta
end

-- A new set like self with other matrices (classes, names, shape kept).
local function derive(self, X, y, Y, changes)
  local set = { X = X, y = y, Y = Y, classes = self.classes, names = self.names,
                shape = self.shape, name = self.name }
  for k, v in pairs(changes or {}) do set[k] = v end
  return setmetatable(set, meta)
end

local function checkself(self, fname)
  if getmetatable(self) ~= meta then
    error(("bad argument #1 to '%s' (dataset expected, got %s)")
      :format(fname, self == nil and "no value" or type(self)), 3)
  end
end

local function needlabels(self, fname)
  if not self.y then
    error(("dataset:%s: this dataset has no labels (y)"):format(fname), 3)
  end
end

meta.__len = function(self)
  return (shape(self.X))
end

meta.__tostring = function(self)
  local n, d = shape(self.X)
  local parts = { ("%d samples"):format(n), ("X %dx%d"):format(n, d) }
  if self.y then parts[#parts + 1] = ("y %dx1"):format(n) end
  if self.Y then parts[#parts + 1] = ("Y %dx%d"):format(shape(self.Y)) end
  if self.classes then parts[#parts + 1] = ("%d classes"):format(self.classes) end
  if self.shape and #self.shape > 1 then
    parts[#parts + 1] = "shape " .. table.concat(self.shape, "x")
  end
  return ("dataset%s: %s"):format(self.name and " " .. self.name or "",
    table.concat(parts, ", "))
end

--- One-hot targets.
-- @param k number of classes (default self.classes)
-- @treturn matrix N×k, a 1 in column label + 1 of each row
-- @usage local T = train:onehot()
function dataset:onehot(k)
  checkself(self, "onehot")
  needlabels(self, "onehot")
  k = k or self.classes
  if math.type(k) ~= "integer" or k < 1 then
    util.argerror(1, "onehot", "number of classes must be a positive integer, got " .. tostring(k))
  end
  local T = relay("onehot", core.onehot, self.y, k)
  return T
end

--- The labels as a Lua list.
-- @treturn table labels[i] is row i's label (0-based value)
function dataset:labels()
  checkself(self, "labels")
  needlabels(self, "labels")
  return core.labels(self.y)
end

--- Rows per class.
-- @treturn table counts[label + 1] = rows with that label
-- @usage data.mnist().train:counts()[1]   --> 5923
function dataset:counts()
  checkself(self, "counts")
  needlabels(self, "counts")
  return core.counts(self.y, self.classes)
end

-- Rows idx (1-based list) as a new set; newy (a list) replaces the labels.
local function take(self, idx, newy, changes)
  local y = self.y and (newy and core.column(newy) or core.rows(self.y, idx))
  local Y = self.Y and core.rows(self.Y, idx)
  return derive(self, core.rows(self.X, idx), y, Y, changes)
end

-- The row positions first..last, checked against the n rows.
local function rows_in_range(first, last, n)
  if math.type(first) ~= "integer" or math.type(last) ~= "integer" then
    util.argerror(1, "subset", "first and last must be integers", 3)
  end
  if first < 1 or last > n or last < first - 1 then
    util.argerror(1, "subset", ("rows %d..%d are outside 1..%d"):format(first, last, n), 3)
  end
  local idx = {}
  for i = first, last do idx[#idx + 1] = i end
  return idx
end

-- A list of row positions, each checked against the n rows.
local function rows_in_list(which, n)
  for i = 1, #which do
    local r = which[i]
    if math.type(r) ~= "integer" then
      util.argerror(1, "subset", ("row position %d is %s, not an integer")
        :format(i, type(r) == "number" and tostring(r) or "a " .. type(r)), 3)
    elseif r < 1 or r > n then
      util.argerror(1, "subset", ("row position %d is %d, outside 1..%d"):format(i, r, n), 3)
    end
  end
  return which
end

-- The rows whose label keep(label) accepts; when keep returned numbers for
-- some rows, also the new labels of the kept rows.
local function rows_by_filter(keep, labels)
  local idx, newl, relabelled = {}, {}, false
  for i = 1, #labels do
    local k = keep(labels[i])
    if k then
      idx[#idx + 1] = i
      relabelled = relabelled or type(k) == "number"
      newl[#newl + 1] = type(k) == "number" and k or labels[i]
    end
  end
  return idx, relabelled and newl or nil
end

-- Labels renumbered 0..k-1 in order of value, the class names that go with
-- them (false when there are none to carry over) and k.
local function relabel(labels, names)
  local seen, distinct = {}, {}
  for _, l in ipairs(labels) do
    if not seen[l] then seen[l] = true; distinct[#distinct + 1] = l end
  end
  table.sort(distinct)
  local map = {}
  for i, l in ipairs(distinct) do map[l] = i - 1 end
  local mapped = {}
  for i, l in ipairs(labels) do mapped[i] = map[l] end
  local newnames = false
  if names then
    newnames = {}
    for i, l in ipairs(distinct) do newnames[i] = names[l + 1] or tostring(l) end
  end
  return mapped, newnames, #distinct
end

--- A new dataset of some rows (copied).
-- @param which a list of row positions, a first row (then opts is the last),
--   or a function(label) returning false/nil (drop), true (keep) or a new label
-- @param opts {relabel = true}: renumber the remaining labels 0..k-1
-- @treturn dataset
-- @usage d.train:subset(function(l) return l == 4 or l == 9 end, {relabel = true})
function dataset:subset(which, opts)
  local fn = "dataset:subset"
  checkself(self, "subset")
  local idx, newy
  if type(which) == "number" then
    idx, opts = rows_in_range(which, opts, #self), nil
  elseif type(which) == "table" then
    idx = rows_in_list(which, #self)
  elseif type(which) == "function" then
    needlabels(self, "subset")
    idx, newy = rows_by_filter(which, core.labels(self.y))
  else
    util.argerror(1, "subset", "list of rows, range or function expected, got "
      .. (which == nil and "no value" or type(which)))
  end
  opts = util.options(opts, fn, { "relabel" })
  local changes = {}
  if newy then changes.names = false end
  if opts.relabel then
    needlabels(self, "subset")
    newy, changes.names, changes.classes =
      relabel(newy or core.labels(core.rows(self.y, idx)), not newy and self.names)
  end
  local set = relay("subset", take, self, idx, newy, changes)
  if set.names == false then set.names = nil end
  if newy and not opts.relabel then set.classes = relay("subset", core.check_labels, set.y) end
  return set
end

--- Two new sets: the first floor(frac·N + 0.5) rows and the rest.
-- @param frac fraction in [0, 1]
-- @param opts {seed = s}: permute the rows first (in order without a seed)
-- @treturn dataset, dataset
-- @usage local train, val = d.train:split(50000 / 60000)
function dataset:split(frac, opts)
  local fn = "dataset:split"
  checkself(self, "split")
  if type(frac) ~= "number" or not (frac >= 0 and frac <= 1) then
    util.argerror(1, "split", "fraction in [0, 1] expected, got " .. tostring(frac))
  end
  opts = util.options(opts, fn, { "seed" })
  local n = #self
  local order
  if opts.seed ~= nil then
    order = core.perm(n, util.optint(opts, "seed", 0, math.mininteger, fn))
  else
    order = {}
    for i = 1, n do order[i] = i end
  end
  local n1 = math.floor(frac * n + 0.5)
  local a, b = {}, {}
  for i = 1, n1 do a[i] = order[i] end
  for i = n1 + 1, n do b[i - n1] = order[i] end
  return take(self, a), take(self, b)
end

--- Permute the rows in place (one permutation for X, y and Y).
-- @param opts {seed = s} (default 0)
-- @treturn dataset self
function dataset:shuffle(opts)
  local fn = "dataset:shuffle"
  checkself(self, "shuffle")
  opts = util.options(opts, fn, { "seed" })
  local seed = util.optint(opts, "seed", 0, math.mininteger, fn)
  local ms = { self.X }
  if self.y then ms[#ms + 1] = self.y end
  if self.Y then ms[#ms + 1] = self.Y end
  core.permute(seed, table.unpack(ms))
  return self
end

--- Standardise X in place: X = (X - mean) / std.
-- @param mean nil (per-feature statistics of this set), "global", a number or a 1×d matrix
-- @param std a number or a 1×d matrix, as mean
-- @treturn mean, std the statistics used, to normalise another set alike
-- @usage local m, s = train:normalize(); test:normalize(m, s)
function dataset:normalize(mean, std)
  checkself(self, "normalize")
  if mean == nil then
    mean, std = core.colstats(self.X)
  elseif mean == "global" then
    mean, std = core.globalstats(self.X)
    if std < 1e-6 then std = 1 end
  elseif type(mean) == "number" then
    if type(std) ~= "number" or not (std > 0) then
      util.argerror(2, "normalize", "std must be a number > 0 when mean is a number, got "
        .. tostring(std))
    end
  elseif ismatrix(mean) then
    if not ismatrix(std) then util.argerror(2, "normalize", "matrix expected for std") end
  else
    util.argerror(1, "normalize", "mean must be nil, \"global\", a number or a 1xd matrix, got "
      .. type(mean))
  end
  relay("normalize", core.standardize, self.X, mean, std)
  return mean, std
end

--- Iterator over mini-batches.
-- @param B batch size
-- @param opts {drop_last =, shuffle =, seed =}
-- @treturn function giving X (B×d view), t (B rows of y, or of Y) per step
-- @usage for X, y in train:batches(32) do net:step(X, y) end
function dataset:batches(B, opts)
  local fn = "dataset:batches"
  checkself(self, "batches")
  if math.type(B) ~= "integer" or B < 1 then
    util.argerror(1, "batches", "batch size must be a positive integer, got " .. tostring(B))
  end
  opts = util.options(opts, fn, { "shuffle", "seed", "drop_last" })
  local n = #self
  local X, T = self.X, self.y or self.Y
  local last = opts.drop_last and n - n % B or n
  local i = 1
  if opts.shuffle then
    local order = core.perm(n, util.optint(opts, "seed", 0, math.mininteger, fn))
    return function()
      if i > last then return nil end
      local m = math.min(B, last - i + 1)
      local idx = table.move(order, i, i + m - 1, 1, {})
      i = i + m
      return core.rows(X, idx), T and core.rows(T, idx)
    end
  end
  return function()
    if i > last then return nil end
    local m = math.min(B, last - i + 1)
    local first = i
    i = i + m
    return core.view(X, first, m), T and core.view(T, first, m)
  end
end

--- Sample i as an image.
-- @param i row position
-- @treturn matrix an H×W view of row i (gray), or C views of H×W (colour planes)
function dataset:image(i)
  checkself(self, "image")
  local n = #self
  if math.type(i) ~= "integer" or i < 1 or i > n then
    util.argerror(1, "image", ("sample position in 1..%d expected, got %s"):format(n, tostring(i)))
  end
  local s = self.shape or {}
  if #s == 2 then
    return core.image(self.X, i, 0, s[1], s[2])
  elseif #s == 3 then
    local planes = {}
    for c = 1, s[1] do
      planes[c] = core.image(self.X, i, (c - 1) * s[2] * s[3], s[2], s[3])
    end
    return table.unpack(planes)
  end
  error(("dataset:image: samples of shape {%s} are not images"):format(
    table.concat(s, ", ")), 2)
end

--- The methods every dataset has (help lists them).
M.methods = dataset

return M
