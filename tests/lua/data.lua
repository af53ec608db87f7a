-- The data module: loaders on files written here, finders' messages, the
-- dataset object's methods, and the toy generators.
local T = require "check"

local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir -p '" .. tmp .. "'"))

local function write(name, bytes)
  local f = assert(io.open(tmp .. "/" .. name, "wb"))
  f:write(bytes)
  f:close()
  return tmp .. "/" .. name
end

local has_gzip = os.execute("command -v gzip >/dev/null 2>&1")

local function gzip(path)
  assert(os.execute("gzip -kf '" .. path .. "'"))
  return path .. ".gz"
end

-- An IDX file of unsigned bytes with the given dimensions and byte values.
local function idx(dims, bytes)
  local parts = { string.pack(">I4", 0x800 + #dims) }
  for _, d in ipairs(dims) do parts[#parts + 1] = string.pack(">I4", d) end
  for _, b in ipairs(bytes) do parts[#parts + 1] = string.char(b) end
  return table.concat(parts)
end

-- n images of h×w whose pixels are all (i * 10 + label) for image i, and their labels.
local function fake_pair(n, h, w, labels)
  local px = {}
  for i = 1, n do
    for _ = 1, h * w do px[#px + 1] = i * 10 + labels[i] end
  end
  return idx({ n, h, w }, px), idx({ n }, labels)
end

local function row(m, i)
  local _, c = m:shape()
  local r = {}
  for j = 1, c do r[j] = m:get(i, j) end
  return r
end

T.test("data.idx reads images scaled to [0, 1] and labels as they are", function()
  local p = write("img", idx({ 2, 2, 3 }, { 0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 8 }))
  local X, dims = data.idx(p)
  T.eq(#dims, 3, "dims"); T.eq(dims[1], 2); T.eq(dims[2], 2); T.eq(dims[3], 3)
  local r, c = X:shape()
  T.eq(r, 2, "rows"); T.eq(c, 6, "cols")
  T.eq(X:get(1, 1), 0); T.eq(X:get(1, 2), 1)
  -- byte/255 rounded to fp32: within half an ulp, 2^-24 relative
  T.near(X:get(1, 3), 0.2, 0.2 * 2^-24, "51/255")
  T.near(X:get(2, 6), 8 / 255, 8 / 255 * 2^-24, "8/255")
  local raw = data.idx(p, { scale = false })
  T.eq(raw:get(2, 6), 8, "unscaled")
  local L = data.idx(write("lab", idx({ 3 }, { 5, 0, 4 })))
  T.eq(select(2, L:shape()), 1, "labels are a column")
  T.eq(L:get(1, 1), 5); T.eq(L:get(3, 1), 4)
end)

T.test("data.idx reads gzip files, told apart by their bytes", function()
  if not has_gzip then return T.skip("gzip", "no gzip command") end
  local p = write("gzimg", idx({ 2, 1, 2 }, { 10, 20, 30, 40 }))
  local gz = gzip(p)
  os.rename(gz, tmp .. "/gzimg.data")   -- a misleading name
  local X = data.idx(tmp .. "/gzimg.data", { scale = false })
  T.eq(X:get(2, 2), 40)
end)

T.test("data.idx errors name the file and what is wrong", function()
  local p = write("short", idx({ 3, 2, 2 }, { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 }))
  T.checkerror(p .. ": truncated: the header says 3x2x2 unsigned bytes (28 bytes with the "
    .. "header) but the file has 27 bytes", data.idx, p)
  p = write("magic", "\x89PNG\r\n\x1a\n0000")
  T.checkerror(p .. ": not an IDX file (magic 0x89504e47", data.idx, p)
  T.checkerror(tmp .. "/nothing: cannot open: No such file or directory", data.idx,
    tmp .. "/nothing")
  T.checkerror("bad argument #1 to 'idx' (file name expected, got number)", data.idx, 3)
  T.checkerror("unknown option 'scal'", data.idx, p, { scal = true })
  if has_gzip then
    local big = {}
    for i = 1, 50000 do big[i] = (i * 7919) % 256 end
    local full = gzip(write("cut", idx({ 50, 1000 }, big)))
    local f = io.open(full, "rb"); local bytes = f:read("a"); f:close()
    local cut = write("cut.gz", bytes:sub(1, #bytes - 200))
    T.checkerror(cut .. ": truncated or damaged", data.idx, cut)
  end
end)

-- Write the four MNIST files (n train, m test) into dir.
local function fake_mnist(dir, n, m, gz)
  assert(os.execute("mkdir -p '" .. dir .. "'"))
  local tl, sl = {}, {}
  for i = 1, n do tl[i] = (i * 3) % 10 end
  for i = 1, m do sl[i] = (i * 7) % 10 end
  local ti, tlb = fake_pair(n, 28, 28, tl)
  local si, slb = fake_pair(m, 28, 28, sl)
  local files = { ["train-images-idx3-ubyte"] = ti, ["train-labels-idx1-ubyte"] = tlb,
                  ["t10k-images-idx3-ubyte"] = si, ["t10k-labels-idx1-ubyte"] = slb }
  for name, bytes in pairs(files) do
    local f = assert(io.open(dir .. "/" .. name, "wb")); f:write(bytes); f:close()
    if gz then assert(os.execute("gzip -f '" .. dir .. "/" .. name .. "'")) end
  end
  return tl, sl
end

T.test("data.mnist{dir=} loads the four files into train and test sets", function()
  local tl = fake_mnist(tmp .. "/m1", 5, 3, has_gzip)
  local d = data.mnist{ dir = tmp .. "/m1" }
  T.eq(#d.train, 5, "#train"); T.eq(#d.test, 3, "#test")
  T.eq(d.train.classes, 10); T.eq(d.train.shape[1], 28); T.eq(d.train.shape[2], 28)
  T.eq(d.train.names[8], "7")
  T.eq(d.train.y:get(2, 1), tl[2], "label 2")
  T.near(d.train.X:get(2, 784), (20 + tl[2]) / 255, 1e-7, "pixel")
  T.eq(tostring(d.train), "dataset mnist train: 5 samples, X 5x784, y 5x1, 10 classes, "
    .. "shape 28x28")
  local small = data.mnist{ dir = tmp .. "/m1", n = 2 }
  T.eq(#small.train, 2); T.eq(#small.test, 2)
  T.eq(small.train.X:get(2, 1), d.train.X:get(2, 1), "the first n of the same file")
  T.truthy(tostring(small):find(".train  dataset mnist train: 2 samples", 1, true),
    "the pair prints as a summary")
end)

T.test("data.mnist refuses labels that do not match the images", function()
  fake_mnist(tmp .. "/m2", 4, 2, false)
  local _, lab = fake_pair(3, 28, 28, { 1, 2, 3 })
  write("m2/train-labels-idx1-ubyte", lab)
  T.checkerror("train-labels-idx1-ubyte: 3 labels for the 4 images of", data.mnist,
    { dir = tmp .. "/m2" })
  write("m2/train-labels-idx1-ubyte", idx({ 2, 2 }, { 1, 2, 3, 4 }))
  T.checkerror("expected labels (1 dimension), got 2 dimensions", data.mnist,
    { dir = tmp .. "/m2" })
end)

-- Run a chunk in a fresh deltalab with the given environment, from dir.
local function run_in(dir, env, code)
  local prog = os.getenv("DELTALAB") or "./deltalab"
  if prog:sub(1, 1) ~= "/" then
    local p = io.popen("pwd"); prog = p:read("l") .. "/" .. prog; p:close()
  end
  local f = write("chunk.lua", code)
  local cmd = ("cd '%s' && env %s '%s' '%s' 2>&1"):format(dir, env, prog, f)
  local p = io.popen(cmd)
  local out = p:read("a")
  p:close()
  return out
end

local function finder_env()
  assert(os.execute("mkdir -p '" .. tmp .. "/empty' '" .. tmp .. "/cwd'"))
  return ("DELTALAB_DATA='%s/empty' XDG_DATA_HOME='%s/xdg'"):format(tmp, tmp)
end

T.test("finders say every place they looked and how to get the data", function()
  local out = run_in(tmp .. "/cwd", finder_env(), "local ok, err = pcall(data.cifar10); print(err)")
  T.truthy(out:find("data.cifar10: CIFAR-10 not found. Looked for data_batch_1.bin .. "
    .. "data_batch_5.bin and test_batch.bin in:", 1, true), "cifar10 title in:\n" .. out)
  for _, place in ipairs{ tmp .. "/empty/cifar10 ($DELTALAB_DATA)",
                          tmp .. "/empty ($DELTALAB_DATA)",
                          "./data/cifar10 (make data's directory)",
                          tmp .. "/xdg/deltalab/cifar10 (your data directory)",
                          "../shared/data/cifar10", "cifar-10-binary.tar.gz" } do
    T.truthy(out:find(place, 1, true), "cifar10 error mentions " .. place .. " in:\n" .. out)
  end
end)

T.test("data.mnist not found: the places, make data, a partial directory's missing file", function()
  local env = finder_env()
  local out = run_in(tmp .. "/cwd", env, "local ok, e = pcall(data.mnist); print(ok and 'FOUND' or e)")
  if out:find("FOUND", 1, true) then
    -- a real MNIST further down the search list (../shared/data beside the program)
    return T.skip("data.mnist not found", "MNIST is beside the program")
  end
  T.truthy(out:find("data.mnist: MNIST not found.", 1, true), "mnist title in:\n" .. out)
  T.truthy(out:find("make data", 1, true), "mnist says make data")
  T.truthy(out:find(tmp .. "/xdg/deltalab/mnist", 1, true), "mnist xdg dir")
  fake_mnist(tmp .. "/empty/mnist", 2, 2, false)
  os.remove(tmp .. "/empty/mnist/t10k-labels-idx1-ubyte")
  out = run_in(tmp .. "/cwd", env, "local ok, e = pcall(data.mnist); print(ok and 'FOUND' or e)")
  T.truthy(out:find("has some files but not t10k-labels-idx1-ubyte", 1, true),
    "partial dir named in:\n" .. out)
end)

T.test("data.mnist finds $DELTALAB_DATA first", function()
  local env = finder_env()
  fake_mnist(tmp .. "/empty/mnist", 2, 1, false)
  local out = run_in(tmp .. "/cwd", env, "local d = data.mnist(); print(#d.train, #d.test, d.dir)")
  T.truthy(out:find("2\t1\t" .. tmp .. "/empty/mnist", 1, true), "found via env:\n" .. out)
end)

T.test("data.csv: header detection, label column, targets, names", function()
  local p = write("t.csv", "x1,x2,class\n1,2,0\n\n3,4,1\n5,6,1\n")
  local s = data.csv(p)
  T.eq(#s, 3); T.eq(s.classes, 2); T.eq(s.columns[2], "x2")
  T.eq(s.X:get(3, 2), 6); T.eq(s.y:get(2, 1), 1)
  local s1 = data.csv(p, { label = 1 })
  T.eq(s1.X:get(1, 1), 2); T.eq(s1.X:get(1, 2), 0); T.eq(s1.y:get(3, 1), 5)
  local s2 = data.csv(p, { label = "x1" })
  T.eq(s2.y:get(2, 1), 3)
  local s3 = data.csv(p, { target = { 1, 2 }, label = false })
  T.eq(select(2, s3.Y:shape()), 2); T.eq(s3.y, nil); T.eq(s3.X:get(3, 1), 1)
  local s4 = data.csv(p, { target = -1 })
  T.eq(s4.y, nil); T.eq(s4.Y:get(3, 1), 1)
  local q = write("t.tsv", "1\t2\t0\n3\t4\t2\n")
  local s5 = data.csv(q, { sep = "\t" })
  T.eq(#s5, 2); T.eq(s5.classes, 3); T.eq(s5.columns, nil)
end)

T.test("data.csv: a label column of class names", function()
  local p = write("iris.csv", "sl,sw,species\n5.1,3.5,setosa\n6.2,2.9,versicolor\n"
    .. "5.0,3.4,setosa\n6.3,3.3,virginica\n")
  local s = data.csv(p)
  T.eq(s.classes, 3); T.eq(table.concat(s.names, ","), "setosa,versicolor,virginica")
  T.eq(table.concat(s:labels(), ","), "0,1,0,2"); T.eq(select(2, s.X:shape()), 2)
  local s2 = data.csv(p, { label = "species" })
  T.eq(s2.names[3], "virginica")
  T.checkerror("line 2: column 3: 'setosa' is not a number", data.csv, p,
    { label = 1 })
end)

T.test("data.csv errors carry the line and column", function()
  local p = write("bad.csv", "a,b\n1,2\n3,x7\n")
  T.checkerror(p .. ": line 3: column 2: 'x7' is not a number", data.csv, p, { label = 1 })
  p = write("ragged.csv", "1,2,3\n4,5\n")
  T.checkerror(p .. ": line 2: 2 fields, expected 3", data.csv, p)
  p = write("frac.csv", "1,2,0\n3,4,0.5\n")
  T.checkerror("label column 3: data row 2: label 0.5 is not a whole number >= 0", data.csv, p)
  T.checkerror("no column named 'zz'", data.csv, write("h.csv", "a,b\n1,2\n"), { label = "zz" })
  T.checkerror("label column 5 is outside 1..2", data.csv, tmp .. "/h.csv", { label = 5 })
  T.checkerror("unknown option 'lable'", data.csv, tmp .. "/h.csv", { lable = 1 })
  T.checkerror("sep must be one character", data.csv, tmp .. "/h.csv", { sep = ";;" })
end)

T.test("data.npy reads through matrix.load", function()
  local m = matrix{ { 1, 2, 3 }, { 4, 5, 6 } }
  if type(m.save) ~= "function" then return T.skip("data.npy", "no m:save in this build") end
  m:save(tmp .. "/m.npy")
  local n = data.npy(tmp .. "/m.npy")
  local r, c = n:shape()
  T.eq(r, 2); T.eq(c, 3); T.eq(n:get(2, 3), 6)
  T.checkerror("bad argument #1 to 'npy' (file name expected, got no value)", data.npy)
end)

-- A CIFAR batch of n records: label (i + k) % 10, R plane = i, G = 100 + i, B = 200 + i.
local function cifar_batch(n, k)
  local parts = {}
  for i = 1, n do
    parts[#parts + 1] = string.char((i + k) % 10)
    for c = 0, 2 do parts[#parts + 1] = string.rep(string.char(c * 100 + i), 1024) end
  end
  return table.concat(parts)
end

T.test("data.cifar reads records: label byte, then R, G, B planes", function()
  local p = write("b.bin", cifar_batch(3, 0))
  local s = data.cifar(p)
  T.eq(#s, 3); T.eq(s.y:get(1, 1), 1); T.eq(s.y:get(3, 1), 3)
  T.eq(s.shape[1], 3); T.eq(s.names[1], "airplane")
  -- byte/255 in fp32: within 2^-24 relative
  T.near(s.X:get(2, 1), 2 / 255, 2^-31); T.near(s.X:get(2, 1025), 102 / 255, 2^-25)
  T.near(s.X:get(2, 3072), 202 / 255, 2^-24)
  local r, g, b = s:image(2)
  T.eq(r:get(32, 32), s.X:get(2, 1024)); T.eq(g:get(1, 1), s.X:get(2, 1025))
  T.eq(b:get(1, 2), s.X:get(2, 2050))
  local bad = write("bad.bin", cifar_batch(2, 0):sub(1, -2))
  T.checkerror(bad .. ": 6145 bytes is not a whole number of 3073-byte CIFAR-10 records",
    data.cifar, bad)
  -- a directory of batches, found by the finder too
  assert(os.execute("mkdir -p '" .. tmp .. "/c10/cifar-10-batches-bin'"))
  for k = 1, 5 do write("c10/cifar-10-batches-bin/data_batch_" .. k .. ".bin", cifar_batch(2, k)) end
  write("c10/cifar-10-batches-bin/test_batch.bin", cifar_batch(4, 9))
  write("c10/cifar-10-batches-bin/batches.meta.txt",
    "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n")
  local d = data.cifar10{ dir = tmp .. "/c10" }
  T.eq(#d.train, 10); T.eq(#d.test, 4); T.eq(d.train.names[10], "j")
  T.eq(d.train.y:get(3, 1), 3, "first record of batch 2: (1 + 2) % 10")
  local d2 = data.cifar(tmp .. "/c10/cifar-10-batches-bin")
  T.eq(#d2.train, 10)
  local d3 = data.cifar10{ dir = tmp .. "/c10", n = 3 }
  T.eq(#d3.train, 3); T.eq(#d3.test, 3); T.eq(d3.test.y:get(3, 1), 2, "(3 + 9) % 10")
end)

local function toy()
  -- 6 samples whose features encode their row: X[i] = {i, 10 i}, y = i % 3
  local X = matrix{ { 1, 10 }, { 2, 20 }, { 3, 30 }, { 4, 40 }, { 5, 50 }, { 6, 60 } }
  local y = matrix{ 1, 2, 0, 1, 2, 0 }
  return data.dataset{ X = X, y = y, names = { "a", "b", "c" }, name = "toy" }
end

T.test("data.dataset checks its fields", function()
  local s = toy()
  T.eq(#s, 6); T.eq(s.classes, 3); T.truthy(data.isdataset(s))
  T.eq(getmetatable(s).__name, "dataset")
  T.checkerror("X is 2x1 but y is 3x1", data.dataset, { X = matrix{ 1, 2 }, y = matrix{ 1, 2, 3 } })
  T.checkerror("field X must be a matrix", data.dataset, { X = 3 })
  T.checkerror("row 2: label 0.5 is not a whole number", data.dataset,
    { X = matrix{ 1, 2 }, y = matrix{ 1, 0.5 } })
end)

T.test("onehot, labels, counts", function()
  local s = toy()
  local O = s:onehot()
  T.eq(select(2, O:shape()), 3)
  T.eq(O:get(1, 2), 1); T.eq(O:get(1, 1), 0); T.eq(O:get(3, 1), 1)
  T.checkerror("onehot: row 2: label 2 is outside 0..1", s.onehot, s, 2)
  T.eq(table.concat(s:labels(), ","), "1,2,0,1,2,0")
  T.eq(table.concat(s:counts(), ","), "2,2,2")
  T.checkerror("has no labels", data.linear{ n = 3 }.onehot, data.linear{ n = 3 })
end)

T.test("subset by list, range and function, with relabel", function()
  local s = toy()
  local a = s:subset{ 6, 1 }
  T.eq(#a, 2); T.eq(a.X:get(1, 1), 6); T.eq(a.y:get(2, 1), 1); T.eq(a.classes, 3)
  local b = s:subset(2, 4)
  T.eq(#b, 3); T.eq(b.X:get(1, 1), 2); T.eq(b.X:get(3, 2), 40)
  local c = s:subset(function(l) return l == 2 or l == 0 end, { relabel = true })
  T.eq(#c, 4); T.eq(table.concat(c:labels(), ","), "1,0,1,0"); T.eq(c.classes, 2)
  T.eq(c.names[1], "a"); T.eq(c.names[2], "c")
  local d = s:subset(function(l) if l == 1 then return 7 end end)
  T.eq(#d, 2); T.eq(d.y:get(1, 1), 7); T.eq(d.classes, 8); T.eq(d.names, nil)
  T.checkerror("row position 1 is 7, outside 1..6", s.subset, s, { 7 })
  T.checkerror("rows 0..2 are outside 1..6", s.subset, s, 0, 2)
  local e = s:subset(1, 0)
  T.eq(#e, 0)
end)

T.test("split keeps order without a seed and is reproducible with one", function()
  local s = toy()
  local a, b = s:split(0.5)
  T.eq(#a, 3); T.eq(#b, 3); T.eq(a.X:get(3, 1), 3); T.eq(b.X:get(1, 1), 4)
  local p1, q1 = s:split(2 / 3, { seed = 5 })
  local p2 = s:split(2 / 3, { seed = 5 })
  T.eq(#p1, 4); T.eq(#q1, 2)
  local seen = {}
  for i = 1, 4 do
    T.eq(p1.X:get(i, 1), p2.X:get(i, 1), "same seed, same rows")
    -- rows stay whole: column 2 is 10 × column 1, the label is row % 3
    local r = p1.X:get(i, 1)
    T.eq(p1.X:get(i, 2), 10 * r); T.eq(p1.y:get(i, 1), r % 3)
    seen[r] = true
  end
  for i = 1, 2 do T.truthy(not seen[q1.X:get(i, 1)], "disjoint") end
  T.checkerror("bad argument #1 to 'split' (fraction in [0, 1] expected, got 2)", s.split, s, 2)
  T.checkerror("dataset:split: option 'seed' must be an integer, got 1.5", s.split, s,
    0.5, { seed = 1.5 })
end)

T.test("shuffle permutes X and y together, reproducibly", function()
  local s1, s2 = toy():shuffle{ seed = 3 }, toy():shuffle{ seed = 3 }
  local moved = false
  for i = 1, 6 do
    local r = s1.X:get(i, 1)
    T.eq(s1.X:get(i, 2), 10 * r); T.eq(s1.y:get(i, 1), r % 3)
    T.eq(s2.X:get(i, 1), r)
    if r ~= i then moved = true end
  end
  T.truthy(moved, "some row moved")
  T.checkerror("unknown option 'sead'", toy().shuffle, toy(), { sead = 1 })
end)

T.test("normalize returns the statistics and applies given ones", function()
  local s = toy()
  local mean, std = s:normalize()
  -- column 1 is 1..6: mean 3.5, population std sqrt(35/12)
  T.near(mean:get(1, 1), 3.5, 1e-6); T.near(std:get(1, 1), math.sqrt(35 / 12), 1e-6)
  T.near(mean:get(1, 2), 35, 1e-5)
  T.near(s.X:get(1, 1), -2.5 / math.sqrt(35 / 12), 1e-6)
  local t = toy()
  t:normalize(mean, std)
  T.near(t.X:get(6, 2), s.X:get(6, 2), 1e-6)
  local u = toy()
  local m, sd = u:normalize("global")
  T.near(m, 21 * 11 / 12, 1e-9)        -- (1..6 and 10..60) / 12 = 231/12
  T.near(u.X:get(1, 1), (1 - m) / sd, 1e-5)
  local v = toy()
  v:normalize(1, 2)
  T.eq(v.X:get(2, 1), 0.5)
  T.checkerror("std must be a number > 0", v.normalize, v, 1, 0)
  T.checkerror("mean and std must be 1x2, got 1x3 and 1x3", v.normalize, v,
    matrix.zeros(1, 3), matrix.zeros(1, 3))
end)

T.test("batches walks the rows in views, the last one smaller", function()
  local s = toy()
  local sizes, firsts = {}, {}
  for X, y in s:batches(4) do
    sizes[#sizes + 1] = X:shape(); firsts[#firsts + 1] = math.tointeger(X:get(1, 1))
    T.eq(y:get(1, 1), X:get(1, 1) % 3)
  end
  T.eq(table.concat(sizes, ","), "4,2"); T.eq(table.concat(firsts, ","), "1,5")
  local n = 0
  for _ in s:batches(4, { drop_last = true }) do n = n + 1 end
  T.eq(n, 1)
  local X1 = s:batches(2)()
  X1:set(1, 1, 99)
  T.eq(s.X:get(1, 1), 99, "batches are views")
  local seen = {}
  for X, y in toy():batches(4, { shuffle = true, seed = 2 }) do
    for i = 1, X:shape() do
      seen[#seen + 1] = math.tointeger(X:get(i, 1)); T.eq(y:get(i, 1), X:get(i, 1) % 3)
    end
  end
  table.sort(seen)
  T.eq(table.concat(seen, ","), "1,2,3,4,5,6")
  local lin = data.linear{ n = 5 }
  local _, Y = lin:batches(5)()
  T.eq(Y:shape(), 5, "regression sets give Y")
  T.checkerror("batch size must be a positive integer, got 0", s.batches, s, 0)
end)

T.test("image gives an HxW view of a sample", function()
  fake_mnist(tmp .. "/m3", 2, 1, false)
  local d = data.mnist{ dir = tmp .. "/m3" }
  local im = d.train:image(2)
  local r, c = im:shape()
  T.eq(r, 28); T.eq(c, 28)
  T.eq(im:get(28, 28), d.train.X:get(2, 784))
  im:set(1, 2, 0.5)
  T.eq(d.train.X:get(2, 2), 0.5, "a view, not a copy")
  T.checkerror("sample position in 1..2 expected, got 3", d.train.image, d.train, 3)
  T.checkerror("are not images", toy().image, toy(), 1)
end)

T.test("generators are reproducible with a seed and shaped as documented", function()
  local a, b = data.spirals{ n = 90, classes = 3, seed = 4 }, data.spirals{ n = 90, classes = 3, seed = 4 }
  local c = data.spirals{ n = 90, classes = 3, seed = 5 }
  T.eq(#a, 90); T.eq(a.classes, 3); T.eq(table.concat(a:counts(), ","), "30,30,30")
  local same, differ = true, false
  for i = 1, 90 do
    same = same and a.X:get(i, 1) == b.X:get(i, 1) and a.X:get(i, 2) == b.X:get(i, 2)
    differ = differ or a.X:get(i, 1) ~= c.X:get(i, 1)
  end
  T.truthy(same, "same seed"); T.truthy(differ, "other seed")
  local x = data.xor()
  T.eq(#x, 4); T.eq(table.concat(x:labels(), ","), "0,1,1,0"); T.eq(x.X:get(4, 2), 1)
  local xn = data.xor{ n = 50, noise = 0.05, seed = 1 }
  T.eq(#xn, 50)
  local m = data.moons{ n = 101 }
  T.eq(#m, 101); T.eq(table.concat(m:counts(), ","), "50,51")
  local bl = data.blobs{ n = 30, classes = 3, dim = 4, spread = 0, seed = 2 }
  T.eq(select(2, bl.X:shape()), 4); T.eq(select(2, bl.centers:shape()), 4)
  T.eq(bl.X:get(30, 4), bl.centers:get(3, 4), "spread 0 puts points on the centres")
  local bc = data.blobs{ n = 4, centers = { { 0, 0 }, { 5, 5 } }, spread = 0 }
  T.eq(bc.classes, 2); T.eq(bc.X:get(4, 1), 5)
  local l = data.linear{ n = 50, noise = 0, seed = 1 }
  T.eq(l.w:get(1, 1), 2); T.eq(l.b, 1)
  T.near(l.Y:get(7, 1), 2 * l.X:get(7, 1) + 1, 1e-6, "y = 2x + 1 without noise")
  local l3 = data.linear{ n = 20, dim = 3, w = { 1, -1, 0.5 }, b = 0, noise = 0 }
  T.near(l3.Y:get(2, 1), l3.X:get(2, 1) - l3.X:get(2, 2) + 0.5 * l3.X:get(2, 3), 1e-6)
  local l4a, l4b = data.linear{ dim = 4, seed = 9 }, data.linear{ dim = 4, seed = 9 }
  T.eq(l4a.w:get(4, 1), l4b.w:get(4, 1), "drawn w reproducible")
  T.checkerror("data.spirals: unknown option 'sead' (did you mean 'seed'? expected one of n, classes, noise, seed)",
    data.spirals, { sead = 1 })
  T.checkerror("data.moons: option 'n' must be an integer >= 1, got 0", data.moons, { n = 0 })
  T.checkerror("data.moons: option 'noise' must be a number >= 0, got -1", data.moons, { noise = -1 })
  T.checkerror("data.moons: option 'n' must be an integer >= 1, got 2.5", data.moons, { n = 2.5 })
  T.checkerror("data.blobs: option 'spread' must be a number >= 0, got string", data.blobs,
    { spread = "wide" })
  T.checkerror("w has 2 values but dim is 3", data.linear, { dim = 3, w = { 1, 2 } })
  T.checkerror("data.spirals: options must be a table like {name = value}, got number",
    data.spirals, 5)
end)

T.test("endless inputs fail fast: a CSV line has a length cap", function()
  local t0 = os.clock()
  T.checkerror("/dev/zero: line 1 is longer than 1048576 bytes", data.csv, "/dev/zero")
  T.truthy(os.clock() - t0 < 2, "data.csv('/dev/zero') within 2 s")
end)

os.execute("rm -rf '" .. tmp .. "'")
T.done()
