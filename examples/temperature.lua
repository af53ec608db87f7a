-- temperature.lua — experiment E9: softmax with a temperature, a neuron with
-- its own activation, and linear output neurons.
--
-- 1. softmax(c·z) for growing c approaches argmax: the output row per c.
-- 2. One hidden neuron made linear: its δ uses σ′ = 1 while its neighbours
--    use the sigmoid's a(1 − a) (the trace says so).
-- 3. Linear output neurons: δᴸ = ∇ₐC exactly, since σ′ = 1.
--
--   deltalab examples/temperature.lua [--quick]

local quick = false
for _, a in ipairs(arg or {}) do
  if a == "--quick" then quick = true
  else io.stderr:write("usage: deltalab examples/temperature.lua [--quick]\n"); os.exit(2) end
end

print("1. softmax(c·z) approaches argmax as c grows")
local net = network{ 3, { 4, "softmax" }, init = {
  { W = { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 }, { 0.5, 0.5, 0 } }, b = { 0, 0, 0, 0 } } } }
local x = { 0.2, 0.5, 0.1 }
print(("   z = %s"):format("(0.2, 0.5, 0.1, 0.35)"))
for _, c in ipairs(quick and { 1, 10, 100 } or { 0.1, 1, 2, 5, 10, 20, 50, 100, 1000 }) do
  net.layers[1]:set_activation("softmax", c)
  local a = net:forward(x)
  print(("   c = %-6g a = (%.4f, %.4f, %.4f, %.4f)"):format(c, a:get(1, 1), a:get(1, 2),
        a:get(1, 3), a:get(1, 4)))
end

print("\n2. one hidden neuron with its own activation")
net = network{ 2, 3, 2, seed = 2 }
net.layers[1]:set_activation(2, "linear")
net:trace({ 0.05, 0.10 }, { 0.01, 0.99 })

print("3. linear output neurons: δᴸ = ∇ₐC = aᴸ − y for the quadratic cost")
net = network{ 2, 3, { 2, "linear" }, seed = 2 }
net:forward{ 0.05, 0.10 }
net:backward{ 0.01, 0.99 }
local d, g = net.layers[2]:delta_of(), net.layers[2]:grad_a()
print(("   δᴸ = (%.6f, %.6f)   ∇ₐC = (%.6f, %.6f)"):format(d:get(1, 1), d:get(2, 1),
      g:get(1, 1), g:get(2, 1)))
