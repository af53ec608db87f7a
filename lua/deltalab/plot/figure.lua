--- deltalab.plot.figure: the figure object.
--
-- A figure is where pictures are drawn: its own gnuplot process (started at
-- its first plot and kept), its own window on a display, its destination and
-- size. `emit` sends one plot, built by a kind, to a figure: to a script
-- file, to the terminal as text art, or through the figure's gnuplot. The
-- plot kinds become figure methods in deltalab.plot, which builds them.

local util = require "deltalab.util"
local gnuplot = require "deltalab.plot.gnuplot"
local term = require "deltalab.plot.term"
local values = require "deltalab.plot.values"
local sys = require "deltalab.sys"

local argerror, typename = values.argerror, values.typename

local figure = {}

--- The figure methods (fig:close(), fig:lines{...}, ...): the __index of
-- every figure, and what help lists for a figure.
local methods = {}
figure.methods = methods

local Figure = { __index = methods, __name = "figure" }

-- Every figure not yet closed (so closeall can end them), the current one,
-- and the id the next one gets.
local state = { figures = {}, current = nil, next_id = 1 }

function Figure.__tostring(f)
  local where = f.scriptfile and ("script " .. f.scriptpath) or f.dest or "automatic output"
  return ("figure %d (%s%s)"):format(f.id, where, f.proc and "" or ", no gnuplot running")
end

--- f, checked to be a figure (argument 1 of fname).
function figure.check(f, fname)
  if getmetatable(f) ~= Figure then
    argerror(1, fname, "figure expected, got " .. typename(f))
  end
  return f
end
local checkfig = figure.check

-- A figure drawn in after its close has a gnuplot again: closeall must
-- know it again.
local function revive(fig)
  if fig.proc and fig.closed then
    fig.closed = nil
    state.figures[fig.id] = fig
  end
end

-- gnuplot.start and gnuplot.execute for a figure (see revive).
local function start(fig, fname)
  local ok, err = pcall(gnuplot.start, fig, fname)
  revive(fig)
  if not ok then error(err, 0) end
end

local function execute(fig, fname, text, timeout)
  local ok, out, said = pcall(gnuplot.execute, fig, fname, text, timeout)
  revive(fig)
  if not ok then error(out, 0) end
  return out, said
end

-- Write text to path in one piece (a temporary renamed into place), or
-- raise naming the call.
local function write_file(fname, path, text, what)
  local ok, err = sys.write_atomic(path, text)
  if not ok then error(("%s: cannot write %s%s: %s"):format(fname, what or "", path, err), 0) end
end

-- The plot's text on its own, as plot.script writes it: for the file the
-- figure or the call names, else for the default page.
local function script_text(fig, fname, ctx, o)
  local path = o.script
  local dest = o.output or fig.dest
  local head, geom = "", term.geometry(fig, o, "file", "png", fname)
  if dest then
    local kind, fmt = term.classify(dest, fname)
    if kind == "file" then
      local cmds = term.commands(fig, o, kind, fmt, dest, fname)
      cmds[2] = "set output " .. gnuplot.text(dest, fname, "the output file name")
      head = table.concat(cmds, "\n") .. "\n"
      geom = term.geometry(fig, o, kind, fmt, fname)
    end
  end
  return table.concat{ "# ", fname, " — written by deltalab; run with: gnuplot -p ", path, "\n",
    "set encoding utf8\n", head, table.concat(ctx:render(geom), "\n"), "\n", dest and "unset output\n" or "" }
end

