-- handworked.lua — experiment E1: the classic hand-worked backpropagation
-- example, number by number.
--
-- A 2-2-2 sigmoid network, input x = (0.05, 0.10), target y = (0.01, 0.99),
-- weights w1..w8 = 0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55, biases
-- 0.35 (hidden) and 0.60 (output), learning rate 0.5. The script prints every
-- forward value, the cost, every δ, every ∂C/∂w (the four equations BP1–BP4
-- with the numbers filled in, via net:trace), the weights after one step and
-- the cost after it — for the quadratic cost with frozen biases (the classic
-- version), with biases trained, and for the cross-entropy cost. It then
-- checks the gradients against finite differences.
--
--   deltalab examples/handworked.lua            the whole walk-through
--   deltalab examples/handworked.lua --latex    BP1–BP4 as LaTeX to paste
--   deltalab examples/handworked.lua --quick    the same, shorter (tests run this)

local quick, latex = false, false
for _, a in ipairs(arg or {}) do
  if a == "--quick" then quick = true
  elseif a == "--latex" then latex = true
  else io.stderr:write("usage: deltalab examples/handworked.lua [--quick] [--latex]\n"); os.exit(2) end
end

local x, y = { 0.05, 0.10 }, { 0.01, 0.99 }

local function build(cost, freeze)
  return network{ 2, 2, 2, cost = cost, freeze = freeze, init = {
    { W = { { 0.15, 0.20 }, { 0.25, 0.30 } }, b = { 0.35, 0.35 } },
    { W = { { 0.40, 0.45 }, { 0.50, 0.55 } }, b = { 0.60, 0.60 } } } }
end

local function show_weights(net)
  for l = 1, 2 do
    local W, b = net.layers[l].W, net.layers[l].b
    print(("  W%d = [[%.7f, %.7f], [%.7f, %.7f]]   b%d = (%.7f, %.7f)"):format(
      l, W:get(1, 1), W:get(1, 2), W:get(2, 1), W:get(2, 2), l, b:get(1, 1), b:get(1, 2)))
  end
end

local function run(title, cost, freeze)
  print(("=== %s ==="):format(title))
  local net = build(cost, freeze)
  if not quick then print(net); print() end
  net:trace(x, y, { digits = quick and 4 or 7, format = latex and "latex" or "text" })
  local C = net:step(x, y, { lr = 0.5 })
  print(("\nafter one step with η = 0.5 (cost before: %.7f):"):format(C))
  show_weights(net)
  print(("  cost after the step: %.7f\n"):format(net:cost(x, y)))
  return net
end

run("quadratic cost, biases frozen (the classic example)", "quadratic", "b")
if not quick then
  run("quadratic cost, biases trained too", "quadratic")
end
run("cross-entropy cost (δᴸ = aᴸ − y: σ′ cancels)", "cross_entropy", "b")

print("=== gradient check ===")
build("quadratic"):gradcheck(x, y)
if not quick then
  build("cross_entropy"):gradcheck(x, y)
  print("\nStep through the algorithm yourself at the prompt:")
  print("  > w = net:walk({0.05, 0.10}, {0.01, 0.99}, {lr = 0.5})")
  print("  > w()   -- forward layer 1, then layer 2, the cost, δ², δ¹ and the gradients, the update")
end
