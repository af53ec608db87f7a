--- deltalab.cli: the command line of the example scripts, and where their plots go.
--
-- Every script in examples/ takes flags in the same style, `--lr 0.1`,
-- `--lr=0.1`, `--quick`, and draws its figures in the same places: PNG files
-- in a directory when asked (`--png dir`), a window when there is a display,
-- otherwise the terminal (when it is one) plus PNG files in ./deltalab-plots,
-- whose names are printed. `--no-plot` draws nothing.
--
--     local cli = require "deltalab.cli"
--     local opt = cli.parse(arg, {quick = false, lr = 0.1, epochs = 6}, USAGE)
--     local show = cli.plots(opt, "mnist")
--     show("loss", "lines", {train = h.train_loss, title = "loss"})
--     cli.finish()    -- last line: waits for the windows to be closed
--
-- @module deltalab.cli

local util = require "deltalab.util"

local cli = {}

--- A default meaning "a string option, unset unless given".
cli.text = setmetatable({}, { __tostring = function() return "<text>" end })

--- The flags of trainer.sweep, which every script takes beside its own (see
-- doc/training.md): name, the word shown for its value (nil: no value), text.
cli.sweep_flags = {
  { "count", nil, "print the number of cells of the sweep, nothing else, and stop" },
  { "commands", nil, "print one command per cell (for GNU parallel, a Slurm array) and stop" },
  { "cell", "K", "run only cell K of the sweep" },
  { "record", "FILE", "append each cell's record to FILE (JSON lines)" },
  { "record-dir", "DIR", "write cell K's record to DIR/cell-000K.jsonl" },
  { "merge", "PATH...", "merge record files and directories, print the table" },
}

local sweep_names, sweep_value = {}, {}
for i, f in ipairs(cli.sweep_flags) do
  sweep_names[i] = f[1]
  sweep_value[f[1]] = f[2] ~= nil
end

-- What cli.parse was last given: the names the script declared, so that
-- sweep does not mistake one of them for a misspelt sweep flag.
local declared = {}

--- Whether `--name` is one of the script's own flags (declared through
-- cli.parse, dashes or underscores).
function cli.declared(name)
  return declared[(name:gsub("%-", "_"))] == true
end