-- Send the plot to fig's gnuplot for the destination kind (fmt, dest);
-- returns what gnuplot printed. A file is drawn under a temporary name and
-- renamed to dest once gnuplot has closed it (the reply comes after `unset
-- output`): a plot that fails or is stopped leaves no file, half or whole.
local function draw(fig, fname, ctx, o, dest, kind, fmt)
  local lines = ctx:render(term.geometry(fig, o, kind, fmt, fname))
  if kind == "text" or fmt == "txt" then
    -- in characters a grid is rows of dots and colons that bury the curves
    local kept = {}
    for _, l in ipairs(lines) do
      if not l:match("^set grid") then kept[#kept + 1] = l end
    end
    lines = kept
  end
  local cmds, tmp, final = term.commands(fig, o, kind, fmt, dest, fname)
  local text = table.concat(cmds, "\n") .. "\nreset\n" .. table.concat(lines, "\n") .. (tmp and "\nunset output" or "")
  local ok, out, said = pcall(execute, fig, fname, text, o.timeout)
  if not ok then
    if tmp then os.remove(tmp) end
    error(out, 0)
  end
  local errs, warns = gnuplot.complaints(said)
  if #errs > 0 then
    if tmp then os.remove(tmp) end
    error(("%s: gnuplot: %s"):format(fname, table.concat(errs, "; ")), 0)
  end
  for _, w in ipairs(warns) do io.stderr:write(fname, ": gnuplot ", w, "\n") end
  if tmp then
    local rok, rerr = os.rename(tmp, final)
    if not rok then
      os.remove(tmp)
      error(("%s: cannot write %s: %s"):format(fname, final, rerr), 0)
    end
  end
  return out
end

--- Draw the plot ctx (a gnuplot.script a kind filled) built by the call
-- fname in fig, where the call's options o and the figure say. Returns fig;
-- a picture for the terminal is also kept in fig.text.
function figure.emit(fig, fname, ctx, o)
  if o.script then  -- one plot, one script file
    write_file(fname, o.script, script_text(fig, fname, ctx, o), "script ")
    return fig
  end
  if fig.scriptfile then
    -- plot.script(path): every plot of the figure is appended to the script
    local geom = term.geometry(fig, o, "file", "png", fname)
    fig.scriptfile:write("\n# ", fname, "\nreset\n", table.concat(ctx:render(geom), "\n"), "\n")
    fig.scriptfile:flush()
    return fig
  end
  if not fig.proc then start(fig, fname) end
  local dest, kind, fmt = term.destination(fig, o)
  local out
  if ctx.art and (kind == "text" or fmt == "txt") then
    local tw = term.text_size(o)
    out = term.render_art(ctx.art, tw, kind == "text" and term.colours())
    if fmt == "txt" then write_file(fname, dest, out); return fig end
  else
    out = draw(fig, fname, ctx, o, dest, kind, fmt)
    if kind == "text" then
      -- dumb starts each page with a form feed (^L in a log) and pads every
      -- line to the full width (lines that wrap when the window narrows)
      out = out:gsub("^\f", ""):gsub(" +\n", "\n")
    end
  end
  fig.text, fig.kind = out, kind
  if #out > 0 and not fig.quiet then
    io.stdout:write(out)
    io.stdout:flush()
  end
  return fig
end

local function register(fig)
  state.figures[fig.id] = fig
  state.current = fig
  return fig
end

local FIGURE_OPTIONS = { "output", "size", "quiet", "persist" }

--- A new figure, which becomes the current one (the one `plot.lines` and
-- friends draw in). Each figure has its own gnuplot process and, on a
-- display, its own window.
-- @tparam[opt] table opts `output` (as in `plot.output`), `size` {w, h},
-- `quiet` (keep text pictures in `fig.text` instead of printing them),
-- `persist` (windows stay open after the program ends)
-- @treturn figure
-- @usage local fig = plot.figure{output = "curves.svg"}
function figure.new(opts)
  opts = util.options(opts, "plot.figure", FIGURE_OPTIONS)
  local fig = setmetatable({ id = state.next_id, size = opts.size, quiet = opts.quiet,
                             persist = opts.persist }, Figure)
  state.next_id = state.next_id + 1
  if opts.output then
    term.classify(opts.output, "figure")
    fig.dest = opts.output
  end
  return register(fig)
end

--- The current figure, made when there is none (or it was closed).
function figure.current()
  local f = state.current
  if f and not f.closed then return f end
  return figure.new()
end

--- The current figure if there is one, else nil (nothing is made).
function figure.current_or_nil()
  return state.current
end

--- Close the figure: its gnuplot ends (its window closes) and is reaped.
-- @treturn nil
function methods:close()
  checkfig(self, "close")
  if self.proc then self.proc:close(); self.proc = nil end
  if self.scriptfile then self.scriptfile:close(); self.scriptfile = nil end
  self.closed = true
  state.figures[self.id] = nil
  if state.current == self then state.current = nil end
end

--- Where this figure's pictures go from now on: a file name ending in
-- .png, .svg, .pdf (or .txt for a text picture), "window", "text",
-- "sixel", or nil for automatic.
-- @tparam[opt] string dest
-- @tparam[opt] table opts `size` {width, height}
-- @treturn figure
function methods:output(dest, opts)
  checkfig(self, "output")
  opts = util.options(opts, "figure:output", { "size" })
  if dest ~= nil then term.classify(dest, "output") end
  self.dest = dest
  if opts.size then self.size = opts.size end
  return self
end

--- Write this figure's plots to a gnuplot script (data included, as
-- datablocks) instead of running gnuplot; `fig:script()` stops.
-- @tparam[opt] string path
-- @treturn figure
function methods:script(path)
  checkfig(self, "script")
  if self.scriptfile then self.scriptfile:close(); self.scriptfile = nil end
  if path == nil then return self end
  if type(path) ~= "string" then argerror(1, "script", "file name expected, got " .. typename(path)) end
  local f, err = io.open(path, "w")
  if not f then error(("script: cannot write %s: %s"):format(path, err), 0) end
  f:write("# written by deltalab; run with: gnuplot -p ", path, "\nset encoding utf8\n")
  if self.dest then
    local kind, fmt = term.classify(self.dest, "script")
    if kind == "file" then
      local cmds = term.commands(self, {}, kind, fmt, self.dest, "script")
      f:write(cmds[1], "\nset output ", gnuplot.text(self.dest, "script", "the output file name"), "\n")
    end
  end
  self.scriptfile, self.scriptpath = f, path
  return self
end

--- Send gnuplot commands of your own to this figure's gnuplot (they are
-- yours, so they are not quoted) and wait for them; gnuplot's errors are
-- raised. Returns what gnuplot printed.
-- @tparam string commands
-- @treturn string gnuplot's messages (stderr) and text output
-- @usage fig:gnuplot("print pi")
function methods:gnuplot(commands)
  checkfig(self, "gnuplot")
  if type(commands) ~= "string" then argerror(1, "gnuplot", "string expected, got " .. typename(commands)) end
  local out, said = execute(self, "gnuplot", commands)
  local errs = gnuplot.complaints(said)
  if #errs > 0 then error("gnuplot: " .. table.concat(errs, "; "), 0) end
  return out .. said
end

--- Wait until the figure's window is closed (scripts that draw in a window
-- call this last); does nothing when the figure draws to a file or text.
function methods:show()
  checkfig(self, "show")
  if self.proc and (self.dest == nil or self.dest == "window") and term.has_display()
     and term.window_terminal() then
    execute(self, "show", "pause mouse close", 0)
  end
  return self
end

--- Close every figure: every gnuplot this program started is ended and reaped.
function figure.closeall()
  local ids = {}
  for id in pairs(state.figures) do ids[#ids + 1] = id end
  for _, id in ipairs(ids) do state.figures[id]:close() end
  state.current = nil
end

return figure
