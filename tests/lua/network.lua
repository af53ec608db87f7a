-- network: the Lua API against the hand-worked example, and its contracts:
-- live views, snapshots, labels, batches, per-neuron activations, freezing,
-- checkpoints, and the error message of every argument mistake.
local T = require "check"

-- The 2-2-2 example with its published numbers (fp32: 1e-6, see test_net.c).
local TOL = 1e-6
local x, y = { 0.05, 0.10 }, { 0.01, 0.99 }
local function handworked(extra)
  local spec = { 2, 2, 2, init = {
    { W = { { 0.15, 0.20 }, { 0.25, 0.30 } }, b = { 0.35, 0.35 } },
    { W = { { 0.40, 0.45 }, { 0.50, 0.55 } }, b = { 0.60, 0.60 } } } }
  for k, v in pairs(extra or {}) do spec[k] = v end
  return network(spec)
end

local function vec_near(m, want, tol, what)
  local r, c = m:shape()
  local n = math.max(r, c)
  T.eq(n, #want, what .. " length")
  for i = 1, n do
    T.near(r == 1 and m:get(1, i) or m:get(i, 1), want[i], tol, what .. "[" .. i .. "]")
  end
end

T.test("hand-worked example, biases frozen", function()
  local net = handworked{ freeze = "b" }
  net:forward(x)
  vec_near(net.layers[1].a, { 0.593269992, 0.596884378 }, TOL, "a1")
  vec_near(net.layers[2].a, { 0.751365070, 0.772928465 }, TOL, "a2")
  local C = net:backward(y)
  T.near(C, 0.298371109, TOL, "C")
  vec_near(net.layers[2]:delta_of(1), { 0.138498562, -0.038098237 }, TOL, "delta2")
  vec_near(net.layers[1]:delta_of(), { 0.008771355, 0.009954255 }, TOL, "delta1")
  net:update{ lr = 0.5 }
  local W2, W1 = net.layers[2].W, net.layers[1].W
  T.near(W2:get(1, 1), 0.358916480, TOL, "w5"); T.near(W2:get(1, 2), 0.408666186, TOL, "w6")
  T.near(W2:get(2, 1), 0.511301270, TOL, "w7"); T.near(W2:get(2, 2), 0.561370121, TOL, "w8")
  T.near(W1:get(1, 1), 0.149780716, TOL, "w1"); T.near(W1:get(1, 2), 0.199561432, TOL, "w2")
  T.near(W1:get(2, 1), 0.249751144, TOL, "w3"); T.near(W1:get(2, 2), 0.299502287, TOL, "w4")
  T.near(net:cost(x, y), 0.291027774, TOL, "cost after the step")
end)

T.test("hand-worked example, biases trained, through step", function()
  local net = handworked()
  T.near(net:step(x, y, { lr = 0.5 }), 0.298371109, TOL, "cost before")
  vec_near(net.layers[2].b, { 0.530750719, 0.619049118 }, TOL, "b2")
  vec_near(net.layers[1].b, { 0.345614323, 0.345022873 }, TOL, "b1")
  T.near(net:cost(x, y), 0.280471447, TOL, "cost after")
end)

T.test("inputs: column, row, table, batch give the same numbers", function()
  local net = handworked()
  local col = matrix{ 0.05, 0.10 }              -- 2x1, the book's way
  local row = matrix{ { 0.05, 0.10 } }
  for _, input in ipairs{ col, row, x, { { 0.05, 0.10 } } } do
    local out = net:forward(input)
    T.near(out:get(1, 2), 0.772928465, TOL, "a2[2]")
  end
  local out = net:forward{ { 0.05, 0.10 }, { 0.05, 0.10 }, { 0.05, 0.10 } }
  T.eq(select(1, out:shape()), 3, "batch rows")
  T.near(out:get(3, 1), 0.751365070, TOL, "row 3")
  T.eq(net.batch, 3, "net.batch")
end)

T.test("targets: vector, column, label, one-hot, batch of labels", function()
  local net = handworked()
  net:forward(x)
  local c1 = net:backward(y)
  local d1 = net.layers[1]:delta_of():get(1, 1)
  net:forward(x)
  T.near(net:backward(matrix{ 0.01, 0.99 }), c1, 1e-12, "column target")
  net:forward(x)
  local c_label = net:backward(1)                 -- class 1 = (0, 1)
  T.near(c_label, net:cost(x, { 0, 1 }), 1e-7, "label 1 is one-hot (0, 1)")
  net:forward{ x, x, x }
  net:backward{ 0, 1, 1 }                         -- labels of a batch
  net:forward{ x, x, x }
  local c3 = net:backward(matrix{ { 1, 0 }, { 0, 1 }, { 0, 1 } })
  T.near(c3, (net:cost(x, 0) + 2 * net:cost(x, 1)) / 3, 1e-6, "batch cost is the mean")
  T.truthy(d1 ~= 0, "delta computed")
end)

T.test("batch gradients are the mean of per-sample gradients", function()
  local net = network{ 3, { 4, "tanh" }, { 3, "softmax" }, cost = "log_likelihood", init = "xavier", seed = 3 }
  local X = { { 0.1, -0.3, 0.8 }, { 0.5, 0.2, -0.1 }, { -0.7, 0.4, 0.3 } }
  local labels = { 2, 0, 1 }
  local mean = {}
  for i = 1, 3 do
    net:forward(X[i]); net:backward(labels[i])
    for j = 1, 4 do mean[j] = (mean[j] or 0) + net.layers[1].dW:get(j, 1) / 3 end
  end
  net:forward(X); net:backward(labels)
  for j = 1, 4 do T.near(net.layers[1].dW:get(j, 1), mean[j], 1e-6, "dW1[" .. j .. "][1]") end
  -- and δ rows are the samples' δ
  net:forward(X[2]); net:backward(labels[2])
  local d = net.layers[1]:delta_of(1):get(3, 1)
  net:forward(X); net:backward(labels)
  T.near(net.layers[1]:delta_of(2):get(3, 1), d, 1e-6, "sample 2's delta")
end)

T.test("views are live; snapshots are not overwritten", function()
  local net = handworked()
  local W, a = net.layers[1].W, nil
  net:forward(x)
  a = net.layers[2].a
  local snap = net:snapshot()
  local before = snap.layers[2].a:get(1, 1)
  net:step(x, y, { lr = 0.5 })
  net:forward(x)
  T.truthy(a:get(1, 1) ~= before, "the view shows the new forward")
  T.eq(snap.layers[2].a:get(1, 1), before, "the snapshot kept the old value")
  T.near(W:get(1, 1), 0.149780716, 1e-6, "the W view saw the update")
  W:set(1, 1, 1.5)                                -- writing through a view
  T.eq(net.layers[1].W:get(1, 1), 1.5, "written through")
  net.layers[1].b = { 0, 0 }                      -- assigning copies values in
  T.eq(net.layers[1].b:get(1, 2), 0, "b assigned")
  -- a view keeps the network alive
  local v = network{ 2, 3 }.layers[1].W
  collectgarbage(); collectgarbage()
  T.eq(select(2, v:shape()), 2, "view outlives the network variable")
end)

T.test("dW, db after a one-sample net:step are that step's gradients", function()
  -- net:step at batch 1 does not write dW, db (the update takes δ·aᵀ row by
  -- row); reading them writes them. The hand-worked ∂C/∂w of the example:
  local net = handworked()
  local dW2, dW1 = net.layers[2].dW, net.layers[1].dW   -- views taken before
  net:step(x, y, { lr = 0.5 })
  T.near(dW2:get(1, 1), 0.082167041, TOL, "dC/dw5"); T.near(dW2:get(1, 2), 0.082667628, TOL, "dC/dw6")
  T.near(dW2:get(2, 1), -0.022602540, TOL, "dC/dw7"); T.near(dW2:get(2, 2), -0.022740242, TOL, "dC/dw8")
  T.near(dW1:get(1, 1), 0.000438568, TOL, "dC/dw1"); T.near(dW1:get(1, 2), 0.000877135, TOL, "dC/dw2")
  T.near(dW1:get(2, 1), 0.000497713, TOL, "dC/dw3"); T.near(dW1:get(2, 2), 0.000995425, TOL, "dC/dw4")
  vec_near(net.layers[2].db, { 0.138498562, -0.038098237 }, TOL, "db2 = delta2")
  -- Two more steps on other samples: dW, db, the snapshot's too, are the last
  -- one's, as net:forward + net:backward give them at the same parameters.
  local ref = handworked()
  for _, s in ipairs{ { { 0.3, -0.2 }, 1 }, { { -0.7, 0.4 }, 0 } } do
    for l = 1, 2 do ref.layers[l].W, ref.layers[l].b = net.layers[l].W, net.layers[l].b end
    ref:forward(s[1]); ref:backward(s[2])
    net:step(s[1], s[2], { lr = 0.5 })
  end
  local snap = net:snapshot()
  for l = 1, 2 do
    for i = 1, 2 do
      for j = 1, 2 do
        T.eq(net.layers[l].dW:get(i, j), ref.layers[l].dW:get(i, j), "dW" .. l)
        T.eq(snap.layers[l].dW:get(i, j), ref.layers[l].dW:get(i, j), "snapshot dW" .. l)
      end
      T.eq(net.layers[l].db:get(1, i), ref.layers[l].db:get(1, i), "db" .. l)
    end
  end
end)

-- Past 4096 parameters a one-sample net:step leaves its update of W¹ to the
-- next forward, which makes it in the same pass over W¹: every way to read
-- W¹ sees it made, and a W¹ set in between is not overwritten by it.
T.test("W1 after a one-sample net:step on a larger network is current everywhere", function()
  local function build()
    return network{ 100, { 50, "sigmoid" }, { 10, "sigmoid" }, init = "scaled", seed = 3 }
  end
  local net, ref = build(), build()
  local s = matrix.zeros(1, 100)
  for j = 1, 100 do s:set(1, j, ((j * 7) % 11) / 11) end
  local function maxdiff(a, b)
    local r, c = a:shape()
    local w = 0
    for i = 1, r do for j = 1, c do w = math.max(w, math.abs(a:get(i, j) - b:get(i, j))) end end
    return w
  end
  local W1 = net.layers[1].W                          -- a view taken before
  for k = 1, 3 do
    net:step(s, k, { lr = 0.5 })
    ref:forward(s); ref:backward(k); ref:update{ lr = 0.5 }
    T.truthy(maxdiff(W1, ref.layers[1].W) < 1e-6, "the view after step " .. k)
  end
  net:step(s, 4, { lr = 0.5 }); ref:forward(s); ref:backward(4); ref:update{ lr = 0.5 }
  T.near(net.layers[1].W:sum(), ref.layers[1].W:sum(), 1e-4, "W1:sum()")
  net:step(s, 5, { lr = 0.5 }); ref:forward(s); ref:backward(5); ref:update{ lr = 0.5 }
  local path = os.tmpname()
  net:save(path)
  local m = network.load(path)
  os.remove(path)
  T.truthy(maxdiff(m.layers[1].W, ref.layers[1].W) < 1e-6, "saved W1")
  net:step(s, 6, { lr = 0.5 })
  net.layers[1].W = matrix.zeros(50, 100)             -- set between two steps
  T.eq(net.layers[1].W:sum(), 0, "W1 set after a step stays as set")
  T.eq(W1:get(7, 9), 0, "and the view reads it")
end)

T.test("per-neuron activation and freezing", function()
  local net = handworked()
  net.layers[1]:set_activation(2, "linear")
  T.eq(net.layers[1]:activations()[2], "linear", "neuron 2")
  net:forward(x)
  T.eq(net.layers[1].a:get(1, 2), net.layers[1].z:get(1, 2), "a = z for the linear neuron")
  net:backward(y)
  local dsig = net.layers[1]:dsigma()
  T.eq(dsig:get(2, 1), 1, "sigma' of the linear neuron")
  local e = net:gradcheck(x, y, { print = false })
  T.truthy(e[1].W < 1e-4 and e[2].W < 1e-4, "gradcheck with a linear neuron")
  net.layers[2]:freeze("W")
  local w = net.layers[2].W:get(1, 1)
  net:step(x, y, { lr = 0.5 })
  T.eq(net.layers[2].W:get(1, 1), w, "frozen W unchanged")
  net.layers[2]:unfreeze("W")
  net:step(x, y, { lr = 0.5 })
  T.truthy(net.layers[2].W:get(1, 1) ~= w, "unfrozen W moves")
  T.eq(net.layers[2].frozen.W, false, "frozen flags readable")
end)

T.test("softmax temperature, log-likelihood, predict", function()
  local net = network{ 2, { 3, "relu" }, { 4, "softmax", c = 2 }, cost = "log_likelihood", init = "he", seed = 1 }
  T.eq(net.layers[2].c, 2, "c")
  local p = net:predict(x)
  T.eq(math.type(p), "integer", "one sample: an integer label")
  local out = net:forward(x)
  local best, bi = -1, nil
  for j = 1, 4 do if out:get(1, j) > best then best, bi = out:get(1, j), j - 1 end end
  T.eq(p, bi, "predict is the 0-based argmax")
  local e = net:gradcheck({ { 0.3, 0.9 }, { -0.2, 0.4 } }, { 3, 1 }, { print = false })
  T.truthy(e[1].ok and e[2].ok and e[1].W < 1e-4 and e[2].b < 1e-4, "gradcheck batch of 2")
  net.layers[2]:set_activation("softmax", 1e4)
  T.near(net:forward(x):get(1, bi + 1), 1, 1e-6, "large c approaches argmax")
  -- there a wrong label's a underflows to 0 and −ln a is ∞: the check must fail, not say ok
  e = net:gradcheck({ { 0.3, 0.9 }, { -0.2, 0.4 } }, { 3, 1 }, { print = false })
  T.eq(e[2].ok, false, "a saturated softmax cannot pass")
  T.truthy(e[2].problem, "and says why")
end)

T.test("every cost x a few activations pass gradcheck from Lua", function()
  local outs = { quadratic = { "linear", "tanh", "softmax", "softplus" },
                 cross_entropy = { "sigmoid", "softmax" },
                 log_likelihood = { "softmax", "sigmoid" } }
  for cost, acts in pairs(outs) do
    for _, act in ipairs(acts) do
      for _, init in ipairs{ "nielsen", "scaled", "xavier", "he" } do
        local net = network{ 3, { 5, "tanh" }, { 4, "leaky_relu" }, { 3, act }, cost = cost, init = init, seed = 7 }
        local e = net:gradcheck({ { 0.2, -0.5, 0.9 }, { 0.1, 0.4, -0.3 } }, { 0, 2 }, { print = false })
        for l = 1, 3 do
          T.truthy(e[l].W < 1e-4 and e[l].b < 1e-4,
                   ("%s/%s/%s layer %d: %g %g"):format(cost, act, init, l, e[l].W, e[l].b))
        end
      end
    end
  end
end)

T.test("gradcheck checks a sample of a big layer, or all of it", function()
  local net = network{ 50, 20, 3, seed = 2, init = "scaled" }
  local x = matrix.zeros(1, 50)
  for j = 1, 50 do x:set(1, j, math.sin(j)) end
  local e = net:gradcheck(x, 2, { max = 100, print = false })
  T.eq(e[1].checked_W, 100, "sampled"); T.eq(e[1].count_W, 1000, "of all")
  T.eq(e[2].checked_W, 60, "a small block is checked whole")
  T.truthy(e[1].W < 1e-4 and e[1].b < 1e-4, "sampled check passes")
  local all = net:gradcheck(x, 2, { all = true, print = false })
  T.eq(all[1].checked_W, 1000, "all = true")
  T.truthy(all[1].W >= e[1].W, "the full check sees at least the sampled entries")
end)

T.test("same seed, same network; summary", function()
  local a = network{ 5, 4, 3, seed = 9 }
  local b = network{ 5, 4, 3, seed = 9 }
  T.eq(a.layers[1].W:get(2, 3), b.layers[1].W:get(2, 3), "seeded")
  local s = tostring(network{ 784, { 100, "relu" }, { 10, "softmax" }, cost = "log_likelihood" })
  T.truthy(s:find("784-100-10", 1, true), "sizes in summary")
  T.truthy(s:find("79510 parameters", 1, true), "parameter count: " .. s)
  T.truthy(s:find("relu", 1, true) and s:find("softmax", 1, true), "activations")
  T.eq(network{ 784, 30, 10 }.nparams, 23860, "nparams")
end)

T.test("accumulate rule: overwritten unless asked", function()
  local net = handworked()
  net:forward(x); net:backward(y)
  local g = net.layers[1].dW:get(1, 1)
  net:forward(x); net:backward(y)
  T.eq(net.layers[1].dW:get(1, 1), g, "overwritten")
  net:forward(x); net:backward(y, { accumulate = true })
  T.near(net.layers[1].dW:get(1, 1), 2 * g, 1e-9, "accumulated")
  net:zero_grad()
  T.eq(net.layers[1].dW:get(1, 1), 0, "zeroed")
end)

T.test("L2 and momentum through update", function()
  local net = handworked()
  net:forward(x); net:backward(y)
  local w, g = net.layers[2].W:get(1, 1), net.layers[2].dW:get(1, 1)
  net:update{ lr = 0.5, lambda = 2, n = 10 }
  T.near(net.layers[2].W:get(1, 1), (1 - 0.5 * 2 / 10) * w - 0.5 * g, 1e-7, "(1 - eta lambda/n) w - eta g")
end)

T.test("checkpoints: round trip bit-exact; damage refused", function()
  local net = network{ 4, { 3, "tanh" }, { 2, "softmax", c = 1.5 }, cost = "log_likelihood", seed = 4 }
  net.layers[1]:set_activation(3, "relu")
  net.layers[1]:freeze("b")
  local path = os.tmpname()
  net:save(path)
  local m = network.load(path)
  T.eq(tostring(m), tostring(net), "same summary")
  for l = 1, 2 do
    for i = 1, net.layers[l].n_out do
      for j = 1, net.layers[l].n_in do
        T.eq(m.layers[l].W:get(i, j), net.layers[l].W:get(i, j), "W bit-exact")
      end
    end
  end
  T.eq(m.layers[1]:activations()[3], "relu", "per-neuron activation kept")
  local f = assert(io.open(path, "rb")); local bytes = f:read("a"); f:close()
  local function write(s) local g = assert(io.open(path, "wb")); g:write(s); g:close() end
  write(bytes:sub(1, #bytes - 10))
  T.checkerror("truncated", network.load, path)
  write(bytes:sub(1, 40) .. string.char((bytes:byte(41) + 1) % 256) .. bytes:sub(42))
  T.checkerror("checksum mismatch", network.load, path)
  write("return os.exit(3)\n")
  T.checkerror("not a deltalab network file", network.load, path)
  os.remove(path)
  T.checkerror("No such file", network.load, path)
  T.checkerror("network:save: cannot write /nonexistent/dir/n.dln", net.save, net, "/nonexistent/dir/n.dln")
end)

T.test("trace prints the four equations with the numbers", function()
  local net = handworked{ freeze = "b" }
  local text = net:trace(x, y, { print = false })
  for _, want in ipairs{ "BP1", "BP2", "BP3", "BP4", "0.1385", "-0.0381", "0.008771", "0.2984" } do
    T.truthy(text:find(want, 1, true), "trace mentions " .. want)
  end
  local tex = net:trace(x, y, { format = "latex", digits = 6, print = false })
  T.truthy(tex:find("\\begin{align*}", 1, true) and tex:find("0.138499", 1, true), "latex")
  local ce = handworked{ cost = "cross_entropy" }:trace(x, y, { print = false })
  T.truthy(ce:find("σ′ cancels", 1, true), "CE with sigmoid says the simplification")
  local wide = network{ 20, 12, 3, seed = 1 }:trace(matrix.zeros(1, 20), 1, { neurons = 3, print = false })
  T.truthy(wide:find("12 values", 1, true), "wide layers are cut with a note")
  T.checkerror("network:trace: invalid format 'html' (expected one of text, latex)", net.trace, net, x, y,
               { format = "html" })
  T.checkerror("network:trace: invalid format 'laex' (did you mean 'latex'? expected one of text, latex)", net.trace,
               net, x, y, { format = "laex" })
end)

T.test("walk computes one stage per call in the algorithm's order", function()
  local net = handworked{ freeze = "b" }
  local w = net:walk(x, y, { lr = 0.5, print = false, interactive = false })
  local names = {}
  while true do
    local s = w()
    if not s then break end
    names[#names + 1] = s
    if s == "forward 1" then
      T.near(net.layers[1].a:get(1, 1), 0.593269992, TOL, "a1 after forward 1")
    elseif s == "delta 2" then
      T.near(net.layers[2].delta:get(1, 1), 0.138498562, TOL, "delta2 after BP1")
    elseif s == "backward 2" then
      T.near(net.layers[1].delta:get(1, 2), 0.009954255, TOL, "delta1 after BP2")
    end
  end
  T.eq(table.concat(names, ","), "input,forward 1,forward 2,cost,delta 2,backward 2,backward 1,update")
  T.near(net.layers[2].W:get(1, 1), 0.358916480, TOL, "updated like step")
end)

T.test("argument errors name what is wrong", function()
  T.checkerror("needs at least an input and an output size", network, { 3 })
  T.checkerror("layer 2: size must be a positive integer", network, { 3, 0 })
  T.checkerror("layer 2: size must be a positive integer", network, { 3, 2.5 })
  T.checkerror("network: layer 2: invalid activation 'sigmod' (did you mean 'sigmoid'? expected one of linear, sigmoid",
               network, { 3, { 2, "sigmod" } })
  T.checkerror("layer 1 is the input and has no activation", network, { { 3, "relu" }, 2 })
  T.checkerror("network: invalid cost 'mse' (expected one of quadratic, cross_entropy, log_likelihood)",
               network, { 3, 2, cost = "mse" })
  T.checkerror("network: invalid init 'glorot' (expected one of nielsen, scaled, xavier, he, zeros, auto)",
               network, { 3, 2, init = "glorot" })
  T.checkerror("network: option 'seed' must be an integer, got string", network, { 3, 2, seed = "x" })
  T.checkerror("network: layer 2: option 'c' must be a number, got string", network, { 3, { 2, "softmax", c = "hot" } })
  T.checkerror("network: init[1]: unknown option 'w' (expected one of W, b)", network, { 3, 2, init = { { w = {} } } })
  T.checkerror("init table has 1 layers, the network 2", network, { 3, 2, 2, init = { {} } })
  T.checkerror("init[1].W is 2x2, expected 2x3", network, { 3, 2, init = { { W = matrix.zeros(2, 2) } } })
  T.checkerror("network: layer 2: softmax temperature c must be positive, got 0", network, { 3, { 2, "softmax", c = 0 } })
  T.checkerror("network: layer 2 has 20000000 neurons, expected 1 to 16777216", network, { 3, 20000000 })
  T.checkerror("network: invalid freeze 'x' (expected one of W, b)", network, { 3, 2, freeze = "x" })
  local net = handworked()
  T.checkerror("network:backward: no forward pass yet", net.backward, net, y)
  T.checkerror("input is 1x3, expected Bx2", net.forward, net, matrix{ { 1, 2, 3 } })
  T.checkerror("input must be a matrix or a table (got string)", net.forward, net, "x")
  T.checkerror("input has 3 numbers, expected 1x2", net.forward, net, { 1, 2, 3 })
  net:forward(x)
  T.checkerror("target is 1x3, expected 1x2", net.backward, net, matrix{ { 1, 2, 3 } })
  T.checkerror("label 2 out of range 0..1 (class labels are 0-based)", net.backward, net, 2)
  T.checkerror("label -1 out of range", net.backward, net, -1)
  T.checkerror("target has 3 numbers, expected 2", net.backward, net, { 1, 2, 3 })
  T.checkerror("target must be a label, a matrix or a table (got boolean)", net.backward, net, true)
  net:forward{ x, x }
  T.checkerror("one label for a batch of 2 samples", net.backward, net, 1)
  T.checkerror("3 labels for a batch of 2 samples", net.backward, net, { 0, 1, 1 })
  T.checkerror("network:update: option 'lr' must be a number, got string", net.update, net, { lr = "fast" })
  T.checkerror("network:update: option 'lr' must be finite, got inf", net.update, net, { lr = math.huge })
  T.checkerror("network:step: options must be a table like {name = value}, got number", net.step, net, x, y, 0.5)
  T.checkerror("option 'n' (training-set size) must be positive", net.update, net, { lambda = 1, n = 0 })
  T.checkerror("network expected, got number", net.forward, 1, x)
  T.checkerror("layer:delta_of: sample 3 out of range 1..2", net.layers[1].delta_of, net.layers[1], 3)
  T.checkerror("layer:z_of: sample 0 out of range 1..2", net.layers[1].z_of, net.layers[1], 0)
  T.checkerror("neuron 3 out of range 1..2", net.layers[1].set_activation, net.layers[1], 3, "relu")
  T.checkerror("invalid option 'sigmod'", net.layers[1].set_activation, net.layers[1], 1, "sigmod")
  T.checkerror("softmax belongs to a whole layer", net.layers[1].set_activation, net.layers[1], 1, "softmax")
  T.checkerror("invalid option 'w'", net.layers[1].freeze, net.layers[1], "w")
  T.checkerror("cannot set 'Z'", function() net.layers[1].Z = 1 end)
  T.checkerror("layer: W is 3x3, expected 2x2", function() net.layers[1].W = matrix.zeros(3, 3) end)
  T.checkerror("network:gradcheck: option 'eps' must be in (0, 1), got -1", net.gradcheck, net, x, y, { eps = -1 })
  T.checkerror("network:gradcheck: option 'max' must be a positive integer, got 0", net.gradcheck, net, x, y, { max = 0 })
  T.checkerror("network:gradcheck: option 'print' must be true or false, got number", net.gradcheck, net, x, y,
               { print = 0 })
  T.checkerror("network:trace: option 'digits' must be an integer from 1 to 17, got 20", net.trace, net, x, y,
               { digits = 20 })
  T.checkerror("network:trace: option 'sample' is 2, the batch has 1 sample", net.trace, net, x, y, { sample = 2 })
  T.checkerror("network:walk: option 'lr' must be a number, got string", net.walk, net, x, y, { lr = "x" })
  T.checkerror("bad argument #1 to 'trace' (input expected)", net.trace, net)
  local sm = network{ 2, { 2, "softmax" } }
  sm:forward(x)
  T.checkerror("softmax is not element-wise", sm.layers[1].dsigma, sm.layers[1])
  T.checkerror("a softmax layer has no per-neuron activations", sm.layers[1].set_activation, sm.layers[1], 1, "relu")
end)

T.test("an unknown option names the function, the near name and every valid one", function()
  T.checkerror("network: unknown option 'cots' (did you mean 'cost'? expected one of cost, init, seed, freeze)",
               network, { 2, 2, cots = 1 })
  T.checkerror("network: layer 2: unknown option 'C' (expected c)", network, { 2, { 2, "relu", C = 1 } })
  local net = handworked()
  local hyper = "expected one of lr, lambda, n, momentum)"
  T.checkerror("network:step: unknown option 'lrr' (did you mean 'lr'? " .. hyper, net.step, net, x, y, { lrr = 1 })
  T.checkerror("network:update: unknown option 'lrr' (did you mean 'lr'? " .. hyper, net.update, net, { lrr = 1 })
  net:forward(x)
  T.checkerror("network:backward: unknown option 'acumulate' (did you mean 'accumulate'? expected accumulate)",
               net.backward, net, y, { acumulate = true })
  T.checkerror("network:gradcheck: unknown option 'epss' (did you mean 'eps'? expected one of eps, max, all, print)",
               net.gradcheck, net, x, y, { epss = 1 })
  T.checkerror("network:trace: unknown option 'digitz' (did you mean 'digits'? expected one of digits, neurons, "
               .. "format, sample, print)", net.trace, net, x, y, { digitz = 3 })
  T.checkerror("network:walk: unknown option 'lrr' (did you mean 'lr'? expected one of digits, neurons, lr, lambda, "
               .. "n, momentum, print, interactive)", net.walk, net, x, y, { lrr = 1 })
  -- the names of a choice are the core's own: every activation is listed, and accepted
  local err = T.checkerror("invalid activation", network, { 2, { 2, "relux" } })
  for _, act in ipairs{ "linear", "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "step", "softmax" } do
    T.truthy(err:find(act, 1, true), "activation " .. act .. " listed")
    T.eq(network{ 2, { 2, act } }.layers[1].activation, act, act .. " accepted")
  end
end)

T.test("sample i's columns: delta_of, z_of, a_of; matrices are not callable", function()
  local net = handworked()
  local y2 = { 0.5, 0.5 }
  net:forward{ x, { 0.3, -0.1 } }
  net:backward{ y, y2 }
  local ly = net.layers[1]
  for _, k in ipairs{ "z", "a", "delta" } do
    local col = ly[k .. "_of"](ly, 2)
    T.eq(table.concat({ col:shape() }, "x"), "2x1", k .. "_of is a column")
    for j = 1, 2 do T.eq(col:get(j, 1), ly[k]:get(2, j), k .. "_of(2) is row 2 of layer." .. k) end
  end
  T.eq(getmetatable(ly.delta).__call, nil, "the matrix type has no __call")
  T.checkerror("attempt to call a matrix value", function() return ly:delta(1) end)
  net:forward(x)
  T.checkerror("layer:delta_of: no backward pass yet", ly.delta_of, ly)
  T.checkerror("layer:a_of: no forward pass yet", network{ 2, 2 }.layers[1].a_of, network{ 2, 2 }.layers[1])
end)

T.test("net:stage in walk's order computes exactly forward and backward", function()
  local a, b = handworked(), handworked()
  local X, Y = { x, { 0.3, -0.1 } }, { y, { 0.5, 0.5 } }
  a:forward(X)
  local C = a:backward(Y)
  b:stage("input", X)
  T.near(b:input_of(2):get(1, 1), 0.3, 1e-7, "input_of(2) is sample 2 as a column")
  for l = 1, 2 do b:stage("forward", l) end
  T.eq(b:stage("cost", Y), C, "the cost stage returns the cost")
  b:stage("delta")
  for l = 2, 1, -1 do b:stage("backward", l) end
  for l = 1, 2 do
    for _, k in ipairs{ "z", "a", "delta", "dW", "db" } do
      T.eq((a.layers[l][k] - b.layers[l][k]):norm(), 0, ("layer %d %s"):format(l, k))
    end
  end
  T.checkerror("(layer 3 out of range 1..2)", b.stage, b, "forward", 3)
  T.checkerror("invalid option 'sideways'", b.stage, b, "sideways")
  local fresh = handworked()
  T.checkerror("network:stage: no input yet", fresh.stage, fresh, "forward", 1)
  T.checkerror("network:input_of: no input yet", fresh.input_of, fresh)
  T.checkerror("network:input_of: sample 3 out of range 1..2", b.input_of, b, 3)
end)

T.test("the types show documented methods only: no private names, each has a reference entry", function()
  local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
  local f = assert(io.open(here .. "/../../doc/network.md"))
  local doc = f:read("a")
  f:close()
  local net = handworked()
  for tname, obj in pairs{ network = net, layer = net.layers[1] } do
    local count = 0
    for name in pairs(getmetatable(obj).__methods) do
      count = count + 1
      T.truthy(not name:find("^_"), tname .. ":" .. name .. " is not private")
      T.truthy(doc:find("### `" .. tname .. ":" .. name .. "(", 1, true), tname .. ":" .. name .. " has an entry")
    end
    T.truthy(count >= 9, tname .. " has its methods")
  end
  for _, m in ipairs{ "trace", "walk", "stage", "input_of", "gradcheck" } do
    T.eq(type(net[m]), "function", "net:" .. m)
  end
  complete_net = net
  local c = table.concat(require("deltalab.complete").candidates("complete_net:"), " ")
  complete_net = nil
  T.truthy(c:find("complete_net:stage", 1, true) and not c:find(":_", 1, true) or false,
           "Tab offers the public methods only: " .. c)
end)

T.test("a trainer takes a network (dl_checknet) and XOR is learnt", function()
  local d = { X = matrix{ { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 } }, y = matrix{ { 0 }, { 1 }, { 1 }, { 0 } } }
  local net = network{ 2, { 8, "tanh" }, { 2, "softmax" }, cost = "log_likelihood", seed = 1 }
  trainer{ net = net, train = d, batch = 4, lr = 0.5, epochs = 300 }:run()
  local p = net:predict(d.X)
  for i = 1, 4 do T.eq(p:get(i, 1), d.y:get(i, 1), "xor " .. i) end
  T.checkerror("option 'net' must be a network, got table", trainer, { net = {}, train = d })
end)

T.done()