--- Split the sweep flags out of a command line. Returns the flags (count,
-- commands, cell, record, record_dir, merge = list of paths) and the other
-- words in order, or nil and a message when a sweep flag is misused or
-- misspelt (`--cel 1`: a flag close to a sweep flag's name that the script did
-- not declare through cli.parse).
-- @tparam table args a list of words
-- @treturn table flags
-- @treturn table the other words
function cli.sweep_args(args)
  local flags, rest = {}, {}
  local i = 1
  while args[i] ~= nil do
    local a = args[i]
    local name, value = a:match("^%-%-([%w_%-]+)=(.*)$")
    if not name then name = a:match("^%-%-([%w_%-]+)$") end
    if a == "--" then
      for j = i, #args do rest[#rest + 1] = args[j] end
      break
    elseif name and sweep_value[name] ~= nil then
      local key = name:gsub("%-", "_")
      if not sweep_value[name] then
        if value ~= nil then return nil, ("option '--%s' takes no value"):format(name) end
        flags[key] = true
      elseif name == "merge" then
        flags.merge = flags.merge or {}
        if value ~= nil then flags.merge[#flags.merge + 1] = value end
        while args[i + 1] ~= nil and not args[i + 1]:match("^%-%-") do
          flags.merge[#flags.merge + 1] = args[i + 1]; i = i + 1
        end
      else
        if value == nil then i = i + 1; value = args[i] end
        if value == nil then return nil, ("option '--%s' needs a value"):format(name) end
        if name == "cell" then
          local k = math.tointeger(tonumber(value))
          if not k then return nil, "option '--cell' needs a cell number, got " .. value end
          value = k
        end
        flags[key] = value
      end
    else
      local near = name and not cli.declared(name) and util.closest((name:gsub("_", "-")), sweep_names)
      if near then
        return nil, ("unknown option '--%s' (did you mean '--%s'?)"):format(name, near)
      end
      rest[#rest + 1] = a
    end
    i = i + 1
  end
  return flags, rest
end

-- The kind of value a default takes, for --help.
local function value_word(default)
  if default == cli.text or type(default) == "string" then return "TEXT" end
  if math.type(default) == "integer" then return "N" end
  if type(default) == "number" then return "X" end
end

-- spec's entries as {name=, default=, text=}, sorted by name.
local function entries(spec)
  local out = {}
  for k, v in pairs(spec) do
    if type(k) == "string" then
      local default, text = v, nil
      if type(v) == "table" and v ~= cli.text then default, text = v[1], v[2] end
      out[#out + 1] = { name = k, default = default, text = text }
    end
  end
  table.sort(out, function(a, b) return a.name < b.name end)
  return out
end

local builtin_text = {
  no_plot = "draw no plots",
  png = "write the plots as PNG files into DIR",
}

--- The text `--help` prints: usage (or a line made from the script's name),
-- then one line per option of spec with its default, then the sweep flags.
-- @tparam table spec as for cli.parse
-- @tparam[opt] string usage
-- @treturn string
function cli.help(spec, usage)
  local script = type(_G.arg) == "table" and _G.arg[0] or "script.lua"
  local lines = { usage or ("usage: deltalab %s [options]"):format(script), "", "options:" }
  local rows = {}
  for _, e in ipairs(entries(spec)) do
    local flag = "--" .. e.name:gsub("_", "-")
    local word = e.name == "png" and "DIR" or value_word(e.default)
    local text = e.text or builtin_text[e.name] or ""
    if type(e.default) == "boolean" then
      if not e.name:match("^no_") then flag = flag .. ", --no-" .. e.name:gsub("_", "-") end
      text = text .. (e.default and " (default: on)" or "")
    else
      flag = flag .. " " .. word
      if e.default ~= cli.text then text = text .. (" (default: %s)"):format(tostring(e.default)) end
    end
    rows[#rows + 1] = { flag, (text:gsub("^ ", "")) }
  end
  rows[#rows + 1] = { "-h, --help", "print this text and stop" }
  local function add(list)
    local w = 0
    for _, r in ipairs(list) do w = math.max(w, #r[1]) end
    for _, r in ipairs(list) do lines[#lines + 1] = ("  %s  %s"):format(cli.pad(r[1], w), r[2]):gsub("%s+$", "") end
  end
  add(rows)
  lines[#lines + 1] = ""
  lines[#lines + 1] = "sweep options (for a script that runs trainer.sweep):"
  rows = {}
  for _, f in ipairs(cli.sweep_flags) do rows[#rows + 1] = { "--" .. f[1] .. (f[2] and " " .. f[2] or ""), f[3] } end
  add(rows)
  return table.concat(lines, "\n")
end

local function truth(name, value)
  local v = value:lower()
  if v == "true" or v == "yes" or v == "on" or v == "1" then return true end
  if v == "false" or v == "no" or v == "off" or v == "0" then return false end
  return nil, ("option '--%s' takes true or false, got '%s'"):format(name, value)
end

--- Like cli.parse, but returns nil and a message instead of exiting on a bad
-- command line, and `"help"` when the words ask for --help.
function cli.check(args, spec)
  if type(spec) ~= "table" then util.argerror(2, "cli.check", "table expected, got " .. type(spec)) end
  local opt, given = {}, {}
  if spec.no_plot == nil then spec.no_plot = false end
  if spec.png == nil then spec.png = cli.text end
  declared = {}
  local defaults = {}
  for _, e in ipairs(entries(spec)) do
    if sweep_value[e.name:gsub("_", "-")] ~= nil then
      return nil, ("option '--%s' is a sweep flag: the script cannot declare it"):format(e.name)
    end
    declared[e.name] = true
    defaults[e.name] = e.default
    if e.default ~= cli.text then opt[e.name] = e.default end
  end
  local i = 1
  args = args or {}
  while i <= #args do
    local a = args[i]
    local name, value = a:match("^%-%-([%w_%-]+)=(.*)$")
    if not name then name = a:match("^%-%-([%w_%-]+)$") end
    if a == "--help" or a == "-h" then
      return "help"
    elseif a == "--" then
      for j = i + 1, #args do opt[#opt + 1] = args[j] end
      break
    elseif not name then
      opt[#opt + 1] = a
    elseif sweep_value[name] ~= nil then
      -- A sweep flag: trainer.sweep reads it from `arg`; skip it and its value.
      if sweep_value[name] and value == nil then
        i = i + 1
        while name == "merge" and args[i + 1] ~= nil and not args[i + 1]:match("^%-%-") do i = i + 1 end
      end
    else
      local key = name:gsub("%-", "_")
      local default = defaults[key]
      local negated = false
      if default == nil and key:match("^no_") and type(defaults[key:sub(4)]) == "boolean" then
        key, default, negated = key:sub(4), defaults[key:sub(4)], true
      end
      if default == nil then
        local names = {}
        for k in pairs(defaults) do names[#names + 1] = k:gsub("_", "-") end
        for _, k in ipairs(sweep_names) do names[#names + 1] = k end
        table.sort(names)
        local near = util.closest(name, names)
        return nil, ("unknown option '--%s'%s"):format(name, near and (" (did you mean '--%s'?)"):format(near) or "")
      end
      if type(default) == "boolean" then
        local v = true
        if value ~= nil then
          local err
          v, err = truth(name, value)
          if v == nil then return nil, err end
        end
        if negated then v = not v end
        opt[key] = v
      else
        if value == nil then
          i = i + 1
          value = args[i]
          if value == nil then return nil, ("option '--%s' needs a value"):format(name) end
        end
        if type(default) == "number" then
          local n = tonumber(value)
          if not n then return nil, ("option '--%s' needs a number, got '%s'"):format(name, value) end
          opt[key] = n
        else
          opt[key] = value
        end
      end
      given[key] = true
    end
    i = i + 1
  end
  opt.given = given   -- which flags the user typed (to tell a default from a choice)
  return opt
end

--- Parse the script's arguments against `spec`, a table of flag names and
-- default values whose types decide how values are read: a boolean flag
-- takes no value (or `=true`/`=false`; `--no-NAME` sets it false), a number
-- flag a number, a string flag any text (`cli.text` for a string flag with
-- no default). An entry may also be `{default, "what it does"}`, for
-- `--help`. Dashes and underscores are the same in flag names (`--no-plot`
-- is `opt.no_plot`). `--help` prints `usage` and the options made from spec
-- and exits 0; an unknown flag or a bad value prints the reason to stderr
-- and exits with status 2. The sweep flags (`--cell K`, `--count`, ...) are
-- skipped: trainer.sweep reads them. Words that are not flags are returned
-- in the list part of the result.
-- @tparam table args the script's `arg`
-- @tparam table spec name → default
-- @tparam[opt] string usage the usage text
-- @treturn table the options, every name of spec present (cli.text → nil)
function cli.parse(args, spec, usage)
  local opt, err = cli.check(args, spec)
  if opt == "help" then
    io.stdout:write(cli.help(spec, usage), "\n")
    os.exit(0, true)
  elseif not opt then
    io.stderr:write(err, "\n", usage and usage .. "\n" or "", "(--help lists the options)\n")
    os.exit(2, true)
  end
  return opt
end

--- s padded with spaces to n characters (UTF-8 aware, unlike %-20s):
-- on the right (left-justified), or on the left when `right` is true.
function cli.pad(s, n, right)
  s = tostring(s)
  local gap = string.rep(" ", math.max(0, n - (utf8.len(s) or #s)))
  return right and gap .. s or s .. gap
end

local state = { windows = {} }

local sys = require "deltalab.sys"
local has_display = sys.display

local function isatty()
  return sys.isatty(io.stdout)
end

--- A function `show(name, kind, ...)` that draws one figure: `kind` is a
-- plot kind (`"lines"`, `"grid"`, `"landscape"`, ... — the plot.X
-- functions) and `...` its arguments. Where it goes follows the options
-- from `cli.parse`: nothing with `--no-plot`; `<png>/<prefix>-<name>.png`
-- with `--png dir`; a window of its own when there is a display; else the
-- terminal (only when stdout is a terminal) and a PNG file in
-- ./deltalab-plots. Files written are announced on stdout. A plotting error
-- (gnuplot missing, say) is printed and the script goes on.
-- @tparam table opt the parsed options
-- @tparam string prefix the start of file names (the script's name)
-- @treturn function show
function cli.plots(opt, prefix)
  local plot = require "deltalab.plot"
  local dir = opt.png
  local window = not dir and has_display()
  if not dir and not window then dir = "deltalab-plots" end
  local made = false
  return function(name, kind, ...)
    if opt.no_plot then return end
    local args = table.pack(...)
    local ok, err = pcall(function()
      if window then
        local fig = plot.figure()
        fig[kind](fig, table.unpack(args, 1, args.n))
        state.windows[#state.windows + 1] = fig
        return
      end
      if not opt.png and isatty() then
        local fig = plot.figure{ output = "text" }
        fig[kind](fig, table.unpack(args, 1, args.n))
        fig:close()
      end
      if not made then
        os.execute(("mkdir -p '%s'"):format(dir:gsub("'", "'\\''")))
        made = true
      end
      local path = ("%s/%s-%s.png"):format(dir, prefix, name)
      local fig = plot.figure{ output = path }
      fig[kind](fig, table.unpack(args, 1, args.n))
      fig:close()
      print("wrote " .. path)
    end)
    if not ok then print(("(no plot %s: %s)"):format(name, tostring(err))) end
  end
end

--- Wait until every window opened by `show` is closed (on a display), then
-- close every figure. Scripts call it last.
function cli.finish()
  if #state.windows > 0 then
    print("close the plot windows to finish")
    for _, fig in ipairs(state.windows) do pcall(fig.show, fig) end
  end
  pcall(function() require("deltalab.plot").closeall() end)
end

return cli
