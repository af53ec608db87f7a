-- What a student reads is right or an error that says why: vectors that index
-- by shape, views of a network that are never stale, snapshots of one moment,
-- checks that never say "ok" on NaN, traces that do not contradict
-- themselves, runs that stop when they diverge and a default init that
-- trains, Tab through indexing, tables that print their contents, CSV out,
-- plots that label classes by their labels, and the small ones (interrupt wording, lr in double, labels as
-- integers, nan not -nan, out-of-memory messages that name the operation).
-- Every test here fails on the code before these were fixed. Points 5 and 9
-- have fuller suites of their own: tests/lua/divergence.lua, tests/lua/plot.lua.
local T = require "check"
local complete = require "deltalab.complete"
local has_show, show = pcall(require, "deltalab.show")  -- the prompt's printer
if not has_show then show = { value = tostring, table = tostring } end


-- What fn prints through the global print (gradcheck, trace), as one string.
local function printed(fn, ...)
  local lines, old = {}, print
  print = function(...)
    local parts = {}
    for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
    lines[#lines + 1] = table.concat(parts, "\t")
  end
  local ok, err = pcall(fn, ...)
  print = old
  if not ok then error(err, 2) end
  return table.concat(lines, "\n")
end

local function tmpdir()
  local d = os.tmpname()
  os.remove(d)
  assert(os.execute("mkdir -p '" .. d .. "'"))
  return d
end

---------------------------------------------------------------- 1. vectors

T.test("1. a 1×n or n×1 matrix indexes its elements, whatever made it", function()
  local n = matrix{ { 1, 2, 3 }, { 4, 5, 6 }, { 7, 8, 9 } }
  T.eq(matrix{ { 10, 20, 30 } }[2], 20, "matrix{{10,20,30}}[2]")
  T.eq(n:row(2)[3], 6, "n:row(2)[3]")
  T.eq(n:row(2):copy()[2], 5, "a copy of a row is still a row")
  T.eq(n:col(2)[2], 5, "n:col(2)[2] is a number, not a 1×1 matrix")
  T.eq(#n:row(2), 3, "#row")
  T.eq(#n:col(3), 3, "#col")
  T.eq(#matrix{ 1, 2, 3, 4 }, 4, "#column vector")
  local v = n:col(3)
  v[2] = 60
  T.eq(n:get(2, 3), 60, "v[i] = x writes through a column view")
  local r = matrix{ { 1, 2, 3 } }
  r[3] = 30
  T.eq(r:get(1, 3), 30, "v[i] = x on a row")
end)

T.test("1. ipairs walks a vector's elements and a matrix's rows, and ends cleanly", function()
  local seen = {}
  for i, x in ipairs(matrix{ { 4, 5, 6 }, { 7, 8, 9 } }:row(2)) do seen[i] = x end
  T.eq(table.concat(seen, ","), "7,8,9", "elements of a row")
  seen = {}
  for i, x in ipairs(matrix{ 1, 2 }) do seen[i] = x end
  T.eq(table.concat(seen, ","), "1,2", "elements of a column")
  local rows = 0
  for _, row in ipairs(matrix.zeros(3, 2)) do
    rows = rows + 1
    T.eq(row:cols(), 2, "each is a row view")
  end
  T.eq(rows, 3, "rows of a matrix")
  T.checkerror("index 5 out of range 1..3 (elements)", function() return matrix{ 1, 2, 3 }[5] end)
end)

T.test("1. any other matrix: m[i] is row i as a view, m[i][j] an element", function()
  local m = matrix{ { 1, 2 }, { 3, 4 }, { 5, 6 } }
  T.eq(m[2]:cols(), 2, "m[2] is 1×2")
  T.eq(m[3][2], 6, "m[3][2]")
  m[1][2] = 20
  T.eq(m:get(1, 2), 20, "m[i][j] = x writes")
  T.eq(#m, 3, "#m is the row count")
  T.eq(m[4], nil, "one past the last row is nil, so ipairs ends there")
  T.eq(m:get(3, 1), 5, "get is shape-independent")
  T.eq(matrix{ 7, 8 }:get(2, 1), 8, "get on a column")
end)

T.test("1. a network's vectors: layer.b[j], layer.a[j]", function()
  local net = network{ 2, 3, 2, seed = 1 }
  T.eq(net.layers[1].b[2], net.layers[1].b:get(1, 2), "b[2]")
  net:forward(matrix{ { 0.5, -0.5 } })
  T.eq(net.layers[2].a[2], net.layers[2].a:get(1, 2), "a[2] after a forward of one sample")
  T.eq(#net.layers[1].a, 3, "#a is the neuron count")
end)

------------------------------------------------------- 2. views never stale

T.test("2. layer views follow the batch size, growing and shrinking", function()
  local net = network{ 2, 3, 2, seed = 1 }
  local d = net.layers[2].delta
  local z1 = net.layers[1].z
  T.eq(d:rows(), 0, "before the first forward: no rows yet")
  net:forward(matrix{ { 1, 2 } }); net:backward(1)
  T.eq(d:rows(), 1, "the view taken before the first forward fills in")
  local X4 = matrix{ { 1, 2 }, { 3, 4 }, { 5, 6 }, { 7, 8 } }
  net:forward(X4); net:backward(matrix{ 0, 1, 1, 0 })
  T.eq(d:rows(), 4, "after a batch of 4")
  T.truthy(d == net.layers[2].delta:copy(), "shows the batch-4 δ")
  T.truthy(z1 == net.layers[1].z:copy(), "z too")
  net:step(matrix{ { 0.1, 0.2 } }, 0)
  T.eq(d:rows(), 1, "shrinks back after a batch of 1")
  T.truthy(d == net.layers[2].delta:copy(), "and shows that δ")
  local big = matrix.rand(40, 2, { seed = 2 })
  net:forward(big)
  T.eq(z1:rows(), 40, "grows past the workspace's size (it moves)")
  T.truthy(z1 == net.layers[1].z:copy(), "and still shows the live z")
end)

T.test("2. the output of forward and dW, db follow too", function()
  local net = network{ 2, 3, 2, seed = 1 }
  local out = net:forward(matrix{ { 1, 2 } })
  local dW, db = net.layers[1].dW, net.layers[1].db
  net:forward(matrix{ { 1, 2 }, { 3, 4 } }); net:backward(matrix{ 0, 1 })
  T.eq(out:rows(), 2, "forward's result follows the next forward")
  T.truthy(dW == net.layers[1].dW:copy() and db == net.layers[1].db:copy(), "gradients")
end)

T.test("2. a view made from a layer view raises once the batch size changed", function()
  local net = network{ 2, 3, 2, seed = 1 }
  net:forward(matrix{ { 1, 2 }, { 3, 4 }, { 5, 6 }, { 7, 8 } }); net:backward(matrix{ 0, 1, 1, 0 })
  local row3 = net.layers[2].delta:row(3)
  local want = net.layers[2].delta:row(3):copy()
  T.truthy(row3 == want, "right while the batch is the same")
  net:forward(matrix{ { 1, 2 } }); net:backward(1)
  T.checkerror("this view into layer 2's δ is out of date: layer 2's δ changed from 4x2 to 1x2; "
               .. "take it again from net.layers[2].delta", tostring, row3)
end)

----------------------------------------------------------------- 3. snapshot

T.test("3. a snapshot is one moment: the cost as a number, W before the update", function()
  local net = network{ 2, 2, 2, seed = 1 }
  local x, y = matrix{ { 0.05, 0.1 } }, matrix{ { 0.01, 0.99 } }
  local W0, b0 = net.layers[1].W:copy(), net.layers[1].b:copy()
  local C = net:step(x, y, { lr = 0.5 })
  local s = net:snapshot()
  T.eq(math.type(s.cost), "float", "cost is a number")
  T.eq(s.cost, C, "the step's cost")
  T.eq(s.cost_name, "quadratic", "the cost's name in its own field")
  T.truthy(s.layers[1].W == W0 and s.layers[1].b == b0, "W, b as the forward used them")
  T.truthy(matrix.allclose(x * s.layers[1].W:T() + s.layers[1].b, s.layers[1].z, 1e-6, 1e-7),
           "the snapshot's W and b produced its z")
  T.truthy(s.layers[1].W_updated == net.layers[1].W, "the updated W, named so")
  T.truthy(not (s.layers[1].W == s.layers[1].W_updated), "the step changed W")
end)

T.test("3. after a trainer ran, a snapshot says it cannot show the W of the last forward", function()
  local set = data.blobs{ n = 20, classes = 2, seed = 1 }
  local net = network{ 2, { 2, "softmax" }, cost = "log_likelihood", seed = 1 }
  net:step(matrix{ { 1, 2 } }, 1)
  trainer{ net = net, train = set, batch = 5, epochs = 1, progress = false }:run()
  local s = net:snapshot()
  T.eq(s.layers[1].W, nil, "no W from another moment")
  T.truthy(s.layers[1].W_updated == net.layers[1].W, "the current W, named so")
  T.truthy(type(s.note) == "string" and s.note:find("trainer", 1, true), "and why")
  net:step(matrix{ { 1, 2 } }, 1)
  s = net:snapshot()
  T.truthy(s.layers[1].W ~= nil and s.note == nil, "a step from Lua makes it whole again")
end)

T.test("3. a large network keeps W before each update once a snapshot has been asked for", function()
  local net = network{ 784, 30, 10, seed = 1 }   -- 23860 parameters: over the 4096 kept always
  local x, y = matrix.rand(1, 784, { seed = 2 }), 3
  net:step(x, y)
  local s = net:snapshot()
  T.eq(s.layers[1].W, nil, "the first snapshot after a step cannot show W before it")
  T.truthy(s.note and s.note:find("4096 parameters", 1, true), "and says why")
  T.truthy(s.layers[2].W_updated == net.layers[2].W, "the current W, named so")
  local W0 = net.layers[2].W:copy()
  net:step(x, y)
  s = net:snapshot()
  T.truthy(s.note == nil and s.layers[2].W == W0, "from then on W is the one the forward used")
  T.truthy(not (s.layers[2].W == s.layers[2].W_updated), "and the step changed it")
end)

----------------------------------------------- 4. NaN is a failure, as nan

T.test("4. gradcheck: a NaN weight is a failure, printed as such", function()
  local net = network{ 2, 3, 2, seed = 1 }
  net.layers[1].W:set(1, 1, 0 / 0)
  local r
  local text = printed(function() r = net:gradcheck(matrix{ { 0.1, 0.2 } }, 1) end)
  T.eq(r[1].ok, false, "layer 1 not ok")
  T.eq(r[2].ok, false, "layer 2 not ok (the cost is NaN)")
  T.truthy(text:find("FAILED", 1, true), "the table says FAILED:\n" .. text)
  T.truthy(not text:find("0.000e+00", 1, true), "no zero error is shown for a NaN:\n" .. text)
  T.truthy(not text:find("%sok"), "and no 'ok':\n" .. text)
  T.truthy(text:find("nan", 1, true) and not text:find("-nan", 1, true), "nan, not -nan")
end)

T.test("4. gradcheck: an infinite finite difference is a failure", function()
  local net = network{ 2, { 3, "relu" }, { 4, "softmax", c = 1e4 }, cost = "log_likelihood",
                       init = "he", seed = 1 }
  local r = net:gradcheck({ { 0.3, 0.9 }, { -0.2, 0.4 } }, { 3, 1 }, { print = false })
  T.eq(r[2].ok, false, "a saturated softmax (−ln 0) cannot pass")
  T.truthy(type(r[2].problem) == "string", "and the reason is given")
end)

T.test("4. NaN prints as nan in matrices, at the prompt and in traces", function()
  T.truthy(not tostring(matrix{ 0 / 0, -(0 / 0) }):find("-nan", 1, true), "matrix printing")
  T.eq(show.value(0 / 0), "nan", "the prompt's number")
  T.eq(show.table({ 0 / 0 }), "{nan}", "inside a table")
  local net = network{ 2, 2, seed = 1 }
  net.layers[1].W:set(1, 1, 0 / 0)
  local text = net:trace({ 0.1, 0.2 }, 1, { print = false })
  T.truthy(text:find("nan", 1, true) and not text:find("-nan", 1, true), "trace: nan, not -nan")
end)

--------------------------------------------------- 5. divergence, default init

T.test("5. a diverging run stops at the batch, before its update, and says what to change", function()
  local net = network{ 2, { 200, "relu" }, { 200, "relu" }, { 3, "softmax" },
                       cost = "log_likelihood", init = "nielsen", seed = 1 }
  local t = trainer{ net = net, train = data.spirals{ n = 300, seed = 1 }, lr = 1e6,
                     batch = 10, epochs = 3, progress = false }
  local ok, err = pcall(t.run, t)
  T.truthy(not ok and err:find("training diverged at epoch 1, batch %d+: the loss is"),
           "the message: " .. tostring(err))
  T.truthy(err:find("lower lr (1e+06)", 1, true), "what to change")
  T.eq(t.stopped, "diverged")
  for l = 1, 3 do
    for _, v in ipairs(net.layers[l].W:totable()[1]) do
      T.truthy(v == v, "W stays numbers (the failed batch's update was not made)")
    end
  end
end)

T.test("5. the default init scales by fan-in: He on ReLU layers, 1/n_in elsewhere", function()
  local net = network{ 400, { 300, "relu" }, { 10, "softmax" }, seed = 1 }
  local function var(m) local r, c = m:shape(); return (m:norm() ^ 2) / (r * c) end
  T.near(var(net.layers[1].W), 2 / 400, 0.1 * 2 / 400, "He's 2/n_in on the ReLU layer")
  T.near(var(net.layers[2].W), 1 / 300, 0.1 / 300, "1/n_in on the output layer")
  local old = network{ 400, { 300, "relu" }, { 10, "softmax" }, init = "nielsen", seed = 1 }
  T.near(var(old.layers[1].W), 1, 0.05, "init = 'nielsen' keeps the book's N(0, 1)")
end)

------------------------------------------------------------------ 6. trace

T.test("6. a batch trace says BP3 is the batch mean and shows the sample's own δ", function()
  local net = network{ 2, 3, 2, seed = 2 }
  local X = matrix{ { 0.05, 0.1 }, { 0.9, 0.3 }, { 0.2, 0.8 }, { 0.5, 0.5 } }
  local text = net:trace(X, matrix{ 0, 1, 1, 0 }, { print = false })
  T.truthy(not text:find("∂C/∂b² = δ² = ", 1, true), "no '∂C/∂b² = δ²' for a batch:\n" .. text)
  T.truthy(text:find("∂C/∂b² = mean of δ² over the 4 samples", 1, true), "says the mean")
  -- the sample's own δ printed beside it is its own, the mean is the mean
  local fmt = function(v) return ("%.4g"):format(v) end
  local own = net.layers[2]:delta_of(1)
  T.truthy(text:find("sample 1's own δ² = (" .. fmt(own[1]) .. ", " .. fmt(own[2]) .. ")", 1, true),
           "sample 1's own δ²:\n" .. text)
  local db = net.layers[2].db
  T.truthy(text:find("= (" .. fmt(db[1]) .. ", " .. fmt(db[2]) .. ")", 1, true), "the mean's values")
end)

T.test("6. a layer with a per-neuron tanh is not announced as sigmoid", function()
  local net = network{ 2, 3, 2, seed = 2 }
  net.layers[1]:set_activation(2, "tanh")
  local text = net:trace({ 0.05, 0.1 }, 1, { print = false })
  T.truthy(text:find("Layer 1, 3 neurons, sigmoid, neuron 2 tanh", 1, true), "header:\n" .. text)
end)

------------------------------------------------- 7. completion and printing

T.test("7. Tab completes through indexing, from the value's type", function()
  sem_net = network{ 2, 3, 2 }
  sem_x = matrix{ { 1, 2 }, { 3, 4 } }
  sem_d = { train = data.blobs{ n = 6, classes = 2, seed = 1 } }
  local C = complete.candidates
  T.eq(table.concat(C("sem_net.layers[2]:de"), " "), "sem_net.layers[2]:delta_of")
  T.eq(C("sem_x[1]:sha")[1], "sem_x[1]:shape")
  T.eq(C("sem_d.train:cou")[1], "sem_d.train:counts")
  local ran = false
  sem_trap = setmetatable({}, { __index = function() ran = true; return sem_x end })
  T.eq(#C("sem_trap[1]:"), 0, "a user's __index is not run")
  T.eq(ran, false, "really not run")
  sem_net, sem_x, sem_d, sem_trap = nil, nil, nil, nil
end)

T.test("7. tables at the prompt print their contents, bounded", function()
  T.eq(show.value({ 1, 2, x = "a" }), '{1, 2, x = "a"}', "short: one line")
  local long = {}
  for i = 1, 100 do long["k" .. i] = i end
  local text = show.value(long)
  T.truthy(not text:find("table: 0x", 1, true), "not an address")
  T.truthy(text:find("… 60 more", 1, true), "bounded at 40 entries")
  local nested = show.value({ a = { b = { c = 1 } }, m = matrix.zeros(2, 3) })
  T.truthy(nested:find("a = {b = {…}}", 1, true), "nested one level: " .. nested)
  T.truthy(nested:find("[matrix 2x3]", 1, true), "a matrix inside by its shape: " .. nested)
end)

--------------------------------------------------------------------- 8. CSV

T.test("8. m:save(\"x.csv\") writes CSV that reads back", function()
  local dir = tmpdir()
  local path = dir .. "/m.csv"
  local m = matrix{ { 1, 2.5, -3 }, { 1 / 3, 1e-7, 123456.789 } }
  m:save(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  T.eq(text:sub(1, 9), "1,2.5,-3\n", "text, not NPY bytes")
  T.truthy(not text:find("NUMPY", 1, true), "no NPY magic")
  T.truthy(matrix.load(path) == m, "matrix.load reads it back exactly")
  local d = data.csv(path, { label = false })
  T.truthy(d.X == m, "data.csv reads it back")
  T.checkerror("save: unknown file extension '.txt' in '" .. dir .. "/m.txt' (known: .npy, .csv)",
               m.save, m, dir .. "/m.txt")
  T.eq(io.open(dir .. "/m.txt"), nil, "nothing written for an unknown extension")
  os.execute("rm -rf '" .. dir .. "'")
end)

local has_numpy = os.execute("python3 -c 'import numpy' >/dev/null 2>&1")
if has_numpy then
  T.test("8. numpy.loadtxt reads deltalab's CSV", function()
    local dir = tmpdir()
    local m = matrix{ { 1, 2.5 }, { 1 / 3, -7 } }
    m:save(dir .. "/m.csv")
    local p = io.popen(("python3 -c \"import numpy; a = numpy.loadtxt('%s/m.csv', delimiter=',', "
                        .. "ndmin=2); print(a.shape[0], a.shape[1], repr(float(a[1][0])))\""):format(dir))
    local out = p:read("a")
    p:close()
    T.eq(out, "2 2 0.333333343\n", "shape and an exact float32")
    os.execute("rm -rf '" .. dir .. "'")
  end)
else
  T.skip("8. numpy.loadtxt reads deltalab's CSV", "python3-numpy is not installed")
end

-------------------------------------------------------------------- 9. plots

T.test("9. plots label classes by their labels and take a trainer's history", function()
  local d = tmpdir()
  local gp = d .. "/h.gp"
  local C = matrix.zeros(10, 10)
  for i = 1, 10 do C:set(i, i, 5) end
  plot.confusion(C, { script = gp })
  local f = assert(io.open(gp)); local s = f:read("a"); f:close()
  T.truthy(s:find("set ytics ('0' 1, '1' 2,", 1, true), "digits 0..9, not 1..10")
  local set = data.xor{ n = 40, seed = 1 }
  local t = trainer{ net = network{ 2, 4, 2, seed = 1 }, train = set, epochs = 3, progress = false }
  t:run()
  plot.lines(t.history, { script = gp })
  f = assert(io.open(gp)); s = f:read("a"); f:close()
  T.truthy(s:find("title 'train'", 1, true), "the loss series of the history")
  T.truthy(s:find("set xtics 1", 1, true) or not s:find("1.2", 1, true), "whole-number epoch ticks")
  os.execute("rm -rf '" .. d .. "'")
end)

----------------------------------------------------------- 10. small ones

T.test("10. the interrupt message says the epoch is still under way", function()
  local set = data.blobs{ n = 40, classes = 2, seed = 1 }
  local net = network{ 2, { 2, "softmax" }, cost = "log_likelihood", seed = 1 }
  local t = trainer{ net = net, train = set, batch = 4, epochs = 3, progress = false,
                     on_step = function(_, e, b) if e == 2 and b == 7 then error("interrupted", 0) end end }
  T.checkerror("^interrupted after batch 7 of epoch 2$", t.run, t)
end)

T.test("10. history.lr holds the lr given, in double", function()
  local set = data.blobs{ n = 20, classes = 2, seed = 1 }
  local net = network{ 2, { 2, "softmax" }, cost = "log_likelihood", seed = 1 }
  local t = trainer{ net = net, train = set, batch = 5, epochs = 2, lr = 1 / 3, progress = false }
  t:run()
  T.eq(t.history.lr[1], 1 / 3, "not 0.33333334")
  local u = trainer{ net = net, train = set, batch = 5, epochs = 3, lr = 0.3, progress = false,
                     schedule = { "step", every = 1, gamma = 0.1 } }
  u:run()
  T.eq(u.history.lr[3], 0.3 * 0.1 ^ 2, "a schedule in double too")
end)

T.test("10. labels come back as integers", function()
  local set = data.blobs{ n = 10, classes = 3, seed = 1 }
  T.eq(math.type(set.y[1]), "integer", "set.y[1]")
  T.eq(tostring(set.y[2]), tostring(math.tointeger(set.y:get(2, 1))), "prints as 2, not 2.0")
  T.eq(math.type(set.y:get(3, 1)), "integer", "y:get(i, 1)")
end)

T.test("10. out of memory names the operation and the shape", function()
  -- 4 TB: more than any machine this runs on
  T.checkerror("matrix.zeros: matrix 1000000x1000000 needs 4000.0 GB", matrix.zeros, 1e6, 1e6)
  T.checkerror("matrix.randn: matrix 1000000x1000000 needs 4000.0 GB", matrix.randn, 1e6, 1e6)
  local m = matrix.zeros(1e6, 1)
  T.checkerror("matrix *: matrix 1000000x1000000 needs 4000.0 GB", function() return m * m:T() end)
end)

T.done()
