-- tour.lua — a first look at deltalab, in about a minute, with no dataset
-- to download: the prompt, a small network on a generated set, one sample
-- pushed through it with every z, a and δ and the four equations of
-- backpropagation filled in, a gradient check, training with a progress bar,
-- the loss curve and the decision regions, and where to go next.
--
-- Run it with `make demo` or `deltalab examples/tour.lua`. It replays a
-- session the way the prompt evaluates it (expressions print, `;` keeps
-- quiet, `_` is the last value, errors leave the session going), so every
-- `>` line can be typed at the real prompt. Pictures go to a window when
-- there is a display, else to the terminal and PNG files it names.
--
--   deltalab examples/tour.lua [--quick] [--png DIR] [--no-plot]

local cli = require "deltalab.cli"
local opt = cli.parse(arg, { quick = false }, [==[
usage: deltalab examples/tour.lua [--quick] [--png DIR] [--no-plot]]==])

local function heading(s)
  print(("\n== %s %s"):format(s, ("="):rep(math.max(0, 66 - #s))))
end

-- The prompt's own rule: try `return <line>`, else run it as a statement;
-- print what it returns through print; keep the first value in _.
local function prompt(line)
  print("> " .. line)
  local quiet = line:match(";%s*$") ~= nil
  local chunk = load("return " .. line:gsub(";%s*$", ""), "=stdin") or load(line, "=stdin")
  local results = table.pack(pcall(chunk))
  if not results[1] then
    print(results[2])
    return
  end
  if results.n > 1 then
    _G._ = results[2]
    if not quiet then print(table.unpack(results, 2, results.n)) end
  end
end

print(("deltalab %s — a lab for backpropagation (Lua 5.4, %s kernels)")
  :format(deltalab.version, deltalab.isa))

heading("the prompt")
for _, line in ipairs{
  "1 + 1",                       -- an expression prints its value
  "x = 6 * 7",                   -- a statement prints nothing
  "x;",                          -- a final ; keeps a value quiet...
  "_ + 1",                       -- ...and _ is the last value all the same
  "m = matrix{{1, 2}, {3, 4}}",
  "m",                           -- values of every type print through print
  "m:shape()",
  "m[2][1]",                     -- positions are 1-based, as in Lua
  "nosuch.field",                -- an error: the message, and the session goes on
  "x",
} do
  prompt(line)
end
print([[

At the real prompt also:
  for i = 1, 3 do        a statement that is not finished goes on at the >> prompt
  matrix.ze<Tab>         Tab completes names, fields and methods (m:sh<Tab>)
  while true do end      then Ctrl-C: "interrupted", and the prompt comes back
  Up, Ctrl-R             the history (~/.deltalab_history); Ctrl-D quits]])

heading("help")
print('help() is the guide; help(f) or help "name" prints the documentation of f:\n')
print("> help(deltalab.use)")
help(deltalab.use)

heading("the kernels")
print(("deltalab.isa is %q; deltalab.use(\"scalar\") switches to the reference loops")
  :format(deltalab.isa))
print("and `deltalab -v` prints the version and the kernels in use.")

heading("a network, one sample at a time")
print("A generated set (no download): 300 points on 3 interleaved spirals, labels 0, 1, 2.")
print("The network: 2 inputs, 50 ReLU neurons, 3 softmax outputs, log-likelihood cost.\n")
for _, line in ipairs{
  "set = data.spirals{n = 300, classes = 3, seed = 1}",
  "set",
  "net = network{2, {50, \"relu\"}, {3, \"softmax\"}, cost = \"log_likelihood\", init = \"he\", seed = 1}",
  "net",
  "x, y = set.X:row(60), set.y[60]",   -- point 60 and its label
  "x, y",
} do
  prompt(line)
end
print([[

Push that one sample through and back: trace prints z and a of every layer
(forward), then, from the output back, the four equations of backpropagation
with the numbers in place — BP1 δᴸ, BP2 δˡ from δˡ⁺¹, BP3 ∂C/∂b = δ, BP4
∂C/∂w = a·δ (6 of the 50 hidden neurons are shown):
]])
prompt("net:trace(x, y);")
print("\nIs backprop right? Compare every ∂C/∂w with a finite difference, in double:\n")
prompt("net:gradcheck(x, y);")

heading("training")
local epochs = opt.quick and 10 or 30
print(("SGD, batches of 10, lr 0.2, %d epochs (a progress bar when this is a terminal):\n"):format(epochs))
prompt(("t = trainer{net = net, train = set, batch = 10, lr = 0.2, epochs = %d}"):format(epochs))
prompt("t:run();")
print("\nThe loss, the accuracy and the confusion matrix (row = true label, column = predicted):\n")
prompt("trainer.evaluate(net, set)")

heading("pictures")
local show = cli.plots(opt, "tour")
local h = _G.t.history
show("loss", "lines", { train = h.train_loss, title = "training loss per epoch", xlabel = "epoch" })
show("boundary", "boundary", _G.net, _G.set, { title = "decision regions of the trained network" })
if opt.no_plot then
  print("(--no-plot: no pictures)")
else
  print([[
At the prompt: plot.lines{train = t.history.train_loss} and plot.boundary(net, set);
plot.output("x.png") sends the next picture to a file instead.]])
end

heading("next")
print([[
  deltalab                             the prompt; help() lists the modules
  doc/tutorial.md                      from the hand-worked example to MNIST, at the prompt
  deltalab examples/handworked.lua     the classic 2-2-2 example, every number (E1)
  w = net:walk(x, y); w()              backpropagation one stage at a time
  deltalab examples/mnist_deep.lua     a deep network on MNIST (make data fetches it)
  doc/examples.md                      every experiment script and how to run it
  help "repl"                          the prompt and the command line in full
  doc/README.md                        the map of the documentation]])
cli.finish()
