--- deltalab.data.toy: seeded toy problems — xor, spirals, moons, blobs and a
-- linear regression set (doc/data.md).
local core = require "deltalab.datacore"
local util = require "deltalab.util"
local common = require "deltalab.data.common"
local dataset = require "deltalab.data.dataset"

local ismatrix = common.ismatrix

local M = {}

--- The XOR problem.
-- @param opts nil (the four points) or {n =, noise = 0.1, seed = 0}
-- @treturn dataset 2 classes
function M.xor(opts)
  local fn = "data.xor"
  opts = util.options(opts, fn, { "n", "noise", "seed" })
  if opts.n == nil then
    return dataset.new{ X = common.matrix{ { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 } },
                         y = core.column{ 0, 1, 1, 0 }, classes = 2, name = "xor" }
  end
  local X, y = core.xor(util.optint(opts, "n", 4, 1, fn), util.optnum(opts, "noise", 0.1, 0, fn),
                        util.optint(opts, "seed", 0, math.mininteger, fn))
  return dataset.new{ X = X, y = y, classes = 2, name = "xor" }
end

--- Interleaved spirals.
-- @param opts {n = 300, classes = 3, noise = 0.2, seed = 0}
-- @treturn dataset rows grouped by class
-- @usage local s = data.spirals{seed = 1}:shuffle{seed = 2}
function M.spirals(opts)
  local fn = "data.spirals"
  opts = util.options(opts, fn, { "n", "classes", "noise", "seed" })
  local k = util.optint(opts, "classes", 3, 1, fn)
  local X, y = core.spirals(util.optint(opts, "n", 300, 1, fn), k,
                            util.optnum(opts, "noise", 0.2, 0, fn),
                            util.optint(opts, "seed", 0, math.mininteger, fn))
  return dataset.new{ X = X, y = y, classes = k, name = "spirals" }
end

--- Two interleaving half circles.
-- @param opts {n = 200, noise = 0.1, seed = 0}
-- @treturn dataset 2 classes, rows grouped by class
function M.moons(opts)
  local fn = "data.moons"
  opts = util.options(opts, fn, { "n", "noise", "seed" })
  local X, y = core.moons(util.optint(opts, "n", 200, 1, fn),
                          util.optnum(opts, "noise", 0.1, 0, fn),
                          util.optint(opts, "seed", 0, math.mininteger, fn))
  return dataset.new{ X = X, y = y, classes = 2, name = "moons" }
end

--- Gaussian blobs.
-- @param opts {n = 300, classes = 3, dim = 2, spread = 1, box = 10, seed = 0, centers =}
-- @treturn dataset with .centers (k×dim)
function M.blobs(opts)
  local fn = "data.blobs"
  opts = util.options(opts, fn, { "n", "classes", "dim", "spread", "box", "seed", "centers" })
  local centers, k, dim = nil, util.optint(opts, "classes", 3, 1, fn),
                          util.optint(opts, "dim", 2, 1, fn)
  if opts.centers ~= nil then
    if ismatrix(opts.centers) then
      centers = opts.centers
    elseif type(opts.centers) == "table" and type(opts.centers[1]) == "table" then
      centers = common.matrix(opts.centers)
    else
      util.argerror(1, "blobs", "centers must be a list of coordinate lists or a matrix")
    end
    k, dim = centers:shape()
  end
  local X, y, C = core.blobs(util.optint(opts, "n", 300, 1, fn), k, dim,
                             util.optnum(opts, "spread", 1, 0, fn),
                             util.optnum(opts, "box", 10, 0, fn),
                             util.optint(opts, "seed", 0, math.mininteger, fn), centers)
  local set = dataset.new{ X = X, y = y, classes = k, name = "blobs" }
  set.centers = C
  return set
end

--- A linear regression set, Y = X·w + b + noise.
-- @param opts {n = 100, dim = 1, noise = 0.1, w =, b = 1, seed = 0}
-- @treturn dataset with Y, and the true .w (dim×1) and .b
-- @usage local s = data.linear{n = 200, noise = 0.05, seed = 1}   -- y ≈ 2x + 1
function M.linear(opts)
  local fn = "data.linear"
  opts = util.options(opts, fn, { "n", "dim", "noise", "w", "b", "seed" })
  local dim = util.optint(opts, "dim", 1, 1, fn)
  local w = opts.w
  if type(w) == "number" then w = { w } end
  if type(w) == "table" then
    if #w ~= dim then
      util.argerror(1, "linear", ("w has %d values but dim is %d"):format(#w, dim))
    end
    w = core.column(w)
  elseif w ~= nil and not ismatrix(w) then
    util.argerror(1, "linear", "w must be a number, a list or a dimx1 matrix")
  elseif w == nil and dim == 1 then
    w = core.column{ 2 }
  end
  local b = util.optnum(opts, "b", 1, nil, fn)
  local X, Y, W = core.linear(util.optint(opts, "n", 100, 1, fn), dim,
                              util.optnum(opts, "noise", 0.1, 0, fn), b,
                              util.optint(opts, "seed", 0, math.mininteger, fn), w)
  local set = dataset.new{ X = X, Y = Y, name = "linear" }
  set.w, set.b = W, b
  return set
end

return M
