--- deltalab.trace: the teaching output of a network — the four equations of
-- backpropagation with the actual numbers filled in (net:trace) and a walk
-- through the algorithm one stage at a time (net:walk).
--
--     > net = network{2, 2, 2}
--     > net:trace({0.05, 0.10}, {0.01, 0.99})      -- BP1..BP4, layer by layer
--     > w = net:walk({0.05, 0.10}, {0.01, 0.99}); w(); w(); ...
--
-- Pretty-printing only: every number printed here was computed by the core
-- (src/core/net.c) and read through the network's documented methods and
-- views; walk steps with net:stage, the primitive behind it.
-- The methods reach the network type through `trace.extends` (the
-- extension convention: the loader merges `extends.network` into the
-- network's methods); this module requires no other deltalab module at load.

local util = require "deltalab.util"

local trace = {}

local sup = { ["0"] = "⁰", ["1"] = "¹", ["2"] = "²", ["3"] = "³", ["4"] = "⁴",
              ["5"] = "⁵", ["6"] = "⁶", ["7"] = "⁷", ["8"] = "⁸", ["9"] = "⁹" }

--- Layer index as a superscript: 12 → "¹²".
local function up(l)
  return (tostring(l):gsub("%d", sup))
end

local function num(v, digits)
  if v == 0 then return "0" end
  if v ~= v then return "nan" end  -- %g would write "-nan" for 0/0
  return string.format("%." .. digits .. "g", v)
end

-- A formatter for one output format. Vectors are n×1 matrices (columns),
-- matrices any r×c; wide ones are cut to `neurons` entries with a note.
local function formatter(opts)
  local digits, limit, latex = opts.digits, opts.neurons, opts.format == "latex"
  local f = { latex = latex }

  function f.vec(m)
    local r, c = m:shape()
    local n = math.max(r, c)
    local get = r == 1 and function(i) return m:get(1, i) end or function(i) return m:get(i, 1) end
    local shown = math.min(n, limit)
    local parts = {}
    for i = 1, shown do parts[i] = num(get(i), digits) end
    if latex then
      if shown < n then parts[#parts + 1] = "\\vdots" end
      return "\\begin{pmatrix}" .. table.concat(parts, "\\\\ ") .. "\\end{pmatrix}"
    end
    local s = "(" .. table.concat(parts, ", ")
    if shown < n then s = s .. ", … " .. n .. " values" end
    return s .. ")"
  end

  function f.mat(m, indent)
    local r, c = m:shape()
    local rs, cs = math.min(r, limit), math.min(c, limit)
    local rows = {}
    for i = 1, rs do
      local cells = {}
      for j = 1, cs do cells[j] = num(m:get(i, j), digits) end
      if cs < c then cells[#cells + 1] = latex and "\\cdots" or "…" end
      rows[i] = cells
    end
    if latex then
      local lines = {}
      for i, cells in ipairs(rows) do lines[i] = table.concat(cells, " & ") end
      if rs < r then lines[#lines + 1] = "\\vdots" end
      return "\\begin{pmatrix}" .. table.concat(lines, "\\\\ ") .. "\\end{pmatrix}"
    end
    local width = 0
    for _, cells in ipairs(rows) do
      for _, s in ipairs(cells) do width = math.max(width, #s) end
    end
    local lines = {}
    for i, cells in ipairs(rows) do
      for j, s in ipairs(cells) do cells[j] = string.rep(" ", width - #s) .. s end
      lines[i] = (i == 1 and "" or indent) .. "[ " .. table.concat(cells, "  ") .. " ]"
    end
    local note = ""
    if rs < r or cs < c then note = string.format("  (%dx%d, first %dx%d shown)", r, c, rs, cs) end
    if rs < r then lines[#lines + 1] = indent .. "  …" end
    return table.concat(lines, "\n") .. note
  end

  -- Symbols in the two notations.
  if latex then
    f.delta = function(l) return "\\delta^{" .. l .. "}" end
    f.z = function(l) return "z^{" .. l .. "}" end
    f.a = function(l) return "a^{" .. l .. "}" end
    f.W = function(l) return "W^{" .. l .. "}" end
    f.b = function(l) return "b^{" .. l .. "}" end
    f.had, f.eq, f.sigma = " \\odot ", " = ", "\\sigma"
    f.dCdb = function(l) return "\\frac{\\partial C}{\\partial b^{" .. l .. "}}" end
    f.dCdW = function(l) return "\\frac{\\partial C}{\\partial W^{" .. l .. "}}" end
    f.grad = "\\nabla_a C"
    f.sp = function(l) return "\\sigma'(z^{" .. l .. "})" end
    f.WT = function(l) return "(W^{" .. l .. "})^T" end
  else
    f.delta = function(l) return "δ" .. up(l) end
    f.z = function(l) return "z" .. up(l) end
    f.a = function(l) return "a" .. up(l) end
    f.W = function(l) return "W" .. up(l) end
    f.b = function(l) return "b" .. up(l) end
    f.had, f.eq, f.sigma = " ⊙ ", " = ", "σ"
    f.dCdb = function(l) return "∂C/∂b" .. up(l) end
    f.dCdW = function(l) return "∂C/∂W" .. up(l) end
    f.grad = "∇ₐC"
    f.sp = function(l) return "σ′(z" .. up(l) .. ")" end
    f.WT = function(l) return "(W" .. up(l) .. ")ᵀ" end
  end
  return f
end

-- Raise err, from a call made on the user's behalf, at the user's line
-- (level 2 above the caller): Lua put this file's position in front of it.
local function rethrow(err, level)
  if type(err) == "string" then err = err:gsub("^[^\n]-%.lua:%d+: ", "", 1) end
  error(err, (level or 1) + 1)
end

local TRACE_OPTIONS = { "digits", "neurons", "format", "sample", "print" }
local FORMATS = { "text", "latex" }
local WALK_OPTIONS = { "digits", "neurons", "lr", "lambda", "n", "momentum", "print", "interactive" }

-- An integer option of opts in lo..hi (def when absent), blaming level.
local function int_option(opts, key, def, lo, hi, fn, level)
  local v = util.opt(opts, key, "integer", def, fn, level + 1)
  if v < lo or (hi and v > hi) then
    error(("%s: option '%s' must be an integer from %d%s, got %d"):format(
      fn, key, lo, hi and " to " .. hi or " up", v), level + 1)
  end
  return v
end

-- The options of trace (and walk's digits, neurons), checked, with defaults;
-- errors blame the caller of trace or walk (level 3 from here).
local function options(opts, fn, names)
  util.check_options(opts, fn, names, 3)
  opts = opts or {}
  local o = { digits = int_option(opts, "digits", 4, 1, 17, fn, 3),
              neurons = int_option(opts, "neurons", 6, 1, nil, fn, 3),
              format = util.opt(opts, "format", "string", "text", fn, 3),
              sample = int_option(opts, "sample", 1, 1, nil, fn, 3),
              print = util.opt(opts, "print", "boolean", true, fn, 3) }
  if o.format ~= "text" and o.format ~= "latex" then
    local near = util.closest(o.format, FORMATS)
    error(("%s: invalid format '%s' (%sexpected one of %s)"):format(fn, o.format,
      near and "did you mean '" .. near .. "'? " or "", table.concat(FORMATS, ", ")), 3)
  end
  return o
end

local cost_text = {
  quadratic = "C = ½‖y − aᴸ‖²",
  cross_entropy = "C = −Σⱼ [yⱼ ln aⱼᴸ + (1 − yⱼ) ln(1 − aⱼᴸ)]",
  log_likelihood = "C = −Σⱼ yⱼ ln aⱼᴸ",
}

-- How δ is formed from ∂C/∂a for one layer, as lines, given what
-- ∂C/∂a is called (∇ₐC or (Wˡ⁺¹)ᵀδˡ⁺¹) and its value.
local function delta_lines(net, f, l, s, gname, out)
  local ly = net.layers[l]
  local L = net.L
  local lines = {}
  local eq = f.latex and " &= " or "  = "
  local lhs = f.delta(l)
  local cost = net.cost_name
  local acts = ly:activations()
  local all_sigmoid = ly.activation == "sigmoid"
  for _, a in ipairs(acts) do all_sigmoid = all_sigmoid and a == "sigmoid" end
  if l == L and cost == "log_likelihood" and ly.activation == "softmax" then
    local c = ly.c
    lines[#lines + 1] = lhs .. eq .. (c ~= 1 and num(c, 6) .. "·" or "")
      .. (f.latex and "(a^{" .. l .. "} - y)" or "(a" .. up(l) .. " − y)")
      .. (f.latex and "" or "      (log-likelihood with softmax: the Jacobian and ∇ₐC simplify)")
  elseif l == L and cost == "cross_entropy" and all_sigmoid then
    lines[#lines + 1] = lhs .. eq .. (f.latex and "a^{" .. l .. "} - y" or "a" .. up(l) .. " − y")
      .. (f.latex and "" or "      (cross-entropy with sigmoid: σ′ cancels)")
  elseif ly.activation == "softmax" then
    lines[#lines + 1] = lhs .. eq .. (f.latex and "J^T " or "Jᵀ ") .. gname
      .. (f.latex and "" or "      (softmax Jacobian J = c·aᵢ(1[i=j] − aⱼ))")
    lines[#lines + 1] = (f.latex and " &= J^T " or "    = Jᵀ ") .. f.vec(out.g)
  else
    lines[#lines + 1] = lhs .. eq .. gname .. f.had .. f.sp(l)
    lines[#lines + 1] = (f.latex and " &= " or "    = ") .. f.vec(out.g) .. f.had .. f.vec(ly:dsigma(s))
    local special = {}
    for j, a in ipairs(acts) do
      if a ~= ly.activation then special[#special + 1] = "neuron " .. j .. " is " .. a end
    end
    if #special > 0 and not f.latex then
      lines[#lines] = lines[#lines] .. "      (σ′ per neuron: " .. table.concat(special, ", ") .. ")"
    end
    if ly.activation == "linear" and #special == 0 and not f.latex then
      lines[#lines] = lines[#lines] .. "      (σ is linear: σ′ = 1)"
    end
  end
  lines[#lines + 1] = (f.latex and " &= " or "    = ") .. f.vec(ly:delta_of(s))
  return lines
end

-- What layer l's neurons compute, for its header: "sigmoid", or with
-- per-neuron activations "sigmoid, neuron 2 tanh".
local function activation_text(ly)
  local odd = {}
  for j, a in ipairs(ly:activations()) do
    if a ~= ly.activation then odd[#odd + 1] = ("neuron %d %s"):format(j, a) end
  end
  if #odd == 0 then return ly.activation end
  return ly.activation .. ", " .. table.concat(odd, ", ")
end

-- BP3 for a batch: the gradient is the mean of the samples' δ, not the δ of
-- the sample shown, so the line says so and gives that sample's δ beside it.
local function bp3_text(net, f, l, s)
  local ly = net.layers[l]
  local B = net.batch
  if B <= 1 then
    return f.dCdb(l) .. " = " .. f.delta(l) .. " = " .. f.vec(ly.db)
  end
  return ("%s = mean of %s over the %d samples = %s   (sample %d's own %s = %s)"):format(
    f.dCdb(l), f.delta(l), B, f.vec(ly.db), s, f.delta(l), f.vec(ly:delta_of(s)))
end

-- The text of a trace (the network has been run forward and backward).
local function trace_text(net, x, y, o)
  local f = formatter(o)
  local L, s = net.L, o.sample
  local out = {}
  local function put(line) out[#out + 1] = line end
  local B = net.batch
  local C = net:cost(x, y)
  net:backward(y)
  local sizes = table.concat(net.sizes, "-")
  if f.latex then
    put("% deltalab trace: network " .. sizes .. ", " .. net.cost_name .. " cost")
    put("\\begin{align*}")
  else
    put(("Backpropagation through network %s, %s cost %s = %s"):format(
      sizes, net.cost_name, cost_text[net.cost_name], num(C, o.digits)))
    if B > 1 then
      put(("(batch of %d: δ shown for sample %d; gradients are the means over the batch)"):format(B, s))
    end
    put("")
    put("Forward pass  (vectors are columns, written across)")
  end
  local sep = f.latex and " \\\\" or ""
  local eq = f.latex and " &= " or " = "
  for l = 1, L do
    local ly = net.layers[l]
    local prev = l == 1 and (f.latex and "x" or "x") or f.a(l - 1)
    put((f.latex and "" or "  ") .. f.z(l) .. eq .. f.W(l) .. prev .. " + " .. f.b(l) .. " = "
        .. f.vec(ly:z_of(s)) .. sep)
    put((f.latex and "" or "  ") .. f.a(l) .. eq .. (ly.activation == "softmax" and "softmax" or f.sigma)
        .. "(" .. f.z(l) .. ") = " .. f.vec(ly:a_of(s)) .. sep)
  end
  if not f.latex then put("") end
  for l = L, 1, -1 do
    local ly = net.layers[l]
    local g = ly:grad_a(s)
    if not f.latex then
      put(("Layer %d%s, %d neuron%s, %s"):format(l, l == L and " (output)" or "", ly.n_out,
          ly.n_out == 1 and "" or "s", activation_text(ly)))
    end
    local tag = l == L and "BP1" or "BP2"
    local gname = l == L and f.grad or f.WT(l + 1) .. f.delta(l + 1)
    if not f.latex then
      put("  " .. tag .. "  " .. gname .. " = " .. f.vec(g))
    else
      put("% " .. tag .. ", layer " .. l)
    end
    for i, line in ipairs(delta_lines(net, f, l, s, gname, { g = g })) do
      put((f.latex and "" or (i == 1 and "       " or "       ")) .. line .. sep)
    end
    local prev = l == 1 and "x" or f.a(l - 1)
    if f.latex then
      put("% BP3, BP4")
      put(f.dCdb(l) .. " &= " .. f.delta(l) .. " = " .. f.vec(ly.db) .. sep)
      put(f.dCdW(l) .. " &= " .. f.delta(l) .. " (" .. prev .. ")^T = " .. f.mat(ly.dW) .. sep)
    else
      put("  BP3  " .. bp3_text(net, f, l, s))
      local lead = "       " .. f.dCdW(l) .. " = "
      put("  BP4  ∂C/∂wⱼₖ = " .. prev .. "ₖ·" .. f.delta(l) .. "ⱼ"
          .. (B > 1 and (", the mean over the %d samples:"):format(B) or ":"))
      put(lead .. f.mat(ly.dW, string.rep(" ", utf8.len(lead))))
      put("")
    end
  end
  if f.latex then put("\\end{align*}") end
  return table.concat(out, "\n")
end

--- net:trace(x, y [, opts]): print BP1–BP4 with the numbers, from the output
-- back; returns the text.
function trace.trace(net, x, y, opts)
  if x == nil then util.argerror(1, "trace", "input expected") end
  if y == nil then util.argerror(2, "trace", "target expected") end
  local o = options(opts, "network:trace", TRACE_OPTIONS)
  local ok, err = pcall(net.forward, net, x)
  if not ok then rethrow(err, 2) end
  if o.sample > net.batch then
    error(("network:trace: option 'sample' is %d, the batch has %d sample%s"):format(
      o.sample, net.batch, net.batch == 1 and "" or "s"), 2)
  end
  local ok2, text = pcall(trace_text, net, x, y, o)
  if not ok2 then rethrow(text, 2) end
  if o.print then print(text) end
  return text
end

-- Whether walk steps on Enter by default: stdin and stdout are a terminal.
local function interactive_default()
  local sys = require "deltalab.sys"
  return sys.isatty(io.stdin) and sys.isatty(io.stdout)
end

--- net:walk(x, y [, opts]): a stepper; each call computes and prints the next
-- stage of backpropagation and returns its name (nil when done).
function trace.walk(net, x, y, opts)
  if x == nil then util.argerror(1, "walk", "input expected") end
  if y == nil then util.argerror(2, "walk", "target expected") end
  local fn = "network:walk"
  util.check_options(opts, fn, WALK_OPTIONS)
  opts = opts or {}
  local o = options({ digits = opts.digits, neurons = opts.neurons }, fn, TRACE_OPTIONS)
  local hyper = {}
  for _, k in ipairs{ "lr", "lambda", "n", "momentum" } do hyper[k] = util.opt(opts, k, "number", nil, fn) end
  hyper.lr = hyper.lr or 0.1
  local quiet = not util.opt(opts, "print", "boolean", true, fn)
  local interactive = util.opt(opts, "interactive", "boolean", nil, fn)
  local f = formatter(o)
  local L = net.L
  local say = quiet and function() end or print
  local stages = {}
  local function add(name, run) stages[#stages + 1] = { name = name, run = run } end

  add("input", function()
    net:stage("input", x)
    say(("the input: a⁰ = x = %s%s"):format(f.vec(net:input_of(1)),
        net.batch > 1 and ("  (batch of %d: sample 1 shown)"):format(net.batch) or ""))
  end)
  for l = 1, L do
    add("forward " .. l, function()
      net:stage("forward", l)
      local ly = net.layers[l]
      local prev = l == 1 and "x" or f.a(l - 1)
      say(("forward, layer %d: %s = %s%s + %s = %s"):format(l, f.z(l), f.W(l), prev, f.b(l), f.vec(ly:z_of(1))))
      say(("                  %s = %s(%s) = %s"):format(f.a(l),
          ly.activation == "softmax" and "softmax" or "σ", f.z(l), f.vec(ly:a_of(1))))
    end)
  end
  add("cost", function()
    local C = net:stage("cost", y)
    say(("cost: %s = %s  (needs only aᴸ and y)"):format(cost_text[net.cost_name], num(C, o.digits)))
  end)
  add("delta " .. L, function()
    net:stage("delta")
    local ly = net.layers[L]
    say(("BP1, output layer %d: δᴸ from ∇ₐC and σ′(zᴸ)"):format(L))
    for _, line in ipairs(delta_lines(net, f, L, 1, f.grad, { g = ly:grad_a(1) })) do
      say("   " .. line)
    end
  end)
  for l = L, 1, -1 do
    add("backward " .. l, function()
      net:stage("backward", l)
      local ly = net.layers[l]
      local prev = l == 1 and "x" or f.a(l - 1)
      say(("BP3, BP4, layer %d: %s"):format(l, bp3_text(net, f, l, 1)))
      local lead = ("   ∂C/∂W%s = δ%s·(%s)ᵀ = "):format(up(l), up(l), prev)
      say(lead .. f.mat(ly.dW, string.rep(" ", utf8.len(lead))))
      if l > 1 then
        local below = net.layers[l - 1]
        say(("BP2, layer %d: δ%s from (W%s)ᵀδ%s and σ′(z%s)"):format(l - 1, up(l - 1), up(l), up(l), up(l - 1)))
        for _, line in ipairs(delta_lines(net, f, l - 1, 1, f.WT(l) .. f.delta(l),
                                          { g = below:grad_a(1) })) do
          say("   " .. line)
        end
      end
    end)
  end
  add("update", function()
    net:update(hyper)
    say(("update (η = %g): W ← W − η·∂C/∂W, b ← b − η·∂C/∂b (frozen parameters stay)"):format(hyper.lr))
    for l = 1, L do
      local ly = net.layers[l]
      local lead = "   " .. f.W(l) .. " = "
      say(lead .. f.mat(ly.W, string.rep(" ", utf8.len(lead))))
      say(("   %s = %s"):format(f.b(l), f.vec(ly.b)))
    end
  end)

  local i = 0
  local stepper = setmetatable({}, {
    __call = function()
      i = i + 1
      local st = stages[i]
      if not st then return nil end
      st.run()
      return st.name
    end,
    __index = {
      stages = function() local t = {} for k, st in ipairs(stages) do t[k] = st.name end return t end,
      all = function(self) while self() do end end,
    },
  })
  if interactive == nil then interactive = interactive_default() end
  if interactive then
    say(("walking through backpropagation in %d stages: Enter for the next, q to stop"):format(#stages))
    while true do
      if not stepper() then break end
      local line = io.read("l")
      if line == nil or line:match("^%s*q") then break end
    end
  end
  return stepper
end

-- What the loader merges into the network type's methods.
trace.extends = { network = { trace = trace.trace, walk = trace.walk } }

return trace
