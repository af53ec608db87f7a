-- softmax_temperature.lua — experiment E9 (1): softmax with a temperature c,
-- softmax(c·z), approaching argmax as c grows.
--
-- One softmax layer with fixed weights turns an input into the weighted
-- inputs z = (0.2, 0.5, 0.1, 0.35); the layer's temperature is then raised
-- (layer:set_activation("softmax", c)) and the outputs printed per c: at c → 0
-- all outputs tend to 1/4, at c = 1 the ordinary softmax, and as c → ∞ the
-- largest z takes everything (argmax, the one-hot (0, 1, 0, 0)). With the
-- log-likelihood cost the output error is δᴸ = c·(aᴸ − y): with a small c the
-- steps are small; with a large c a confident wrong answer (here the label is
-- 0 while position 2 wins) gives δ about c times larger.
--
--   deltalab examples/softmax_temperature.lua [--quick] [--png DIR] [--no-plot]

local cli = require "deltalab.cli"
local opt = cli.parse(arg, { quick = false }, [==[
usage: deltalab examples/softmax_temperature.lua [--quick] [--png DIR] [--no-plot]]==])

local net = network{ 3, { 4, "softmax" }, cost = "log_likelihood", init = {
  { W = { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 }, { 0.5, 0.5, 0 } }, b = { 0, 0, 0, 0 } } } }
local x = { 0.2, 0.5, 0.1 }
local cs = opt.quick and { 0.01, 1, 10, 100 } or { 0.01, 0.1, 0.5, 1, 2, 5, 10, 20, 50, 100, 1000 }
print("E9: softmax(c·z) for z = (0.2, 0.5, 0.1, 0.35) as the temperature c grows")
print(("%8s   %-34s %s"):format("c", "a = softmax(c·z)", "δᴸ for label 0 = c(a − y)"))
local series = { {}, {}, {}, {} }
for _, c in ipairs(cs) do
  net.layers[1]:set_activation("softmax", c)
  local a = net:forward(x)
  net:backward(0)
  local dl = net.layers[1].delta
  print(("%8g   (%.4f, %.4f, %.4f, %.4f)   (%.4f, %.4f, %.4f, %.4f)"):format(c,
    a[1], a[2], a[3], a[4], dl[1], dl[2], dl[3], dl[4]))
  for j = 1, 4 do series[j][#series[j] + 1] = { math.log(c, 10), a[j] } end
end
net.layers[1]:set_activation("softmax", 1000)
local a = net:forward(x)
print(("E9 at c = 1000: a = (%.4f, %.4f, %.4f, %.4f), argmax is position %d")
  :format(a[1], a[2], a[3], a[4], a:argmax()))

local show = cli.plots(opt, "softmax_temperature")
show("outputs", "lines", { ["a1 (z 0.2)"] = series[1], ["a2 (z 0.5)"] = series[2],
  ["a3 (z 0.1)"] = series[3], ["a4 (z 0.35)"] = series[4], points = true,
  xlabel = "log10 c", title = "softmax(c·z): toward argmax as c grows" })
cli.finish()
