-- tour.lua — a first look at deltalab: the prompt, help, and where to go next.
--
-- Run it with `make demo` or `deltalab examples/tour.lua`. It replays a short
-- session the way the prompt evaluates it (expressions print, `;` keeps quiet,
-- `_` is the last value, errors leave the session going), then shows help.
-- It takes well under a second, so the tests run it whole (tests/e2e/cli.sh).
-- Later issues add their own stops (matrices, a network, training).

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

heading("next")
print([[
  deltalab                 the prompt; help() lists the modules
  help "repl"              the prompt and the command line in full
  doc/README.md            the map of the documentation]])
