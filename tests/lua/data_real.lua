-- The real datasets, when this machine has them: MNIST (../shared/data/mnist,
-- ./data/mnist or $DELTALAB_DATA) and Fashion-MNIST (Debian's
-- dataset-fashion-mnist or ./data/fashion-mnist). Skipped when absent.
local T = require "check"

local function first_labels(set, n)
  local t = {}
  for i = 1, n do t[i] = math.tointeger(set.y:get(i, 1)) end
  return table.concat(t, " ")
end

local ok, d = pcall(data.mnist)
if not ok then
  T.skip("MNIST facts", "MNIST not found (make data, or ../shared/data/mnist)")
else
  T.test("MNIST: counts and the first labels from the data's README", function()
    T.eq(#d.train, 60000, "#train"); T.eq(#d.test, 10000, "#test")
    T.eq(select(2, d.train.X:shape()), 784, "pixels")
    T.eq(first_labels(d.train, 8), "5 0 4 1 9 2 1 3", "first train labels")
    T.eq(first_labels(d.test, 8), "7 2 1 0 4 1 4 9", "first test labels")
    T.eq(d.train.classes, 10)
    -- digit counts of the training set (counted with python3 from the same file)
    T.eq(table.concat(d.train:counts(), " "), "5923 6742 5958 6131 5842 5421 5918 6265 5851 5949")
  end)
  T.test("MNIST: E3's digits 4 and 9 relabelled 0 and 1", function()
    local s = d.train:subset(function(l) return l == 4 or l == 9 end, { relabel = true })
    T.eq(#s, 5842 + 5949); T.eq(s.classes, 2)
    T.eq(table.concat(s:counts(), " "), "5842 5949")
    T.eq(s.names[1], "4"); T.eq(s.names[2], "9")
    -- training image 3 is a 4 (labels 5 0 4 ...): the subset's first row
    local same = true
    for j = 1, 784 do same = same and s.X:get(1, j) == d.train.X:get(3, j) end
    T.truthy(same, "row 1 of the subset is training image 3"); T.eq(s.y:get(1, 1), 0)
  end)
  T.test("MNIST: pixels are byte/255 in [0, 1]", function()
    -- Independent values, read with python3's gzip from the same file: image 1's
    -- first non-zero bytes are 3 at offset 152 and 126 at 156; its bytes sum to 27525.
    local X = d.train.X
    T.eq(X:get(1, 152), 0)
    T.near(X:get(1, 153), 3 / 255, 2^-24)
    T.near(X:get(1, 157), 126 / 255, 2^-24)
    local sum, mx = 0, 0
    for j = 1, 784 do sum = sum + X:get(1, j); mx = math.max(mx, X:get(1, j)) end
    -- 784 fp32 values each within 2^-24 relative of byte/255 (<= 1): error < 784·6e-8
    T.near(sum, 27525 / 255, 5e-5, "sum of image 1")
    T.eq(mx, 1, "the brightest pixel is 255")
  end)
end

local okf, f = pcall(data.fashion_mnist)
if not okf then
  T.skip("Fashion-MNIST facts", "not installed (apt-get install dataset-fashion-mnist)")
else
  T.test("Fashion-MNIST: counts, classes and balanced labels", function()
    T.eq(#f.train, 60000); T.eq(#f.test, 10000)
    T.eq(f.train.names[10], "Ankle boot")
    -- Fashion-MNIST is balanced: 6000 of each class in train, 1000 in test
    for k, n in ipairs(f.train:counts()) do T.eq(n, 6000, "train class " .. (k - 1)) end
    for k, n in ipairs(f.test:counts()) do T.eq(n, 1000, "test class " .. (k - 1)) end
    -- the first training labels (read with python3's gzip from the same file)
    T.eq(first_labels(f.train, 8), "9 0 0 3 0 2 7 2", "first train labels")
  end)
end

T.done()
