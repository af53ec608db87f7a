-- odd_neuron.lua — experiment E9 (2): a neuron with another activation than
-- its neighbours, and linear output neurons.
--
-- Backpropagation's BP1 and BP2 multiply by σ′(z) neuron by neuron, so a
-- network may mix activations freely: each δ uses its own neuron's σ′.
--
-- 1. A 2-3-2 sigmoid network whose hidden neuron 2 is made tanh
--    (layer:set_activation(2, "tanh")): the trace shows σ′ per neuron —
--    1 − a² for neuron 2, a(1 − a) for the others — and gradcheck confirms
--    the gradients against finite differences.
-- 2. The same network with linear output neurons: σ′ = 1, so BP1 reads
--    δᴸ = ∇ₐC; for the quadratic cost ∇ₐC = aᴸ − y. The script prints δᴸ,
--    ∇ₐC (layer:grad_a()) and aᴸ − y side by side.
--
--   deltalab examples/odd_neuron.lua [--quick]

local cli = require "deltalab.cli"
cli.parse(arg, { quick = false }, "usage: deltalab examples/odd_neuron.lua [--quick]")

local x, y = { 0.05, 0.10 }, { 0.01, 0.99 }

print("1. hidden neuron 2 made tanh in a 2-3-2 sigmoid network")
local net = network{ 2, 3, 2, seed = 2 }
net.layers[1]:set_activation(2, "tanh")
print("   layer 1 activations: " .. table.concat(net.layers[1]:activations(), ", "))
net:trace(x, y)
local z, a, s = net.layers[1]:z_of(), net.layers[1]:a_of(), net.layers[1]:dsigma()
print("   σ′(z¹) per neuron, from the network and by hand:")
for j = 1, 3 do
  local hand = j == 2 and 1 - a[j] ^ 2 or a[j] * (1 - a[j])
  print(("     neuron %d  z = %8.5f  σ′ = %.6f   by hand %s = %.6f"):format(j, z[j], s[j],
    j == 2 and "1 − tanh²" or "a(1 − a) ", hand))
end
local g = net:gradcheck(x, y, { print = false })
local worst, all_ok = 0, true
for _, e in ipairs(g) do worst, all_ok = math.max(worst, e.W, e.b), all_ok and e.ok end
print(("E9 odd neuron: gradient check max relative error %.2e (%s)"):format(worst,
  all_ok and "backprop agrees" or "FAILED: " .. tostring(g[1].problem or g[#g].problem or "MISMATCH")))

print("\n2. linear output neurons: δᴸ = ∇ₐC")
net = network{ 2, 3, { 2, "linear" }, seed = 2 }
net:forward(x)
net:backward(y)
local d, ga, out = net.layers[2]:delta_of(), net.layers[2]:grad_a(), net.layers[2]:a_of()
print("   " .. cli.pad("neuron", 8) .. cli.pad("δᴸ", 13, true) .. cli.pad("∇ₐC", 13, true)
  .. cli.pad("aᴸ − y", 13, true))
local diff = 0
for j = 1, 2 do
  print(("   %-8d %12.6f %12.6f %12.6f"):format(j, d[j], ga[j], out[j] - y[j]))
  diff = math.max(diff, math.abs(d[j] - ga[j]))
end
print(("E9 linear outputs: max |δᴸ − ∇ₐC| = %.1e"):format(diff))
