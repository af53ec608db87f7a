-- rolling_ball.lua — experiment E8: gradient descent as a ball rolling down a
-- 1-D loss landscape, for several learning rates.
--
-- Part 1 uses a real network: one linear neuron with one weight w (its bias
-- frozen at 0), one sample x = 1, target y = 1 and the quadratic cost, so
-- C(w) = ½(w − 1)², a parabola of curvature 1. Every step is net:step, and
-- the path of w shows the four regimes of the learning rate η on a parabola
-- of curvature k: η < 1/k creeps down one side, η = 1/k lands on the minimum
-- in one step, 1/k < η < 2/k overshoots and oscillates inward, η > 2/k
-- overshoots further every step and diverges.
--
-- Part 2 rolls the ball on a landscape with two valleys,
-- f(w) = w⁴ − 2w² + 0.6w (its slope written out by hand, the point of the
-- example): from the same start, a small step settles in the nearer, shallower
-- valley, a larger one jumps over the hump into the deeper one.
--
--   deltalab examples/rolling_ball.lua [--quick] [--steps N] [--png DIR] [--no-plot]

local cli = require "deltalab.cli"

local USAGE = [==[
usage: deltalab examples/rolling_ball.lua [--quick] [--steps N] [--png DIR] [--no-plot]]==]
local opt = cli.parse(arg, { quick = false, steps = 12 }, USAGE)
if opt.quick and not opt.given.steps then opt.steps = 8 end

print("E8 part 1: C(w) = ½(w − 1)², one linear neuron trained by net:step, w starts at −2")
local rates = { { 0.2, "too small" }, { 1.0, "just right (1/k)" }, { 1.8, "oscillating" },
                { 2.1, "diverging (> 2/k)" } }
local paths, finals = {}, {}
for _, r in ipairs(rates) do
  local lr, what = r[1], r[2]
  local net = network{ 1, { 1, "linear" }, cost = "quadratic", freeze = "b",
                       init = { { W = { { -2 } }, b = { 0 } } } }
  local path = { net.layers[1].W[1] }
  for _ = 1, opt.steps do
    net:step({ 1 }, { 1 }, { lr = lr })
    path[#path + 1] = net.layers[1].W[1]
  end
  local shown = {}
  for i = 1, math.min(#path, 7) do shown[i] = ("%.3f"):format(path[i]) end
  print(("  η = %-4g %-18s w: %s%s"):format(lr, what, table.concat(shown, ", "), #path > 7 and ", …" or ""))
  paths[("η = %g"):format(lr)] = path
  finals[lr] = path[#path]
end
print(("E8 after %d steps: η 0.2 → %.4f, η 1 → %.4f, η 1.8 → %.4f, η 2.1 → %.4f")
  :format(opt.steps, finals[0.2], finals[1.0], finals[1.8], finals[2.1]))

print("\nE8 part 2: f(w) = w⁴ − 2w² + 0.6w, two valleys; the ball starts at w = 1.6")
local function f(w) return w ^ 4 - 2 * w ^ 2 + 0.6 * w end
local function slope(w) return 4 * w ^ 3 - 4 * w + 0.6 end
local valley = {}
for _, lr in ipairs{ 0.02, 0.16 } do
  local w, path = 1.6, { 1.6 }
  for _ = 1, opt.steps * 4 do
    w = w - lr * slope(w)
    path[#path + 1] = w
  end
  valley[("η = %g"):format(lr)] = path
  print(("  η = %-5g ends at w = %7.4f, f = %7.4f (%s valley)"):format(lr, w, f(w),
    w > 0 and "the shallower right" or "the deeper left"))
end

local show = cli.plots(opt, "rolling_ball")
show("parabola", "landscape", function(w) return 0.5 * (w - 1) ^ 2 end, { -4, 6 }, paths,
  { title = "C(w) = ½(w − 1)²: the path of w per learning rate", yrange = { 0, 13 } })
show("valleys", "landscape", f, { -1.8, 1.8 }, valley,
  { title = "two valleys: where the ball comes to rest", yrange = { -2, 4 } })
cli.finish()
