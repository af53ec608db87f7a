--- deltalab.plot: pictures through gnuplot.
--
-- Loss curves, digits, weights as images, decision regions and the path of
-- gradient descent, drawn by the real `gnuplot` program: in a window when
-- there is a display, in the terminal otherwise (text, or sixels), or in a
-- PNG, SVG or PDF file when asked. One gnuplot process per figure, kept open
-- between plots; gnuplot's complaints come back as Lua errors.
--
--     > plot.lines{train = {0.9, 0.5, 0.3}, val = {1.0, 0.7, 0.6}, title = "loss"}
--     > plot.output("digits.png", {size = {600, 500}})
--     > plot.grid(d.test.X, {cols = 5, rows = 4, titles = t})
--
-- Every string that reaches gnuplot (titles, labels, legends, file names) is
-- passed as a single-quoted gnuplot string, in which gnuplot expands nothing
-- (no backquote commands, no @macros); quotes are doubled and control
-- characters become spaces, so a title cannot end the command it is in.
-- See doc/plot.md for the reference and a picture of each kind.
--
-- @module deltalab.plot

local plotcore = require "deltalab.plotcore"
local sys = require "deltalab.sys"

local plot = {}

--- Settings used when a call and its figure say nothing else.
-- `size` of files and windows in pixels; `timeout` in seconds for one plot;
-- `program`: the gnuplot to run (DELTALAB_GNUPLOT overrides "gnuplot").
plot.defaults = {
  size = { 800, 600 },
  timeout = 60,
  program = os.getenv("DELTALAB_GNUPLOT") or "gnuplot",
}

local INSTALL = "gnuplot is not installed (no 'gnuplot' in PATH); install it with:"
  .. " sudo apt-get install gnuplot-nox  (or use plot.script(path) to write the"
  .. " gnuplot script and data instead)"

-- Class colours (0-based label k uses COLOURS[k % 10 + 1]) and their pale
-- versions for decision regions: Tableau 10, readable on white and by most
-- colour-blind readers.
local COLOURS = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf" }

local function pale(hex)
  local r, g, b = tonumber(hex:sub(2, 3), 16), tonumber(hex:sub(4, 5), 16), tonumber(hex:sub(6, 7), 16)
  local function mix(c) return math.floor(c + (255 - c) * 0.7 + 0.5) end
  return ("#%02x%02x%02x"):format(mix(r), mix(g), mix(b))
end

