--- deltalab.data: datasets — finders for MNIST, Fashion-MNIST and CIFAR-10,
-- loaders for IDX, CIFAR-10 binary, CSV and NPY files, toy generators, and
-- the dataset object (doc/data.md is the reference).
--
--     > d = data.mnist()
--     > d.train
--     dataset mnist train: 60000 samples, X 60000x784, y 60000x1, 10 classes, shape 28x28
--     > s = data.spirals{n = 300, classes = 3, seed = 1}
--
-- This file is the public face; the work is done in lua/deltalab/data/:
-- dataset.lua (the dataset object), files.lua (one file or directory),
-- finders.lua (the well-known sets, found where a user keeps them), toy.lua
-- (generated problems) and common.lua (what they share). The numerics —
-- decoding, scaling, gathering rows, permutations, statistics, generators —
-- live in the core (src/core/io/, dataset.c, toy.c) behind deltalab.datacore.
local dataset = require "deltalab.data.dataset"
local files = require "deltalab.data.files"
local finders = require "deltalab.data.finders"
local toy = require "deltalab.data.toy"

local data = {
  dataset = dataset.new,
  isdataset = dataset.isdataset,
  -- The dataset's methods, for help to list (help.lua picks them up).
  dataset_methods = dataset.methods,
}

for _, part in ipairs{ files, finders, toy } do
  for name, f in pairs(part) do
    if type(f) == "function" then data[name] = f end
  end
end
data.cifar_dir = nil  -- a piece of data.cifar and data.cifar10, not an entry point

return data
