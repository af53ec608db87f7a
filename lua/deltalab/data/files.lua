--- deltalab.data.files: loaders for one file or directory — IDX (plain or
-- gzip), NumPy .npy, CIFAR-10 binary batches and CSV (doc/data.md).
local core = require "deltalab.datacore"
local util = require "deltalab.util"
local common = require "deltalab.data.common"
local dataset = require "deltalab.data.dataset"

local relay, checkpath, exists = common.relay, common.checkpath, common.exists

local M = {}

--- Read one IDX file (plain or gzip).
-- @param path file name
-- @param opts {scale = false}: keep bytes as 0..255
-- @treturn matrix N×(product of the other dimensions), and the dimensions as a list
-- @usage local X, dims = data.idx("data/mnist/t10k-images-idx3-ubyte")
function M.idx(path, opts)
  local fn = "data.idx"
  checkpath("idx", path)
  opts = util.options(opts, fn, { "scale" })
  local X, dims = relay("idx", core.idx, path, opts.scale)
  return X, dims
end

--- Read a NumPy .npy file.
-- @param path file name
-- @treturn matrix (through matrix.load)
function M.npy(path)
  checkpath("npy", path)
  local matrix = require "deltalab.matrix"
  if type(matrix.load) ~= "function" then
    error("data.npy: this build's matrix module has no matrix.load", 2)
  end
  local m = relay("npy", matrix.load, path)
  return m
end

--- What a finder returns, {train =, test =, dir =}, prints as a summary at the prompt.
M.pair_meta = {
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

local function cifar_set(Xs, ys, name, names)
  local X = #Xs == 1 and Xs[1] or core.vcat(Xs)
  local y = #ys == 1 and ys[1] or core.vcat(ys)
  return dataset.new{ X = X, y = y, classes = 10, names = names, shape = { 3, 32, 32 },
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

--- The train and test sets of a directory of CIFAR-10 batch files.
function M.cifar_dir(dir)
  local names = cifar_meta(dir)
  local Xs, ys = {}, {}
  for _, f in ipairs(cifar_train) do
    local X, y = core.cifar(dir .. "/" .. f)
    Xs[#Xs + 1], ys[#ys + 1] = X, y
  end
  local tX, ty = core.cifar(dir .. "/test_batch.bin")
  return setmetatable({ train = cifar_set(Xs, ys, "cifar10 train", names),
                         test = cifar_set({ tX }, { ty }, "cifar10 test", names) }, M.pair_meta)
end

--- Read CIFAR-10 binary records.
-- @param path a batch file, or a directory of the six batch files
-- @treturn dataset for a file; {train =, test =} for a directory
function M.cifar(path)
  checkpath("cifar", path)
  if exists(path .. "/data_batch_1.bin") or exists(path .. "/test_batch.bin") then
    local pair = relay("cifar", M.cifar_dir, path)
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
function M.csv(path, opts)
  local fn = "data.csv"
  checkpath("csv", path)
  opts = util.options(opts, fn, { "header", "label", "target", "sep" })
  local sep = opts.sep or ","
  if type(sep) ~= "string" or #sep ~= 1 then
    util.argerror(2, "csv", "sep must be one character, got " .. tostring(sep))
  end
  local header = opts.header
  if header ~= nil and type(header) ~= "boolean" then
    util.argerror(2, "csv", "header must be true, false or nil, got " .. tostring(header))
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
  local cells, has_header, classnames = relay("csv", core.csv, path, sep, header, early)
  local _, ncols = cells:shape()
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
  local set = { X = core.cols(cells, xcols), name = path:match("([^/]*)$") }
  if ycol then
    set.y = core.cols(cells, { ycol })
    local ok, err = pcall(core.check_labels, set.y)
    if not ok then
      error(("data.csv: %s: label column %d: data %s"):format(path, ycol, err), 2)
    end
  end
  if ycols then set.Y = core.cols(cells, ycols) end
  if classnames then
    set.names, set.classes = classnames, #classnames
  end
  local ds = dataset.new(set)
  if columns then
    ds.columns = {}
    for i, j in ipairs(xcols) do ds.columns[i] = columns[j] end
  end
  return ds
end

return M