local function colour(label)
  return COLOURS[math.floor(label) % #COLOURS + 1]
end

------------------------------------------------------------------------------
-- Arguments
------------------------------------------------------------------------------

-- Raise in luaL_argerror's words: bad argument #n to 'fname' (msg).
local function argerror(n, fname, msg)
  error(("bad argument #%d to '%s' (%s)"):format(n, fname, msg), 0)
end

local function typename(x)
  if plotcore.shape(x) then return "matrix" end
  local mt = getmetatable(x)
  if type(mt) == "table" and type(mt.__name) == "string" then return mt.__name end
  return type(x)
end

--- The one quoting function: a gnuplot single-quoted string. gnuplot expands
-- backquotes and @macros only outside single quotes, and inside them only ''
-- is special; a newline would end the command, so control characters go.
-- One wrinkle: gnuplot reads a single-quoted string that starts with ''
-- as an empty string, so a leading quote is joined on as "'" (a
-- double-quoted string holding nothing that could expand).
local function q(s)
  s = tostring(s):gsub("%c", " ")
  if s:sub(1, 1) == "'" then return "\"'\" . " .. q(s:sub(2)) end
  return "'" .. s:gsub("'", "''") .. "'"
end
plot.quote = q

local function num(x)
  return ("%.7g"):format(x)
end

-- A flat list of numbers from a table of numbers or a matrix (row by row).
local function vector(x, n, fname, what)
  if plotcore.shape(x) then return plotcore.values(x) end
  if type(x) ~= "table" then
    argerror(n, fname, ("%s expected, got %s"):format(what or "table or matrix", typename(x)))
  end
  for i = 1, #x do
    if type(x[i]) ~= "number" then
      argerror(n, fname, ("element %d is %s, expected a number"):format(i, typename(x[i])))
    end
  end
  return x
end

-- rows, cols and a flat row-major list of a matrix or a table of rows.
local function grid_values(x, n, fname)
  local r, c = plotcore.shape(x)
  if r then return r, c, plotcore.values(x) end
  if type(x) == "table" and type(x.W) ~= "nil" and plotcore.shape(x.W) then
    return grid_values(x.W, n, fname)  -- a layer: its weights
  end
  if type(x) ~= "table" or type(x[1]) ~= "table" then
    argerror(n, fname, "matrix or table of rows expected, got " .. typename(x))
  end
  r, c = #x, #x[1]
  local v = {}
  for i = 1, r do
    if type(x[i]) ~= "table" or #x[i] ~= c then
      argerror(n, fname, ("row %d has not %d numbers"):format(i, c))
    end
    for j = 1, c do v[#v + 1] = tonumber(x[i][j]) or argerror(n, fname, "non-number in row " .. i) end
  end
  return r, c, v
end

local function minmax(v)
  local lo, hi = math.huge, -math.huge
  for i = 1, #v do
    local x = v[i]
    if x == x then  -- skip NaN
      if x < lo then lo = x end
      if x > hi then hi = x end
    end
  end
  return lo, hi
end

local function range_arg(r, n, fname)
  if type(r) ~= "table" or type(r[1]) ~= "number" or type(r[2]) ~= "number" or not (r[1] < r[2]) then
    argerror(n, fname, "range {a, b} with a < b expected")
  end
  return r[1], r[2]
end

local function checkopts(o, n, fname)
  if o == nil then return {} end
  if type(o) ~= "table" then argerror(n, fname, "options table expected, got " .. typename(o)) end
  return o
end

------------------------------------------------------------------------------
-- A plot under construction: gnuplot commands and inline datablocks
------------------------------------------------------------------------------

local Ctx = {}
Ctx.__index = Ctx

local function newctx(name)
  return setmetatable({ name = name, lines = {}, nblock = 0 }, Ctx)
end

function Ctx:add(s) self.lines[#self.lines + 1] = s end

-- A datablock holding text (lines of numbers); returns its name, e.g. $d3.
function Ctx:block(text)
  self.nblock = self.nblock + 1
  local name = "$d" .. self.nblock
  if text:sub(-1) ~= "\n" then text = text .. "\n" end
  self:add(name .. " << EOD\n" .. text .. "EOD")
  return name
end

-- Title, axis labels, ranges, log scale, legend: what most kinds share.
function Ctx:common(o)
  if o.title then self:add("set title " .. q(o.title)) end
  if o.xlabel then self:add("set xlabel " .. q(o.xlabel)) end
  if o.ylabel then self:add("set ylabel " .. q(o.ylabel)) end
  if o.xrange then
    local a, b = range_arg(o.xrange, 1, self.name .. " option xrange")
    self:add(("set xrange [%s:%s]"):format(num(a), num(b)))
  end
  if o.yrange then
    local a, b = range_arg(o.yrange, 1, self.name .. " option yrange")
    self:add(("set yrange [%s:%s]"):format(num(a), num(b)))
  end
  local ls = o.logscale
  if ls then
    if ls == true then ls = "y" end
    if ls ~= "x" and ls ~= "y" and ls ~= "xy" then
      argerror(1, self.name, "option logscale must be \"x\", \"y\", \"xy\" or true, got " .. tostring(ls))
    end
    self:add("set logscale " .. ls)
  end
  if o.legend == false then
    self:add("unset key")
  elseif o.legend ~= nil then
    local where = { ["top left"] = 1, ["top right"] = 1, ["bottom left"] = 1, ["bottom right"] = 1,
                    ["outside"] = "outside right top", ["below"] = "below" }
    if not where[o.legend] then
      argerror(1, self.name, "option legend must be false, 'top left', 'top right', 'bottom left',"
        .. " 'bottom right', 'outside' or 'below', got " .. q(o.legend))
    end
    self:add("set key " .. (where[o.legend] == 1 and o.legend or where[o.legend]))
  end
end

------------------------------------------------------------------------------
-- Where pictures go
------------------------------------------------------------------------------

local function getenv(name)
  local v = os.getenv(name)
  return v ~= "" and v or nil
end

local state = { figures = {}, current = nil, next_id = 1, terminals = nil }

local has_display = sys.display

-- Does the terminal we print to draw sixels? Only the user knows for sure
-- (DELTALAB_SIXEL=1 or 0); otherwise a few TERM names that always do.
local function sixel_terminal()
  local s = getenv("DELTALAB_SIXEL")
  if s then return s ~= "0" end
  local term = getenv("TERM") or ""
  return term:find("sixel") or term == "mlterm" or term == "foot" or term:find("^yaft") or term == "contour"
end

local EXT_TERMINAL = { png = "png", svg = "svg", pdf = "pdf", txt = "txt" }

-- What dest means: "file" (with its format), "window", "text" or "sixel".
local function classify(dest, fname)
  if dest == "window" or dest == "text" or dest == "sixel" then return dest end
  if dest == "dumb" then return "text" end
  if type(dest) ~= "string" then
    argerror(1, fname, "output must be a file name or 'window', 'text', 'sixel', got " .. typename(dest))
  end
  local ext = dest:match("%.(%w+)$")
  ext = ext and ext:lower()
  if not EXT_TERMINAL[ext] then
    argerror(1, fname, ("output '%s': the file name must end in .png, .svg, .pdf or .txt"):format(dest))
  end
  return "file", EXT_TERMINAL[ext]
end

local function window_terminal()
  local t = state.terminals or ""
  for _, name in ipairs{ "qt", "wxt", "x11" } do
    if (" " .. t .. " "):find(" " .. name .. " ", 1, true) then return name end
  end
end

-- Decide the destination of one plot: the call's option, the figure's
-- setting, else a window if there is a display and a window terminal, else
-- sixels if the terminal draws them, else text.
local function destination(fig, o)
  local dest = o.output or fig.dest
  if dest then return dest, classify(dest, fig.name or "plot") end
  if has_display() and window_terminal() then return "window", "window" end
  if sixel_terminal() then return "sixel", "sixel" end
  return "text", "text"
end

local function size_of(fig, o, fname)
  local s = o.size or fig.size or plot.defaults.size
  if type(s) ~= "table" or type(s[1]) ~= "number" or type(s[2]) ~= "number" or s[1] < 1 or s[2] < 1 then
    argerror(1, fname, "option size must be {width, height} in pixels")
  end
  return math.floor(s[1]), math.floor(s[2])
end

local function text_size(o)
  if o.size then return math.floor(o.size[1]), math.floor(o.size[2]) end
  local cols = tonumber(getenv("COLUMNS") or "") or 80
  local lines = tonumber(getenv("LINES") or "") or 25
  -- the terminal's size, but no bigger than 120x40: a loss curve that
  -- fills a 250-column screen scrolls the session away and reads no better
  return math.max(40, math.min(cols, 121)) - 1, math.max(15, math.min(lines - 1, 40))
end

-- The terminal commands for a destination; returns them, the file gnuplot
-- writes (a temporary beside the real name, renamed once the plot is good)
-- and the real name.
local function terminal_commands(fig, o, kind, fmt, dest, fname)
  local cmds = {}
  if kind == "file" then
    local w, h = size_of(fig, o, fname)
    local tmp = dest .. ".part"
    if fmt == "png" then
      cmds[1] = ("set terminal pngcairo size %d,%d noenhanced font 'sans,10'"):format(w, h)
    elseif fmt == "svg" then
      cmds[1] = ("set terminal svg size %d,%d noenhanced font 'sans,10' background '#ffffff'"):format(w, h)
    elseif fmt == "pdf" then  -- pdfcairo measures in inches; 96 pixels to the inch
      cmds[1] = ("set terminal pdfcairo size %.2f,%.2f noenhanced font 'sans,10'"):format(w / 96, h / 96)
    else
      local tw, th = text_size(o)
      cmds[1] = ("set terminal dumb size %d,%d noenhanced mono"):format(tw, th)
    end
    cmds[2] = "set output " .. q(tmp)
    return cmds, tmp, dest
  elseif kind == "window" then
    local w, h = size_of(fig, o, fname)
    cmds[1] = ("set terminal %s %d size %d,%d noenhanced title %s"):format(
      window_terminal() or "x11", fig.id, w, h, q("deltalab figure " .. fig.id))
  elseif kind == "sixel" then
    local w, h = size_of(fig, { size = o.size or fig.size or { 640, 480 } }, fname)
    cmds[1] = ("set terminal sixelgd size %d,%d truecolor noenhanced font 'sans,10'"):format(w, h)
    cmds[2] = "set output"
  else
    local tw, th = text_size(o)
    local colours = sys.isatty(io.stdout) and getenv("TERM") ~= "dumb"
    cmds[1] = ("set terminal dumb size %d,%d noenhanced %s"):format(tw, th, colours and "ansi256" or "mono")
    cmds[2] = "set output"
  end
  return cmds
end

------------------------------------------------------------------------------
-- Figures: one gnuplot process each
------------------------------------------------------------------------------

local figure = {}
local Figure = { __index = figure, __name = "figure" }

function Figure.__tostring(f)
  local where = f.scriptfile and ("script " .. f.scriptpath) or f.dest or "automatic output"
  return ("figure %d (%s%s)"):format(f.id, where, f.proc and "" or ", no gnuplot running")
end

local function checkfig(f, fname)
  if getmetatable(f) ~= Figure then
    argerror(1, fname, "figure expected, got " .. typename(f))
  end
  return f
end

-- Start the figure's gnuplot, learning on the first start which terminals
-- this gnuplot has.
local function start(fig, fname)
  local argv = { plot.defaults.program, "--default-settings" }
  if fig.persist then argv[#argv + 1] = "-persist" end
  local proc, err, code = plotcore.spawn(argv)
  if not proc then
    if code == 2 then error(fname .. ": " .. INSTALL, 0) end  -- ENOENT
    error(fname .. ": cannot start gnuplot: " .. err, 0)
  end
  fig.proc = proc
  if fig.closed then  -- drawn in after close: closeall must know it again
    fig.closed = nil
    state.figures[fig.id] = fig
  end
  fig.serial = (fig.serial or 0) + 1
  local marker = ("deltalab-ready-%d-%d"):format(fig.id, fig.serial)
  proc:send("set encoding utf8\nprint GPVAL_TERMINALS\nprint '" .. marker .. "'\n")
  local _, said, st = proc:sync(marker, plot.defaults.timeout * 1000)
  if st ~= "ok" then
    fig.proc = nil
    error(("%s: gnuplot did not start (%s): %s"):format(fname, st, said), 0)
  end
  state.terminals = state.terminals or said:gsub("\n", " ")
end

-- Split what gnuplot said on stderr into errors and warnings.
local function complaints(said)
  local errs, warns = {}, {}
  for line in said:gmatch("[^\n]+") do
    local msg = line:match("^%s*(.-)%s*$")
    if msg:find("matrix contains missing or undefined values", 1, true) then
      -- expected: the blank pixels between the cells of a grid are NaN
    elseif msg:find("empty [xyz]2? range %[") then
      -- a flat series (one epoch of plot.live, a constant): gnuplot widens
      -- the range itself, which is right, and need not say so every time
    elseif msg:lower():find("warning:", 1, true) then
      warns[#warns + 1] = msg:gsub("^line %d+:%s*", "")
    elseif msg:match("^line %d+: ") or msg:match("^\"[^\"]*\" line %d+: ") then
      errs[#errs + 1] = msg:gsub("^.-line %d+:%s*", "")
    elseif msg:match("^system error: ") then
      errs[#errs + 1] = msg:sub(15)
    elseif msg:find("empty %a2? ?range %[") then
      -- a single point or a flat series: gnuplot widens the range itself
    elseif msg:match("^QStandardPaths:") or msg:match("^qt%.") then
      -- the Qt toolkit's notes about the desktop session, not about the plot
    elseif msg ~= "" and not msg:match("^%^$") and not msg:match("^gnuplot> ") then
      warns[#warns + 1] = msg  -- e.g. a window toolkit's chatter
    end
  end
  return errs, warns
end

-- Send one plot's commands to the figure's gnuplot and wait for it; raise a
-- Lua error naming the call if gnuplot complained.
local function execute(fig, fname, text, timeout)
  for attempt = 1, 2 do
    if not fig.proc then start(fig, fname) end
    fig.serial = fig.serial + 1
    local marker = ("deltalab-done-%d-%d"):format(fig.id, fig.serial)
    if fig.proc:send(text .. "\nprint '" .. marker .. "'\n") then
      local out, said, st = fig.proc:sync(marker, (timeout or plot.defaults.timeout) * 1000)
      if st == "ok" then return out, said end
      fig.proc = nil
      if st == "interrupted" then error(fname .. ": interrupted (gnuplot stopped)", 0) end
      if st == "timeout" then
        error(("%s: gnuplot did not finish within %g s and was stopped"):format(fname, timeout or plot.defaults.timeout), 0)
      end
      local errs = complaints(said)
      error(("%s: gnuplot exited%s"):format(fname, #errs > 0 and (": " .. table.concat(errs, "; ")) or ""), 0)
    end
    -- gnuplot went away since the last plot (killed, or its window closed
    -- the program): start a fresh one and try once more.
    fig.proc:close()
    fig.proc = nil
  end
  error(fname .. ": cannot talk to gnuplot", 0)
end

-- Images in a text terminal: gnuplot's dumb terminal cannot draw them, so
-- they are drawn here, one character per pixel column and two pixel rows per
-- line (a character cell is about twice as tall as wide). In colour (a
-- terminal that is not "dumb") each character is an upper half block whose
-- foreground is the top pixel and background the bottom one; in plain text a
-- ramp of characters, darker for more ink (for the diverging palette
-- . : - = mark negative and ' + * # positive values).
local RAMP = { " ", ".", ":", "-", "=", "+", "*", "#", "%", "@" }
local NEG, POS = { " ", ".", ":", "-", "=" }, { " ", "'", "+", "*", "#" }

local function art_rgb(palette, t)  -- t in [0, 1] → r, g, b
  if palette == "diverging" then
    local a, b
    if t < 0.5 then a, b, t = { 0x21, 0x66, 0xac }, { 0xf7, 0xf7, 0xf7 }, t * 2
    else a, b, t = { 0xf7, 0xf7, 0xf7 }, { 0xb2, 0x18, 0x2b }, (t - 0.5) * 2 end
    return a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t, a[3] + (b[3] - a[3]) * t
  end
  local g = palette == "gray" and t or 1 - t
  return g * 255, g * 255, g * 255
end

local function render_art(art, width, colour)
  local h, w, ch = art.h, art.w, art.ch
  local step = math.max(1, math.ceil(w / width))  -- downsample wide images
  local cw, chh = math.ceil(w / step), math.ceil(h / step)
  local lo, hi = art.lo, art.hi
  local span = (hi > lo) and (hi - lo) or 1
  -- pixel (i, j) of image v (0-based, in the downsampled grid) → t in [0, 1] or r, g, b
  local function pixel(v, i, j)
    local sum, n, rs, gs, bs = 0, 0, 0, 0, 0
    for a = i * step, math.min(h, (i + 1) * step) - 1 do
      for b = j * step, math.min(w, (j + 1) * step) - 1 do
        local p = a * w + b + 1
        if ch == 3 then
          rs, gs, bs = rs + v[p], gs + v[p + h * w], bs + v[p + 2 * h * w]
        else
          sum = sum + v[p]
        end
        n = n + 1
      end
    end
    if n == 0 then return nil end
    if ch == 3 then
      local function c(x) return math.max(0, math.min(1, (x / n - lo) / span)) end
      return nil, c(rs) * 255, c(gs) * 255, c(bs) * 255
    end
    local t = math.max(0, math.min(1, (sum / n - lo) / span))
    return t, art_rgb(art.palette, t)
  end
  local function c256(r, g, b)
    local function q6(x) return math.floor(x / 255 * 5 + 0.5) end
    return 16 + 36 * q6(r) + 6 * q6(g) + q6(b)
  end
  local function char(v, i, j)
    local t, r, g, b = pixel(v, i, j)
    if colour then
      local t2, r2, g2, b2 = pixel(v, i + 1, j)
      if not r then return " " end
      if not r2 then return ("\27[38;5;%dm\u{2580}\27[0m"):format(c256(r, g, b)) end
      return ("\27[38;5;%d;48;5;%dm\u{2580}\27[0m"):format(c256(r, g, b), c256(r2, g2, b2))
    end
    if not t and r then t = 1 - (0.299 * r + 0.587 * g + 0.114 * b) / 255 end
    local t2 = pixel(v, i + 1, j)
    if t2 then t = (t + t2) / 2 end
    if not t then return " " end
    if art.palette == "diverging" then
      local k = math.min(4, math.ceil(math.abs(t - 0.5) * 8 - 1e-9)) + 1
      return t < 0.5 and NEG[k] or POS[k]
    end
    if art.palette == "gray" then t = 1 - t end
    return RAMP[math.min(#RAMP - 1, math.ceil(t * (#RAMP - 1) - 1e-9)) + 1]
  end
  local n = #art.ims
  local per = math.max(1, math.min(art.cols or n, (width + 1) // (cw + 1)))
  local out = {}
  if art.title then out[#out + 1] = tostring(art.title):gsub("%c", " ") end
  for first = 1, n, per do
    local last = math.min(n, first + per - 1)
    if art.titles then
      local line = {}
      for k = first, last do
        local t = tostring(art.titles[k] or ""):gsub("%c", " "):sub(1, cw)
        local pad = cw - #t
        line[#line + 1] = (" "):rep(pad // 2) .. t .. (" "):rep(pad - pad // 2)
      end
      out[#out + 1] = table.concat(line, " ")
    end
    for i = 0, chh - 1, 2 do
      local line = {}
      for k = first, last do
        local cells = {}
        for j = 0, cw - 1 do cells[#cells + 1] = char(art.ims[k], i, j) end
        line[#line + 1] = table.concat(cells)
      end
      out[#out + 1] = table.concat(line, " ")
    end
    out[#out + 1] = ""
  end
  return table.concat(out, "\n")
end

-- Where the picture of one call goes, and the sending of it.
local function emit(fig, fname, ctx, o)
  local body = table.concat(ctx.lines, "\n")
  if o.script then
    -- one plot, one script file: written beside, then renamed into place
    local path = o.script
    local tmp = path .. ".part"
    local f, err = io.open(tmp, "w")
    if not f then error(("%s: cannot write script %s: %s"):format(fname, path, err), 0) end
    local dest = o.output or fig.dest
    local head = ""
    if dest then
      local kind, fmt = classify(dest, fname)
      if kind == "file" then
        local cmds = terminal_commands(fig, o, kind, fmt, dest, fname)
        cmds[2] = "set output " .. q(dest)
        head = table.concat(cmds, "\n") .. "\n"
      end
    end
    local ok, werr = f:write("# ", fname, " — written by deltalab; run with: gnuplot -p ", path, "\n",
      "set encoding utf8\n", head, body, "\n", dest and "unset output\n" or "")
    f:close()
    if not ok then os.remove(tmp); error(("%s: cannot write script %s: %s"):format(fname, path, werr), 0) end
    local rok, rerr = os.rename(tmp, path)
    if not rok then os.remove(tmp); error(("%s: cannot write script %s: %s"):format(fname, path, rerr), 0) end
    return fig
  end
  if fig.scriptfile then
    -- plot.script(path): every plot of the figure is appended to the script
    fig.scriptfile:write("\n# ", fname, "\nreset\n", body, "\n")
    fig.scriptfile:flush()
    return fig
  end
  if not fig.proc then start(fig, fname) end
  local dest, kind, fmt = destination(fig, o)
  if ctx.art and (kind == "text" or fmt == "txt") then
    local tw = text_size(o)
    local colour = kind == "text" and sys.isatty(io.stdout) and getenv("TERM") ~= "dumb"
    local out = render_art(ctx.art, tw, colour)
    if fmt == "txt" then
      local f, err = io.open(dest, "w")
      if not f then error(("%s: cannot write %s: %s"):format(fname, dest, err), 0) end
      f:write(out); f:close()
      return fig
    end
    fig.text = out
    if not fig.quiet then io.stdout:write(out); io.stdout:flush() end
    return fig
  end
  if kind == "text" or fmt == "txt" then
    -- in characters a grid is rows of dots and colons that bury the curves
    local kept = {}
    for _, l in ipairs(ctx.lines) do
      if not l:match("^set grid") then kept[#kept + 1] = l end
    end
    body = table.concat(kept, "\n")
  end
  local cmds, tmp, final = terminal_commands(fig, o, kind, fmt, dest, fname)
  local text = table.concat(cmds, "\n") .. "\nreset\n" .. body .. (tmp and "\nunset output" or "")
  local ok, out, said = pcall(execute, fig, fname, text, o.timeout)
  if not ok then
    if tmp then os.remove(tmp) end
    error(out, 0)
  end
  local errs, warns = complaints(said)
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
  if kind == "text" then
    -- dumb starts each page with a form feed (^L in a log) and pads every
    -- line to the full width (lines that wrap when the window narrows)
    out = out:gsub("^\f", ""):gsub(" +\n", "\n")
  end
  fig.text = out
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

--- A new figure, which becomes the current one (the one `plot.lines` and
-- friends draw in). Each figure has its own gnuplot process and, on a
-- display, its own window.
-- @tparam[opt] table opts `output` (as in `plot.output`), `size` {w, h},
-- `quiet` (keep text pictures in `fig.text` instead of printing them),
-- `persist` (windows stay open after the program ends)
-- @treturn figure
-- @usage local fig = plot.figure{output = "curves.svg"}
function plot.figure(opts)
  opts = checkopts(opts, 1, "figure")
  for k in pairs(opts) do
    if k ~= "output" and k ~= "size" and k ~= "quiet" and k ~= "persist" then
      argerror(1, "figure", ("unknown option '%s' (expected output, size, quiet, persist)"):format(tostring(k)))
    end
  end
  local fig = setmetatable({ id = state.next_id, size = opts.size, quiet = opts.quiet,
                             persist = opts.persist }, Figure)
  state.next_id = state.next_id + 1
  if opts.output then
    classify(opts.output, "figure")
    fig.dest = opts.output
  end
  return register(fig)
end

local function current()
  local f = state.current
  if f and not f.closed then return f end
  return plot.figure()
end

--- Close the figure: its gnuplot ends (its window closes) and is reaped.
-- @treturn nil
function figure:close()
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
function figure:output(dest, opts)
  checkfig(self, "output")
  opts = checkopts(opts, 3, "output")
  if dest ~= nil then classify(dest, "output") end
  self.dest = dest
  if opts.size then self.size = opts.size end
  return self
end

--- Write this figure's plots to a gnuplot script (data included, as
-- datablocks) instead of running gnuplot; `fig:script()` stops.
-- @tparam[opt] string path
-- @treturn figure
function figure:script(path)
  checkfig(self, "script")
  if self.scriptfile then self.scriptfile:close(); self.scriptfile = nil end
  if path == nil then return self end
  if type(path) ~= "string" then argerror(1, "script", "file name expected, got " .. typename(path)) end
  local f, err = io.open(path, "w")
  if not f then error(("script: cannot write %s: %s"):format(path, err), 0) end
  f:write("# written by deltalab; run with: gnuplot -p ", path, "\nset encoding utf8\n")
  if self.dest then
    local kind, fmt = classify(self.dest, "script")
    if kind == "file" then
      local cmds = terminal_commands(self, {}, kind, fmt, self.dest, "script")
      f:write(cmds[1], "\nset output ", q(self.dest), "\n")
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
function figure:gnuplot(commands)
  checkfig(self, "gnuplot")
  if type(commands) ~= "string" then argerror(1, "gnuplot", "string expected, got " .. typename(commands)) end
  local out, said = execute(self, "gnuplot", commands)
  local errs = complaints(said)
  if #errs > 0 then error("gnuplot: " .. table.concat(errs, "; "), 0) end
  return out .. said
end

--- Wait until the figure's window is closed (scripts that draw in a window
-- call this last); does nothing when the figure draws to a file or text.
function figure:show()
  checkfig(self, "show")
  if self.proc and (self.dest == nil or self.dest == "window") and has_display() and window_terminal() then
    execute(self, "show", "pause mouse close", 0)
  end
  return self
end

--- The current figure's output (see `figure:output`).
-- @usage plot.output("loss.png", {size = {640, 480}})
function plot.output(dest, opts) return current():output(dest, opts) end
--- Write the current figure's plots to a gnuplot script (see `figure:script`).
function plot.script(path) return current():script(path) end
--- Wait for the current figure's window to close.
function plot.show() if state.current then state.current:show() end end
--- Close the current figure.
function plot.close() if state.current then state.current:close() end end

--- Close every figure: every gnuplot this program started is ended and reaped.
function plot.closeall()
  local ids = {}
  for id in pairs(state.figures) do ids[#ids + 1] = id end
  for _, id in ipairs(ids) do state.figures[id]:close() end
  state.current = nil
end

------------------------------------------------------------------------------
-- The plot kinds. kinds.X(ctx, ...) adds X's commands to ctx and returns the
-- options table (for the destination); figure:X and plot.X wrap it.
------------------------------------------------------------------------------

local kinds = {}
local OPTION_KEYS = { title = 1, xlabel = 1, ylabel = 1, logscale = 1, output = 1, size = 1,
                      xrange = 1, yrange = 1, legend = 1, points = 1, script = 1, timeout = 1,
                      order = 1 }

-- One series: a list of y (x = 1, 2, ...), an n×2 matrix or list of {x, y}
-- pairs, or an n×1 / 1×n matrix. Returns the datablock text.
local function series_text(v, name, fname)
  local r, c = plotcore.shape(v)
  local out = {}
  if r and c == 2 and r ~= 1 then
    local xs = plotcore.values(v)
    for i = 1, r do out[i] = num(xs[2 * i - 1]) .. " " .. num(xs[2 * i]) end
  elseif type(v) == "table" and type(v[1]) == "table" then
    for i = 1, #v do
      local p = v[i]
      if type(p) ~= "table" or type(p[1]) ~= "number" or type(p[2]) ~= "number" then
        argerror(1, fname, ("series '%s': element %d is not an {x, y} pair"):format(name, i))
      end
      out[i] = num(p[1]) .. " " .. num(p[2])
    end
  else
    local ys = vector(v, 1, fname, ("series '%s': table or matrix"):format(name))
    for i = 1, #ys do out[i] = i .. " " .. num(ys[i]) end
  end
  return table.concat(out, "\n")
end

function kinds.lines(ctx, t)
  if type(t) ~= "table" or plotcore.shape(t) then
    if plotcore.shape(t) then t = { t } else argerror(1, "lines", "table expected, got " .. typename(t)) end
  end
  local series = {}
  if type(t[1]) == "number" then
    series[1] = { "", t }
  else
    for i = 1, #t do series[#series + 1] = { #t > 1 and tostring(i) or "", t[i] } end
    local names = {}
    for k in pairs(t) do
      if type(k) == "string" and not OPTION_KEYS[k] then names[#names + 1] = k end
    end
    if t.order then names = t.order else table.sort(names) end
    for _, k in ipairs(names) do
      if t[k] == nil then argerror(1, "lines", "order names a missing series '" .. tostring(k) .. "'") end
      series[#series + 1] = { k, t[k] }
    end
  end
  ctx:add("set grid")
  ctx:common(t)
  local parts, texts, longest = {}, {}, 0
  for i, s in ipairs(series) do
    texts[i] = series_text(s[2], s[1], "lines")
    longest = math.max(longest, select(2, texts[i]:gsub("\n", "")) + (texts[i] ~= "" and 1 or 0))
  end
  if longest == 1 and not t.xrange then ctx:add("set xrange [0.5:1.5]") end  -- one epoch so far
  for i, s in ipairs(series) do
    if texts[i] ~= "" then
      local block = ctx:block(texts[i])
      parts[#parts + 1] = ("%s using 1:2 with %s lw 2 lc rgb '%s' title %s"):format(
        block, (t.points or longest == 1) and "linespoints pt 7 ps 0.6" or "lines",
        COLOURS[(#parts) % #COLOURS + 1], q(s[1]))
    end
  end
  if #parts == 0 then argerror(1, "lines", "no data: every series is empty") end
  if #parts == 1 and series[1][1] == "" then ctx:add("unset key") end
  ctx:add("plot " .. table.concat(parts, ", "))
  return t
end

-- Points and their 0-based labels from (X, y) or a dataset.
local function points_of(X, y, fname)
  if type(X) == "table" and X.X ~= nil and not plotcore.shape(X) then
    X, y = X.X, y or X.y
  end
  local xs = {}
  local r, c = plotcore.shape(X)
  if r then
    if c < 2 then argerror(1, fname, ("points must be an N×2 matrix, got %dx%d"):format(r, c)) end
    local v = plotcore.values(X)
    for i = 1, r do xs[i] = { v[(i - 1) * c + 1], v[(i - 1) * c + 2] } end
  elseif type(X) == "table" then
    for i = 1, #X do
      if type(X[i]) ~= "table" or type(X[i][1]) ~= "number" or type(X[i][2]) ~= "number" then
        argerror(1, fname, ("point %d is not an {x, y} pair"):format(i))
      end
      xs[i] = X[i]
    end
  else
    argerror(1, fname, "N×2 matrix, list of {x, y} or dataset expected, got " .. typename(X))
  end
  local labels
  if y ~= nil then
    labels = vector(y, 2, fname, "labels (table or matrix)")
    if #labels ~= #xs then
      argerror(2, fname, ("%d labels for %d points"):format(#labels, #xs))
    end
    for i = 1, #labels do
      if labels[i] ~= labels[i] then argerror(2, fname, ("label %d is NaN"):format(i)) end
    end
  end
  return xs, labels
end

-- Datablocks of points by class and the plot clauses drawing them.
local function class_points(ctx, xs, labels, names, style)
  local byclass, classes = {}, {}
  for i, p in ipairs(xs) do
    local k = labels and labels[i] or 0
    if not byclass[k] then byclass[k] = {}; classes[#classes + 1] = k end
    local b = byclass[k]
    b[#b + 1] = num(p[1]) .. " " .. num(p[2])
  end
  table.sort(classes)
  local parts = {}
  for _, k in ipairs(classes) do
    local block = ctx:block(table.concat(byclass[k], "\n"))
    local title = labels and (names and names[k + 1] or ("class " .. num(k))) or ""
    parts[#parts + 1] = ("%s using 1:2 with points %s lc rgb '%s' title %s"):format(
      block, style or "pt 7 ps 0.7", colour(k), q(title))
  end
  return parts, classes
end

function kinds.scatter(ctx, X, y, o)
  if type(y) == "table" and not plotcore.shape(y) and y[1] == nil and next(y) ~= nil and type(X) == "table" and X.X then
    o, y = y, nil  -- scatter(set, opts)
  end
  o = checkopts(o, 3, "scatter")
  local xs, labels = points_of(X, y, "scatter")
  if #xs == 0 then argerror(1, "scatter", "no points") end
  ctx:add("set grid")
  -- the points' own range plus a margin (no point cut by the border, and
  -- no rounding out to the next tic, which shrank the cloud)
  ctx:add("set autoscale fix")
  ctx:add("set offsets graph 0.04, graph 0.04, graph 0.04, graph 0.04")
  ctx:common(o)
  local names = o.names or (type(X) == "table" and X.names) or nil
  local parts = class_points(ctx, xs, labels, names)
  if not labels then ctx:add("unset key") end
  ctx:add("plot " .. table.concat(parts, ", "))
  return o
end

function kinds.hist(ctx, values, o)
  o = checkopts(o, 2, "hist")
  local v = vector(values, 1, "hist")
  local lo, hi = minmax(v)
  if lo > hi then argerror(1, "hist", "no numbers to count") end
  local n = o.bins or math.max(10, math.min(50, math.ceil(math.sqrt(#v))))
  if type(n) ~= "number" or n < 1 or n ~= math.floor(n) then
    argerror(2, "hist", "option bins must be a positive integer")
  end
  if hi == lo then lo, hi = lo - 0.5, hi + 0.5 end
  local width = (hi - lo) / n
  local count = {}
  for b = 1, n do count[b] = 0 end
  for i = 1, #v do
    local x = v[i]
    if x == x then
      local b = math.min(n, math.floor((x - lo) / width) + 1)  -- the top edge belongs to the last bin
      count[b] = count[b] + 1
    end
  end
  local rows = {}
  for b = 1, n do rows[b] = ("%s %d %s"):format(num(lo + (b - 0.5) * width), count[b], num(width)) end
  ctx:add("set grid ytics")
  ctx:add("set style fill solid 0.6 border rgb '#333333'")
  ctx:add("set yrange [0:*]")
  ctx:common(o)
  ctx:add(("plot %s using 1:2:3 with boxes lc rgb '%s' notitle"):format(ctx:block(table.concat(rows, "\n")), COLOURS[1]))
  return o
end

function kinds.bar(ctx, values, o)
  o = checkopts(o, 2, "bar")
  local labels, v = o.labels, nil
  if labels ~= nil and type(labels) ~= "table" then
    argerror(2, "bar", "option labels must be a list of names, got " .. typename(labels))
  end
  if type(values) == "table" and not plotcore.shape(values) and values[1] == nil and next(values) ~= nil then
    labels, v = {}, {}
    for k in pairs(values) do labels[#labels + 1] = k end
    table.sort(labels, function(a, b) return tostring(a) < tostring(b) end)
    for i, k in ipairs(labels) do
      v[i] = values[k]
      if type(v[i]) ~= "number" then argerror(1, "bar", ("value of '%s' is not a number"):format(tostring(k))) end
    end
  else
    v = vector(values, 1, "bar")
  end
  if #v == 0 then argerror(1, "bar", "no values") end
  local rows, tics = {}, {}
  for i = 1, #v do
    rows[i] = i .. " " .. num(v[i])
    tics[i] = q(labels and labels[i] ~= nil and tostring(labels[i]) or tostring(i)) .. " " .. i
  end
  local lo = minmax(v)
  ctx:add("set grid ytics")
  ctx:add("set style fill solid 0.7 border rgb '#333333'")
  ctx:add("set boxwidth 0.7")
  ctx:add(("set xrange [0.4:%s]"):format(num(#v + 0.6)))
  if lo >= 0 then ctx:add("set yrange [0:*]") end
  -- slanted tick labels only when upright ones would run into each other
  -- (about 7 characters fit under a bar of a 600-pixel plot of 10 bars)
  local longest = 0
  for i = 1, #v do longest = math.max(longest, utf8.len(tostring(labels and labels[i] or i)) or 0) end
  ctx:add("set xtics (" .. table.concat(tics, ", ") .. ")" .. (longest * #v > 70 and " rotate by -45" or ""))
  ctx:common(o)
  ctx:add(("plot %s using 1:2 with boxes lc rgb '%s' notitle"):format(ctx:block(table.concat(rows, "\n")), COLOURS[1]))
  return o
end

-- The height, width and channels (1 or 3) of an image of n values.
local function image_shape(n, h, w, fname)
  local function dim(x) return type(x) == "number" and x >= 1 and x == math.floor(x) and x < 2 ^ 31 end
  if (h ~= nil or w ~= nil) and not (dim(h) and dim(w)) then
    argerror(2, fname, ("height and width must be positive integers, got %s and %s"):format(
      typename(h) == "number" and num(h) or typename(h), typename(w) == "number" and num(w) or typename(w)))
  end
  if h and w then
    if n == h * w then return h, w, 1 end
    if n == 3 * h * w then return h, w, 3 end
    argerror(1, fname, ("%d values do not make a %dx%d image (%d values) nor a 3x%dx%d one"):format(
      n, h, w, h * w, h, w))
  end
  local s = math.floor(math.sqrt(n) + 0.5)
  if s * s == n then return s, s, 1 end
  s = math.floor(math.sqrt(n / 3) + 0.5)
  if 3 * s * s == n then return s, s, 3 end
  argerror(1, fname, ("cannot tell the shape of an image of %d values: give height and width"):format(n))
end

-- Pixel values of one image: a matrix (its shape, if not a vector, is the
-- image's), a list of numbers, or a table of rows.
local function image_values(x, h, w, fname, n)
  local r, c = plotcore.shape(x)
  if r then
    if not h and r > 1 and c > 1 then h, w = r, c end
    return plotcore.values(x), h, w
  end
  if type(x) == "table" and type(x[1]) == "table" then
    local rr, cc, v = grid_values(x, n or 1, fname)
    return v, h or rr, w or cc
  end
  return vector(x, n or 1, fname), h, w
end

local PALETTES = {
  ink = "set palette gray negative",                      -- 0 white paper, 1 black ink
  gray = "set palette gray",
  diverging = "set palette defined (0 '#2166ac', 1 '#f7f7f7', 2 '#b2182b')",  -- blue < 0 < red
  viridis = "set palette defined (0 '#440154', 1 '#3b528b', 2 '#21908d', 3 '#5dc963', 4 '#fde725')",
}

-- A mosaic of images: ims = list of flat value lists, all h×w×ch. Puts one
-- image (matrix with image, NaN between cells) or rgbimage command in ctx.
local function mosaic(ctx, ims, h, w, ch, o, fname)
  local n = #ims
  local cols = o.cols or math.min(n, math.ceil(math.sqrt(n)))
  local rows = math.ceil(n / cols)
  local titles = o.titles
  local gap = n > 1 and math.max(1, math.floor(w / 10)) or 0
  local th = (titles and n > 0) and math.max(3, math.floor(h * 0.3)) or 0  -- room above each cell for its title
  local W = cols * w + (cols - 1) * gap
  local H = rows * (h + th) + (rows - 1) * gap
  ctx:add("unset key"); ctx:add("unset tics"); ctx:add("unset border")
  ctx:add("set size ratio -1")
  ctx:add(("set xrange [-0.5:%s]"):format(num(W - 0.5)))
  ctx:add(("set yrange [%s:-0.5]"):format(num(H - 0.5)))
  ctx:add("set margins 1,1,1," .. (o.title and 3 or 1))
  ctx:common(o)
  ctx.art = { ims = ims, h = h, w = w, ch = ch, cols = cols, titles = titles, lo = o.lo, hi = o.hi,
              palette = o.palette or "ink", title = o.title }
  local function origin(k)  -- top-left pixel of cell k (0-based col and row)
    local cc, rr = (k - 1) % cols, (k - 1) // cols
    return cc * (w + gap), rr * (h + th + gap) + th
  end
  if titles then
    for k = 1, n do
      if titles[k] ~= nil then
        local x0, y0 = origin(k)
        ctx:add(("set label %d %s at %s,%s center front font ',%d'"):format(
          k, q(titles[k]), num(x0 + (w - 1) / 2), num(y0 - th / 2 - 0.5), o.fontsize or 9))
      end
    end
  end
  if ch == 1 then
    -- one grid of values, NaN outside the cells (gnuplot leaves NaN pixels blank)
    local grid = {}
    for y = 1, H do
      local row = {}
      for x = 1, W do row[x] = "NaN" end
      grid[y] = row
    end
    for k = 1, n do
      local x0, y0 = origin(k)
      local v = ims[k]
      for i = 1, h do
        local row = grid[y0 + i]
        for j = 1, w do row[x0 + j] = num(v[(i - 1) * w + j]) end
      end
    end
    for y = 1, H do grid[y] = table.concat(grid[y], " ") end
    if n > 1 then  -- a light frame shows each cell's extent on the white page
      for k = 1, n do
        local x0, y0 = origin(k)
        ctx:add(("set object %d rectangle from %s,%s to %s,%s front fillstyle empty border lc rgb '#c8c8c8' lw 0.5"):format(
          k, num(x0 - 0.5), num(y0 - 0.5), num(x0 + w - 0.5), num(y0 + h - 0.5)))
      end
    end
    ctx:add(PALETTES[o.palette or "ink"] or argerror(2, fname, "unknown palette " .. q(o.palette)))
    ctx:add(("set cbrange [%s:%s]"):format(num(o.lo), num(o.hi)))
    if not o.colorbox then ctx:add("unset colorbox") else ctx:add("set cbtics") end  -- unset tics took its numbers
    ctx:add(("plot %s matrix with image notitle"):format(ctx:block(table.concat(grid, "\n"))))
  else
    -- rgbimage wants x y r g b on a full grid: white between the cells
    local pix = {}
    for y = 0, H - 1 do
      for x = 0, W - 1 do pix[y * W + x] = false end
    end
    for k = 1, n do
      local x0, y0 = origin(k)
      local v = ims[k]
      local lo, hi = o.lo, o.hi
      if o.normalize then lo, hi = minmax(v) end
      local s = 255 / ((hi > lo) and (hi - lo) or 1)
      for i = 0, h - 1 do
        for j = 0, w - 1 do
          local p = i * w + j + 1
          pix[(y0 + i) * W + x0 + j] = ("%d %d %d"):format(
            math.floor((v[p] - lo) * s + 0.5), math.floor((v[p + h * w] - lo) * s + 0.5),
            math.floor((v[p + 2 * h * w] - lo) * s + 0.5))
        end
      end
    end
    local out = {}
    for y = 0, H - 1 do
      for x = 0, W - 1 do
        out[#out + 1] = x .. " " .. y .. " " .. (pix[y * W + x] or "255 255 255")
      end
    end
    ctx:add(("plot %s using 1:2:3:4:5 with rgbimage pixels notitle"):format(ctx:block(table.concat(out, "\n"))))
  end
end

-- The value range of images: [0, 1] when they fit in it (pixels), else
-- their own range; centred at 0 for the diverging palette.
local function value_range(ims, o)
  local lo, hi = math.huge, -math.huge
  for _, v in ipairs(ims) do
    local a, b = minmax(v)
    lo, hi = math.min(lo, a), math.max(hi, b)
  end
  if lo > hi then lo, hi = 0, 1 end
  if o.palette == "diverging" then
    local m = math.max(math.abs(lo), math.abs(hi))
    if m == 0 then m = 1 end
    return -m, m
  end
  if lo >= 0 and hi <= 1 then return 0, 1 end
  if lo >= 0 and hi <= 255 and hi > 1 and o.channels == 3 then return 0, 255 end
  if hi == lo then hi = lo + 1 end
  return lo, hi
end

function kinds.image(ctx, x, h, w, o)
  if type(h) == "table" then o, h, w = h, nil, nil end
  o = checkopts(o, 4, "image")
  local v
  v, h, w = image_values(x, h, w, "image")
  local ch
  h, w, ch = image_shape(#v, h, w, "image")
  local opts = setmetatable({ cols = 1, channels = ch }, { __index = o })
  opts.lo, opts.hi = value_range({ v }, opts)
  if o.range then opts.lo, opts.hi = range_arg(o.range, 4, "image") end
  opts.colorbox = o.colorbox
  mosaic(ctx, { v }, h, w, ch, opts, "image")
  return o
end

-- The images of grid(): rows of a matrix, a list, or a dataset's X.
local function image_list(images, o, fname)
  local shape = o.shape
  if type(images) == "table" and images.X ~= nil and not plotcore.shape(images) then
    shape = shape or images.shape
    images = images.X
  end
  local h, w
  if shape then h, w = shape[#shape - 1], shape[#shape] end
  local limit = o.max or (o.cols and o.rows and o.cols * o.rows) or 100
  local ims = {}
  local r, c = plotcore.shape(images)
  if r then
    local v = plotcore.values(images)
    for i = 1, math.min(r, limit) do
      ims[i] = table.move(v, (i - 1) * c + 1, i * c, 1, {})
    end
  elseif type(images) == "table" then
    for i = 1, math.min(#images, limit) do
      local vi, hh, ww = image_values(images[i], h, w, fname)
      ims[i], h, w = vi, h or hh, w or ww
    end
  else
    argerror(1, fname, "matrix of images (one per row), list of images or dataset expected, got " .. typename(images))
  end
  if #ims == 0 then argerror(1, fname, "no images") end
  local ch
  h, w, ch = image_shape(#ims[1], h, w, fname)
  for i = 2, #ims do
    if #ims[i] ~= #ims[1] then argerror(1, fname, ("image %d has %d values, image 1 has %d"):format(i, #ims[i], #ims[1])) end
  end
  return ims, h, w, ch
end

function kinds.grid(ctx, images, o)
  o = checkopts(o, 2, "grid")
  local ims, h, w, ch = image_list(images, o, "grid")
  local opts = setmetatable({ channels = ch }, { __index = o })
  if o.titles ~= nil and type(o.titles) ~= "table" then argerror(2, "grid", "option titles must be a table") end
  opts.lo, opts.hi = value_range(ims, opts)
  if o.range then opts.lo, opts.hi = range_arg(o.range, 2, "grid") end
  mosaic(ctx, ims, h, w, ch, opts, "grid")
  return o
end

function kinds.weights(ctx, layer, h, w, o)
  if type(h) == "table" then o, h, w = h, nil, nil end
  o = checkopts(o, 4, "weights")
  local W = layer
  if not plotcore.shape(W) and type(W) == "table" and W.W then W = W.W end
  local ok, Wv = pcall(function() return layer.W end)
  if not plotcore.shape(W) and ok and plotcore.shape(Wv) then W = Wv end  -- a layer userdata
  local r, c = plotcore.shape(W)
  if not r then argerror(1, "weights", "layer or weight matrix expected, got " .. typename(layer)) end
  local v = plotcore.values(W)
  local ims = {}
  for i = 1, math.min(r, o.max or 100) do ims[i] = table.move(v, (i - 1) * c + 1, i * c, 1, {}) end
  local ch
  h, w, ch = image_shape(c, h, w, "weights")
  local opts = setmetatable({ channels = ch, palette = o.palette or "diverging",
                              colorbox = o.colorbox == nil and ch == 1 or o.colorbox,
                              normalize = ch == 3 }, { __index = o })
  opts.lo, opts.hi = value_range(ims, opts)
  if o.range then
    opts.lo, opts.hi = range_arg(o.range, 4, "weights")
  elseif opts.palette == "diverging" and ch == 1 then
    -- ±(99th percentile of |w|) rather than ±max|w|: a handful of large
    -- weights would otherwise wash every neuron's picture out to near white
    -- (those few are drawn in the full colour of the scale's end)
    local a = {}
    for _, im in ipairs(ims) do
      for i = 1, #im do local x = math.abs(im[i]); if x == x then a[#a + 1] = x end end
    end
    table.sort(a)
    local m = a[math.max(1, math.ceil(#a * 0.99))] or 0
    if m > 0 then opts.lo, opts.hi = -m, m end
  end
  mosaic(ctx, ims, h, w, ch, opts, "weights")
  return o
end

function kinds.heatmap(ctx, W, o)
  o = checkopts(o, 2, "heatmap")
  if not plotcore.shape(W) then  -- a layer (table or the network's userdata): its weights
    local ok, Wv = pcall(function() return W.W end)
    if ok and plotcore.shape(Wv) then W = Wv end
  end
  local r, c, v = grid_values(W, 1, "heatmap")
  if r == 0 or c == 0 then argerror(1, "heatmap", ("nothing to draw in a %dx%d matrix"):format(r, c)) end
  local lo, hi = minmax(v)
  if lo > hi then lo, hi = 0, 0 end
  local m = math.max(math.abs(lo), math.abs(hi))
  if m == 0 then m = 1 end
  local text
  if plotcore.shape(W) then
    text = plotcore.format(W)
  elseif type(W) == "table" and W.W and plotcore.shape(W.W) then
    text = plotcore.format(W.W)
  else
    local rows = {}
    for i = 1, r do
      local row = {}
      for j = 1, c do row[j] = num(v[(i - 1) * c + j]) end
      rows[i] = table.concat(row, " ")
    end
    text = table.concat(rows, "\n")
  end
  ctx:add(PALETTES[o.palette or "diverging"] or argerror(2, "heatmap", "unknown palette " .. q(o.palette)))
  if (o.palette or "diverging") == "diverging" then
    ctx:add(("set cbrange [%s:%s]"):format(num(-m), num(m)))
  end
  ctx:add(("set xrange [0.5:%s]"):format(num(c + 0.5)))
  ctx:add(("set yrange [%s:0.5]"):format(num(r + 0.5)))
  ctx:add("set tics out nomirror")
  if r <= 20 and c <= 20 then
    ctx:add("set xtics 1"); ctx:add("set ytics 1")
  end
  ctx:add("unset key")
  ctx:common(o)
  if o.values then
    -- each value written in its cell (hand-worked examples, number by
    -- number): white on the dark ends of the diverging scale, else black
    if r * c > 400 then argerror(2, "heatmap", ("option values: %dx%d is more than 400 cells"):format(r, c)) end
    local diverging = (o.palette or "diverging") == "diverging"
    for i = 1, r do
      for j = 1, c do
        local x = v[(i - 1) * c + j]
        local ink = diverging and math.abs(x) / m > 0.6 and "#ffffff" or "#000000"
        ctx:add(("set label %s at %d,%d center front textcolor rgb '%s'"):format(
          q(("%.3g"):format(x)), j, i, ink))
      end
    end
  end
  -- in a text terminal a small matrix is drawn with each value as a block
  -- of characters (f lines and 4f columns), so that 2x3 is still visible
  local f = math.max(1, math.min(4, 60 // (4 * c), 24 // r))
  local big, fx, fy = {}, 4 * f, 2 * f
  for i = 0, r * fy - 1 do
    for j = 0, c * fx - 1 do big[#big + 1] = v[(i // fy) * c + j // fx + 1] end
  end
  ctx.art = { ims = { big }, h = r * fy, w = c * fx, ch = 1, cols = 1, lo = -m, hi = m,
              palette = o.palette == "gray" and "gray" or "diverging", title = o.title }
  ctx:add(("plot %s matrix using ($1+1):($2+1):3 with image pixels notitle"):format(ctx:block(text)))
  return o
end

-- Sample f on n points of [a, b]; f's errors name the x they happened at.
local function sample1(f, a, b, n, fname)
  local xs, ys = {}, {}
  for i = 0, n - 1 do
    local x = a + (b - a) * i / (n - 1)
    local y = f(x)
    if type(y) ~= "number" then
      argerror(1, fname, ("f(%s) returned %s, expected a number"):format(num(x), typename(y)))
    end
    xs[#xs + 1], ys[#ys + 1] = x, y
  end
  return xs, ys
end

function kinds.landscape(ctx, f, r, paths, o)
  if plotcore.shape(f) or (type(f) ~= "function" and not (getmetatable(f) or {}).__call) then
    argerror(1, "landscape", "function expected, got " .. typename(f))
  end
  if type(paths) == "table" and not plotcore.shape(paths) and paths[1] == nil and next(paths) ~= nil then
    -- {["lr 0.1"] = {...}, ...} or options? options have known keys only
    local only_options = true
    for k in pairs(paths) do if not OPTION_KEYS[k] and k ~= "samples" then only_options = false end end
    if only_options and o == nil then o, paths = paths, nil end
  end
  o = checkopts(o, 4, "landscape")
  local a, b = range_arg(r, 2, "landscape")
  local xs, ys = sample1(f, a, b, o.samples or 400, "landscape")
  local rows = {}
  for i = 1, #xs do rows[i] = num(xs[i]) .. " " .. num(ys[i]) end
  ctx:add("set grid")
  ctx:add("set xlabel " .. q(o.xlabel or "w"))
  ctx:add("set ylabel " .. q(o.ylabel or "loss"))
  ctx:common(o)
  local parts = { ("%s using 1:2 with lines lw 2 lc rgb '#333333' title %s"):format(
    ctx:block(table.concat(rows, "\n")), q(o.curve or "loss")) }
  -- the paths: a list of x, a list of lists, or a table name → list
  local list = {}
  if paths ~= nil then
    local pv = plotcore.shape(paths) and plotcore.values(paths) or paths
    if type(pv) ~= "table" then argerror(3, "landscape", "path (list of x) expected, got " .. typename(paths)) end
    if type(pv[1]) == "number" then
      list[1] = { "gradient descent", pv }
    elseif pv[1] ~= nil then
      for i = 1, #pv do list[i] = { "path " .. i, pv[i] } end
    else
      local names = {}
      for k in pairs(pv) do names[#names + 1] = k end
      table.sort(names, function(x, y) return tostring(x) < tostring(y) end)
      for i, k in ipairs(names) do list[i] = { tostring(k), pv[k] } end
    end
  end
  for i, p in ipairs(list) do
    local pts = vector(p[2], 3, "landscape", "path (list of x)")
    local prow = {}
    for j = 1, #pts do
      local y = f(pts[j])
      if type(y) ~= "number" then argerror(1, "landscape", ("f(%s) returned %s"):format(num(pts[j]), typename(y))) end
      prow[j] = num(pts[j]) .. " " .. num(y)
    end
    if #prow > 0 then
      local c = COLOURS[(i - 1) % #COLOURS + 1]
      local block = ctx:block(table.concat(prow, "\n"))
      parts[#parts + 1] = ("%s using 1:2 with linespoints lw 1 pt 7 ps 0.9 lc rgb '%s' title %s"):format(block, c, q(p[1]))
      -- the start of the path: an open circle
      parts[#parts + 1] = ("%s every ::0::0 using 1:2 with points pt 6 ps 2.2 lc rgb '%s' notitle"):format(block, c)
    end
  end
  ctx:add("plot " .. table.concat(parts, ", "))
  return o
end

-- Sample f(x, y) on an n×n grid as splot data (blank line between rows).
local function sample2(ctx, f, xr, yr, n, fname)
  local x0, x1 = range_arg(xr, 2, fname)
  local y0, y1 = range_arg(yr, 3, fname)
  local rows, zlo, zhi = {}, math.huge, -math.huge
  for i = 0, n - 1 do
    local y = y0 + (y1 - y0) * i / (n - 1)
    for j = 0, n - 1 do
      local x = x0 + (x1 - x0) * j / (n - 1)
      local z = f(x, y)
      if type(z) ~= "number" then
        argerror(1, fname, ("f(%s, %s) returned %s, expected a number"):format(num(x), num(y), typename(z)))
      end
      if z < zlo then zlo = z end
      if z > zhi then zhi = z end
      rows[#rows + 1] = num(x) .. " " .. num(y) .. " " .. num(z)
    end
    rows[#rows + 1] = ""
  end
  return ctx:block(table.concat(rows, "\n")), zlo, zhi
end

-- A 2-D path {{x, y}, ...} as splot data at height f(x, y) (or z).
local function path2(ctx, f, path, z, fname)
  local xs = points_of(path, nil, fname)
  local rows = {}
  for i, p in ipairs(xs) do rows[i] = ("%s %s %s"):format(num(p[1]), num(p[2]), num(z or f(p[1], p[2]))) end
  return ctx:block(table.concat(rows, "\n"))
end

local function check_f2(f, fname)
  if plotcore.shape(f) or (type(f) ~= "function" and not (getmetatable(f) or {}).__call) then
    argerror(1, fname, "function of (x, y) expected, got " .. typename(f))
  end
end

function kinds.surface(ctx, f, xr, yr, o)
  check_f2(f, "surface")
  o = checkopts(o, 4, "surface")
  local block = sample2(ctx, f, xr, yr, o.samples or 40, "surface")
  ctx:add(PALETTES.viridis)
  ctx:add("set pm3d depthorder border lc rgb '#404040' lw 0.3")
  ctx:add("set view 55,35")
  ctx:add("set xyplane relative 0")  -- the x-y plane at the lowest z, not half a height below
  ctx:add("set xlabel " .. q(o.xlabel or "x"))
  ctx:add("set ylabel " .. q(o.ylabel or "y"))
  ctx:add("unset key")
  ctx:common(o)
  local parts = { block .. " using 1:2:3 with pm3d notitle" }
  if o.path then
    parts[#parts + 1] = path2(ctx, f, o.path, nil, "surface")
      .. " using 1:2:3 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#d62728' notitle"
  end
  ctx:add("splot " .. table.concat(parts, ", "))
  return o
end

function kinds.contour(ctx, f, xr, yr, o)
  check_f2(f, "contour")
  o = checkopts(o, 4, "contour")
  local block, _, zhi = sample2(ctx, f, xr, yr, o.samples or 60, "contour")
  ctx:add(PALETTES.viridis)
  ctx:add("set view map")
  ctx:add("set contour base")
  ctx:add(("set cntrparam levels %d"):format(o.levels or 12))
  ctx:add("unset clabel")
  ctx:add("set xlabel " .. q(o.xlabel or "x"))
  ctx:add("set ylabel " .. q(o.ylabel or "y"))
  local x0, x1 = range_arg(xr, 2, "contour")
  local y0, y1 = range_arg(yr, 3, "contour")
  ctx:add(("set xrange [%s:%s]"):format(num(x0), num(x1)))
  ctx:add(("set yrange [%s:%s]"):format(num(y0), num(y1)))
  ctx:add("set size ratio -1")
  ctx:add("unset key")
  ctx:common(o)
  local parts = { block .. " using 1:2:3 with pm3d notitle",
                  block .. " using 1:2:3 nosurface with lines lc rgb '#ffffff' lw 0.8 notitle" }
  if o.path then
    parts[#parts + 1] = path2(ctx, f, o.path, zhi, "contour")
      .. " using 1:2:3 nocontour with linespoints lw 2 pt 7 ps 0.8 lc rgb '#d62728' notitle"
  end
  ctx:add("splot " .. table.concat(parts, ", "))
  return o
end

-- net:forward on a B×2 matrix of grid points → predicted 0-based labels.
local function classify_grid(net, pts, fname, threshold)
  local matrix = require "deltalab.matrix"
  local B = #pts
  local X = matrix.zeros(B, 2)
  for i, p in ipairs(pts) do X:set(i, 1, p[1]); X:set(i, 2, p[2]) end
  local ok, out = pcall(net.forward, net, X)
  if not ok then error(fname .. ": net:forward on a " .. B .. "x2 grid failed: " .. tostring(out), 0) end
  local r, c = plotcore.shape(out)
  local v
  if r then
    v = plotcore.values(out)
  elseif type(out) == "table" then
    r, c, v = grid_values(out, 1, fname)
  else
    error(fname .. ": net:forward returned " .. typename(out) .. ", expected a matrix", 0)
  end
  if r ~= B then error(("%s: net:forward returned %d rows for %d points"):format(fname, r, B), 0) end
  local labels = {}
  for i = 1, B do
    if c == 1 then
      labels[i] = v[i] >= threshold and 1 or 0
    else
      local best, arg = -math.huge, 1
      for j = 1, c do
        local x = v[(i - 1) * c + j]
        if x > best then best, arg = x, j end
      end
      labels[i] = arg - 1  -- class labels are 0-based
    end
  end
  return labels, math.max(c, 2)
end

function kinds.boundary(ctx, net, set, o)
  o = checkopts(o, 3, "boundary")
  if net == nil or (type(net) ~= "table" and type(net) ~= "userdata") then
    argerror(1, "boundary", "network expected, got " .. typename(net))
  end
  local okf, fwd = pcall(function() return net.forward end)
  if not okf or fwd == nil then argerror(1, "boundary", "network with a forward method expected, got " .. typename(net)) end
  local xs, labels = points_of(set, nil, "boundary")
  if #xs == 0 then argerror(2, "boundary", "no points") end
  local x0, x1, y0, y1 = math.huge, -math.huge, math.huge, -math.huge
  for _, p in ipairs(xs) do
    x0, x1 = math.min(x0, p[1]), math.max(x1, p[1])
    y0, y1 = math.min(y0, p[2]), math.max(y1, p[2])
  end
  local mx, my = (x1 - x0) * 0.08 + 1e-3, (y1 - y0) * 0.08 + 1e-3
  x0, x1, y0, y1 = x0 - mx, x1 + mx, y0 - my, y1 + my
  if o.xrange then x0, x1 = range_arg(o.xrange, 3, "boundary") end
  if o.yrange then y0, y1 = range_arg(o.yrange, 3, "boundary") end
  local G = o.resolution or 120
  local pts = {}
  for i = 0, G - 1 do
    for j = 0, G - 1 do
      pts[#pts + 1] = { x0 + (x1 - x0) * (j + 0.5) / G, y0 + (y1 - y0) * (i + 0.5) / G }
    end
  end
  local pred, k = classify_grid(net, pts, "boundary", o.threshold or 0.5)
  for _, l in ipairs(labels or {}) do k = math.max(k, math.floor(l) + 1) end
  local rows = {}
  for i, p in ipairs(pts) do rows[i] = num(p[1]) .. " " .. num(p[2]) .. " " .. pred[i] end
  local pal = {}
  for c = 0, k - 1 do pal[#pal + 1] = ("%d '%s'"):format(c, pale(colour(c))) end
  ctx:add(("set palette maxcolors %d"):format(k))
  ctx:add("set palette defined (" .. table.concat(pal, ", ") .. ")")
  ctx:add(("set cbrange [-0.5:%s]"):format(num(k - 0.5)))
  ctx:add("unset colorbox")
  ctx:add(("set xrange [%s:%s]"):format(num(x0), num(x1)))
  ctx:add(("set yrange [%s:%s]"):format(num(y0), num(y1)))
  ctx:add("set size ratio -1")
  ctx:add("set key below")  -- over the regions a legend would be hard to read and hide points
  ctx:common(o)
  local parts = { ctx:block(table.concat(rows, "\n")) .. " using 1:2:3 with image notitle" }
  local names = o.names or (type(set) == "table" and set.names) or nil
  for _, p in ipairs(class_points(ctx, xs, labels, names, "pt 7 ps 0.6")) do parts[#parts + 1] = p end
  if not labels then ctx:add("unset key") end
  ctx:add("plot " .. table.concat(parts, ", "))
  return o
end

------------------------------------------------------------------------------
-- Public wrappers: plot.X draws in the current figure, fig:X in fig.
------------------------------------------------------------------------------

local ORDER = { "lines", "scatter", "hist", "bar", "image", "grid", "heatmap", "weights",
                "landscape", "surface", "contour", "boundary" }

-- The options table of a call (for output=, script=): the last table
-- argument that is not data.
for _, name in ipairs(ORDER) do
  local build = kinds[name]
  figure[name] = function(fig, ...)
    checkfig(fig, name)
    local ctx = newctx(name)
    local o = build(ctx, ...) or {}
    return emit(fig, name, ctx, o)
  end
  plot[name] = function(...)
    local fig = current()
    local ctx = newctx(name)
    local o = build(ctx, ...) or {}
    return emit(fig, name, ctx, o)
  end
end

--- Several plots in one picture, side by side: each panel is
-- `{kind, args...}`, e.g. `{"lines", {train = h.train_loss}}`.
-- @tparam table t panels, and options `cols`, `rows`, `title`, `output`, `size`
-- @treturn figure
function figure:multiplot(t)
  checkfig(self, "multiplot")
  if type(t) ~= "table" then argerror(1, "multiplot", "table of panels expected, got " .. typename(t)) end
  local n = #t
  if n == 0 then argerror(1, "multiplot", "no panels") end
  local cols = t.cols or math.min(n, t.rows and math.ceil(n / t.rows) or math.ceil(math.sqrt(n)))
  local rows = t.rows or math.ceil(n / cols)
  local ctx = newctx("multiplot")
  ctx:add(("set multiplot layout %d,%d%s"):format(rows, cols, t.title and (" title " .. q(t.title)) or ""))
  for i = 1, n do
    local p = t[i]
    if type(p) ~= "table" or not kinds[p[1]] then
      argerror(1, "multiplot", ("panel %d must be {kind, args...} with kind one of %s"):format(i, table.concat(ORDER, ", ")))
    end
    if i > 1 then ctx:add("reset") end
    kinds[p[1]](ctx, table.unpack(p, 2, p.n or #p))
  end
  ctx:add("unset multiplot")
  return emit(self, "multiplot", ctx, t)
end
function plot.multiplot(t) return current():multiplot(t) end

-- Numbers from a history field (table or matrix); nil when empty.
local function history(h, key)
  local v = h and h[key]
  if v == nil then return nil end
  v = plotcore.shape(v) and plotcore.values(v) or v
  if type(v) ~= "table" or #v == 0 then return nil end
  return v
end

--- Live training curves: a callback `f(trainer, epoch)` that redraws the
-- trainer's loss and accuracy curves (`t.history`) in its own figure — the
-- same window, the same gnuplot — each time it is called. Given a trainer,
-- also hooks itself into `trainer.on_epoch` (keeping a callback already there).
-- @param[opt] trainer a trainer, or nil to just get the callback
-- @tparam[opt] table opts figure options (`output`, `size`, `quiet`) and `title`
-- @treturn function the callback
-- @treturn figure the figure it draws in
-- @usage local t = trainer{net = net, train = d.train, epochs = 10, on_epoch = plot.live()}
function plot.live(trainer, opts)
  if type(trainer) == "table" and getmetatable(trainer) == nil and trainer.history == nil
     and opts == nil then
    trainer, opts = nil, trainer  -- plot.live{output = ...}
  end
  opts = checkopts(opts, 2, "live")
  local fig = plot.figure(opts)
  local title = opts.title or "training"
  local function draw(t, epoch)
    local h = t and t.history
    local loss = { train = history(h, "train_loss"), val = history(h, "val_loss"),
                   title = title .. " — loss", xlabel = "epoch", legend = "top right" }
    local acc = { train = history(h, "train_acc"), val = history(h, "val_acc"),
                  title = title .. " — accuracy", xlabel = "epoch", legend = "bottom right" }
    local panels = {}
    if loss.train or loss.val then panels[#panels + 1] = { "lines", loss } end
    if acc.train or acc.val then panels[#panels + 1] = { "lines", acc } end
    if #panels == 0 then return end
    fig:multiplot{ cols = #panels, rows = 1, table.unpack(panels) }
  end
  if trainer ~= nil then
    -- A deltalab trainer reads its callbacks from the table kept as the user
    -- value of its C state (t._state), not from the trainer table, so that
    -- is where the hook goes; any other table gets a field on_epoch.
    local into = trainer
    local okst, st = pcall(function() return trainer._state end)
    if okst and type(st) == "userdata" then
      local uv = debug.getuservalue(st, 1)
      if type(uv) == "table" then into = uv end
    end
    local ok, prev = pcall(function() return into.on_epoch end)
    local hook = function(t, e, ...)
      local go_on = true
      if ok and type(prev) == "function" then go_on = prev(t, e, ...) end
      draw(t, e)
      return go_on  -- the trainer's own callback still decides whether to stop
    end
    if not pcall(function() into.on_epoch = hook end) then
      argerror(1, "live", "trainer whose on_epoch can be set expected, got " .. typename(trainer))
    end
  end
  return draw, fig
end

-- The figure's methods, for help to list (help.lua picks them up).
plot.figure_methods = figure
return plot
