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

local cli = {}

--- A default meaning "a string option, unset unless given".
cli.text = setmetatable({}, { __tostring = function() return "<text>" end })

local function fail(usage, msg)
  io.stderr:write(msg, "\n", usage or "", usage and "\n" or "")
  os.exit(2)
end

--- Parse the script's arguments against `spec`, a table of flag names and
-- default values whose types decide how values are read: a boolean flag
-- takes no value, a number flag a number, a string flag any text
-- (`cli.text` for a string flag with no default). Dashes and underscores
-- are the same in flag names (`--no-plot` is `opt.no_plot`). `--help`
-- prints `usage` and exits 0; an unknown flag or a bad value prints the
-- reason and `usage` to stderr and exits with status 2. Words that are not
-- flags are returned in the list part of the result.
-- @tparam table args the script's `arg`
-- @tparam table spec name → default
-- @tparam[opt] string usage the usage text
-- @treturn table the options, every name of spec present (cli.text → nil)
function cli.parse(args, spec, usage)
  local opt, given = {}, {}
  if spec.no_plot == nil then spec.no_plot = false end
  if spec.png == nil then spec.png = cli.text end
  for k, v in pairs(spec) do
    if v ~= cli.text then opt[k] = v end
  end
  local i = 1
  args = args or {}
  while i <= #args do
    local a = args[i]
    local name, value = a:match("^%-%-([%w_%-]+)=(.*)$")
    if not name then name = a:match("^%-%-([%w_%-]+)$") end
    if a == "--help" or a == "-h" then
      print(usage or "no usage text"); os.exit(0)
    elseif not name then
      opt[#opt + 1] = a
    else
      local key = name:gsub("%-", "_")
      local default = spec[key]
      if default == nil then fail(usage, ("unknown option '--%s'"):format(name)) end
      if type(default) == "boolean" then
        if value ~= nil then fail(usage, ("option '--%s' takes no value"):format(name)) end
        opt[key] = true
      else
        if value == nil then
          i = i + 1
          value = args[i]
          if value == nil then fail(usage, ("option '--%s' needs a value"):format(name)) end
        end
        if type(default) == "number" then
          local n = tonumber(value)
          if not n then fail(usage, ("option '--%s' needs a number, got '%s'"):format(name, value)) end
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
