-- Regenerate the pictures of doc/plot.md (doc/img/*.png) from real data:
-- toy sets from `data`, a small network trained here for plot.boundary and
-- plot.weights, MNIST test digits when the files are found (else generated
-- ring-shaped stand-ins). Deterministic: every set and network is seeded.
--
--     make doc-images          (or: ./deltalab tools/doc_images.lua [dir])
local dir = arg and arg[1] or "doc/img"
local W, H = 600, 400
local written = {}

local function out(name, size)
  local p = dir .. "/" .. name .. ".png"
  written[#written + 1] = p
  return { output = p, size = size or { W, H } }
end
local function with(o, extra) for k, v in pairs(extra) do o[k] = v end return o end

-- MNIST when it is there (the first 2000 training and test images suffice),
-- else rings of ink that look enough like digits to show a grid.
local ok, d = pcall(data.mnist, { n = 2000 })
for _, mdir in ipairs{ "../shared/data/mnist", "../../shared/data/mnist" } do
  if not ok then ok, d = pcall(data.mnist, { n = 2000, dir = mdir }) end
end
if not ok then
  io.stderr:write("doc_images: no MNIST (", tostring(d), "); drawing generated stand-ins\n")
  local function set(n, seed)
    local X, y = matrix.zeros(n, 784), matrix.zeros(n, 1)
    for k = 1, n do
      local r0, r1 = 3 + (k * seed) % 4, 7 + (k + seed) % 5
      for i = 1, 28 do for j = 1, 28 do
        local q = (i - 14.5) ^ 2 + (j - 14.5) ^ 2
        X:set(k, (i - 1) * 28 + j, (q >= r0 * r0 and q <= r1 * r1) and 1 or 0)
      end end
      y:set(k, 1, (r1 - r0) % 10)
    end
    return data.dataset{ X = X, y = y, shape = { 28, 28 }, classes = 10 }
  end
  d = { train = set(2000, 1), test = set(500, 2) }
end

-- plot.lines: the history of a real training run (MNIST subset, 8 epochs)
local net = network{ 784, { 30, "relu" }, { 10, "softmax" }, cost = "log_likelihood", init = "he", seed = 1 }
local t = trainer{ net = net, train = d.train, validation = d.test, batch = 32, lr = 0.05,
                   epochs = 8, seed = 1, progress = false }
t:run()
plot.lines(t.history, with({ title = "loss, 784-30-10 on 2000 digits", ylabel = "cross-entropy", points = true },
                            out("lines")))

-- plot.grid: the 4x5 most confidently misclassified test digits
-- (the generated stand-ins may have no mistakes: then the first 20 digits
-- with the predicted label and its confidence)
local idx, pred, conf = trainer.most_confident_errors(net, d.test, 20)
local images, titles = {}, {}
for i = 1, #idx do
  images[i] = d.test.X:row(idx[i])
  titles[i] = ("%d (%.0f %%)"):format(pred[i], 100 * conf[i])
end
if #idx == 0 then
  local a = net:forward(d.test.X:slice(1, 20))
  for i = 1, 20 do
    images[i] = d.test.X:row(i)
    titles[i] = ("%d (%.0f %%)"):format(a[i]:argmax() - 1, 100 * a[i]:max())
  end
end
plot.grid(images, with({ cols = 5, rows = 4, shape = { 28, 28 }, titles = titles,
                         title = "most confident mistakes" }, out("grid", { 500, 480 })))

-- plot.image: one test digit
plot.image(d.test.X:row(1), 28, 28, with({ title = "test image 1, label " .. d.test.y[1] }, out("image", { 320, 320 })))

-- plot.weights: the 30 hidden neurons' weights as 28x28 images
plot.weights(net.layers[1], 28, 28, with({ cols = 6, max = 18, title = "18 of the 30 hidden neurons" }, out("weights", { 480, 300 })))

-- plot.heatmap: the output layer's 10x30 weights, a row per digit 0..9
plot.heatmap(net.layers[2].W, with({ title = "output layer W (10x30)", xlabel = "hidden neuron",
                                      ylabel = "output (digit)", rowlabels = 0 }, out("heatmap")))

-- plot.confusion: the same network on the test digits
local _, test_acc = trainer.evaluate(net, d.test)
plot.confusion(net, d.test, with({ title = ("784-30-10 on %d test digits, %.1f %% right"):format(#d.test, 100 * test_acc) },
                                 out("confusion", { 520, 460 })))

-- plot.scatter and plot.boundary: spirals, and a 2-32-3 network trained on them
local sp = data.spirals{ n = 300, classes = 3, noise = 0.2, seed = 0 }
plot.scatter(sp, with({ title = "data.spirals{n = 300, classes = 3}" }, out("scatter", { 500, 400 })))
local snet = network{ 2, { 32, "tanh" }, { 3, "softmax" }, cost = "log_likelihood", init = "xavier", seed = 1 }
trainer{ net = snet, train = sp, batch = 16, lr = 0.1, momentum = 0.9, epochs = 150, seed = 1, progress = false }:run()
local _, acc = trainer.evaluate(snet, sp)
plot.boundary(snet, sp, with({ title = ("2-32-3 tanh network, %.0f %% right"):format(100 * acc) }, out("boundary", { 500, 450 })))

-- plot.hist: the hidden layer's weights after training
plot.hist(net.layers[1].W, with({ title = "hidden layer weights", xlabel = "weight", ylabel = "count" }, out("hist")))

-- plot.bar: test digits per class
local counts = {}
for i = 0, 9 do counts[tostring(i)] = 0 end
for i = 1, #d.test do local k = tostring(d.test.y[i]); counts[k] = counts[k] + 1 end
plot.bar(counts, with({ title = "test digits per class", ylabel = "count" }, out("bar")))

-- plot.landscape: the rolling ball of E8 on a double well, for two rates
local f = function(x) return x ^ 4 - 3 * x ^ 2 + x end
local df = function(x) return 4 * x ^ 3 - 6 * x + 1 end
local paths = {}
for _, lr in ipairs{ 0.02, 0.1 } do
  local x, p = 2.0, { 2.0 }
  for _ = 1, 12 do x = x - lr * df(x); p[#p + 1] = x end
  paths[("lr %g"):format(lr)] = p
end
plot.landscape(f, { -2.2, 2.3 }, paths, with({ title = "gradient descent on x^4 - 3x^2 + x" }, out("landscape")))

-- plot.surface and plot.contour: a saddle, and a narrow valley with a path
plot.surface(function(x, y) return x * x - y * y end, { -2, 2 }, { -2, 2 },
             with({ title = "x^2 - y^2", samples = 20 }, out("surface", { 520, 380 })))
local g = function(x, y) return x * x + 10 * y * y end
local path, x, y = { { -1.8, 0.9 } }, -1.8, 0.9
for _ = 1, 15 do x, y = x - 0.09 * 2 * x, y - 0.09 * 20 * y; path[#path + 1] = { x, y } end
plot.contour(g, { -2, 2 }, { -1, 1 }, with({ title = "x^2 + 10y^2, lr 0.09", path = path }, out("contour", { 600, 340 })))

-- plot.multiplot: loss and accuracy side by side
plot.multiplot(with({ cols = 2,
  { "lines", t.history, { title = "loss" } },
  { "lines", t.history, "acc", { title = "accuracy" } } }, out("multiplot", { 600, 300 })))

plot.closeall()
for _, p in ipairs(written) do print("wrote " .. p) end
