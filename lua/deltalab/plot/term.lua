--- deltalab.plot.term: where pictures go, and pictures made of characters.
--
-- The destination of a plot (a file by its extension, a window, sixels or
-- text in the terminal), the gnuplot terminal commands for it, and the
-- text-art renderer that draws images in a terminal, since gnuplot's dumb
-- terminal cannot.

local gnuplot = require "deltalab.plot.gnuplot"
local values = require "deltalab.plot.values"
local sys = require "deltalab.sys"

local q, argerror, typename = gnuplot.quote, values.argerror, values.typename

local term = {}

local function getenv(name)
  local v = os.getenv(name)
  return v ~= "" and v or nil
end

--- The temporary gnuplot writes a picture to before it is renamed to path:
-- ".name.deltalab-tmp" beside it, the name every deltalab save uses
-- (src/core/save.h), so a plot cut short leaves no half picture under the
-- real name and at most one such file, which the next plot replaces.
function term.tmpname(path)
  local dir, base = path:match("^(.*/)([^/]*)$")
  if not dir then dir, base = "", path end
  return dir .. "." .. base .. ".deltalab-tmp"
end

--- Whether a display is reachable (DISPLAY or WAYLAND_DISPLAY set).
term.has_display = sys.display

--- Whether text pictures may be coloured: stdout a terminal that is not "dumb".
function term.colours()
  return sys.isatty(io.stdout) and getenv("TERM") ~= "dumb"
end

-- Does the terminal we print to draw sixels? Only the user knows for sure
-- (DELTALAB_SIXEL=1 or 0); otherwise a few TERM names that always do.
local function sixel_terminal()
  local s = getenv("DELTALAB_SIXEL")
  if s then return s ~= "0" end
  local term = getenv("TERM") or ""
  return term:find("sixel") or term == "mlterm" or term == "foot" or term:find("^yaft") or term == "contour"
end

local EXT_TERMINAL = { png = "png", svg = "svg", pdf = "pdf", txt = "txt" }

--- What dest means: "file" (with its format), "window", "text" or "sixel";
-- raises, naming fname, when it is none of them.
function term.classify(dest, fname)
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

--- The window terminal this gnuplot has (qt, wxt, x11), or nil.
function term.window_terminal()
  local t = gnuplot.terminals()
  for _, name in ipairs{ "qt", "wxt", "x11" } do
    if (" " .. t .. " "):find(" " .. name .. " ", 1, true) then return name end
  end
end

--- Decide the destination of one plot: the call's option, the figure's
-- setting, else a window if there is a display and a window terminal, else
-- sixels if the terminal draws them, else text.
function term.destination(fig, o)
  local dest = o.output or fig.dest
  if dest then return dest, term.classify(dest, fig.name or "plot") end
  local kernel = package.loaded["deltalab.kernel"]
  if kernel then
    -- in a notebook: a picture in a temporary file, shown by term.show and removed
    local fmt = kernel.plot_format
    if fmt ~= "png" and fmt ~= "svg" then
      error(("%s: deltalab.kernel.plot_format must be 'png' or 'svg', got %s"):format(
        fig.name or "plot", tostring(fmt)), 0)
    end
    local base = os.tmpname()  -- a unique name; the picture goes beside it
    os.remove(base)
    return base .. "." .. fmt, "file", fmt, true
  end
  if term.has_display() and term.window_terminal() then return "window", "window" end
  if sixel_terminal() then return "sixel", "sixel" end
  return "text", "text"
end

local function size_of(fig, o, fname)
  local s = o.size or fig.size or gnuplot.defaults.size
  if type(s) ~= "table" or type(s[1]) ~= "number" or type(s[2]) ~= "number" or s[1] < 1 or s[2] < 1 then
    argerror(1, fname, "option size must be {width, height} in pixels")
  end
  return math.floor(s[1]), math.floor(s[2])
end

--- Columns and lines of a text picture: size = {cols, lines}, else the
-- terminal's up to 120x40 (COLUMNS and LINES when set, as in curses, else
-- the size of the terminal stdout is, else 80x25), less `spare` lines
-- (default 1, for the prompt).
function term.text_size(o, spare)
  if o.size then return math.floor(o.size[1]), math.floor(o.size[2]) end
  local tcols, tlines = sys.terminal_size(io.stdout)
  local cols = tonumber(getenv("COLUMNS") or "") or tcols or 80
  local lines = tonumber(getenv("LINES") or "") or tlines or 25
  -- the terminal's size, but no bigger than 120x40: a loss curve that
  -- fills a 250-column screen scrolls the session away and reads no better
  return math.max(40, math.min(cols, 121)) - 1, math.max(12, math.min(lines - (spare or 1), 40))
end

--- The page a plot is drawn on, for what is placed by measure (the legend):
-- `w`, `h` its size and `cw`, `lh` the width of a character and the height
-- of a line of text, all in the same unit (pixels, or characters in text).
-- The numbers for pixels are those of the 'sans,10' font every file uses.
function term.geometry(fig, o, kind, fmt, fname)
  if kind == "text" or fmt == "txt" then
    local tw, th = term.text_size(o)
    return { w = tw, h = th, cw = 1, lh = 1 }
  end
  local s = o.size or fig.size or (kind == "sixel" and { 640, 480 }) or gnuplot.defaults.size
  local w, h = size_of(fig, { size = s }, fname)
  return { w = w, h = h, cw = 7, lh = 15 }
end

--- The terminal commands for a destination; returns them, the file gnuplot
-- writes (a temporary beside the real name, renamed once the plot is good)
-- and the real name.
function term.commands(fig, o, kind, fmt, dest, fname)
  local cmds = {}
  if kind == "file" then
    local w, h = size_of(fig, o, fname)
    local tmp = term.tmpname(dest)
    if fmt == "png" then
      cmds[1] = ("set terminal pngcairo size %d,%d noenhanced font 'sans,10'"):format(w, h)
    elseif fmt == "svg" then
      cmds[1] = ("set terminal svg size %d,%d noenhanced font 'sans,10' background '#ffffff'"):format(w, h)
    elseif fmt == "pdf" then  -- pdfcairo measures in inches; 96 pixels to the inch
      cmds[1] = ("set terminal pdfcairo size %.2f,%.2f noenhanced font 'sans,10'"):format(w / 96, h / 96)
    else
      local tw, th = term.text_size(o)
      cmds[1] = ("set terminal dumb size %d,%d noenhanced mono"):format(tw, th)
    end
    cmds[2] = "set output " .. gnuplot.text(tmp, fname, "the output file name")
    return cmds, tmp, dest
  elseif kind == "window" then
    local w, h = size_of(fig, o, fname)
    cmds[1] = ("set terminal %s %d size %d,%d noenhanced title %s"):format(
      term.window_terminal() or "x11", fig.id, w, h, q("deltalab figure " .. fig.id))
  elseif kind == "sixel" then
    local w, h = size_of(fig, { size = o.size or fig.size or { 640, 480 } }, fname)
    cmds[1] = ("set terminal sixelgd size %d,%d truecolor noenhanced font 'sans,10'"):format(w, h)
    cmds[2] = "set output"
  else
    local tw, th = term.text_size(o)
    local colours = term.colours()
    cmds[1] = ("set terminal dumb size %d,%d noenhanced %s"):format(tw, th, colours and "ansi256" or "mono")
    cmds[2] = "set output"
  end
  return cmds
end

--- Show the picture file path in the notebook (deltalab.kernel.display)
-- and remove it: the notebook keeps the picture, no file is left behind.
function term.show(path, fmt)
  local f, err = io.open(path, "rb")
  if not f then error(("plot: cannot read the picture %s: %s"):format(path, err), 0) end
  local data = f:read("a")
  f:close()
  os.remove(path)
  if fmt == "svg" then data = data:gsub("^<%?xml.-%?>%s*", "") end  -- HTML takes it inline
  require("deltalab.kernel").display(fmt == "svg" and "image/svg+xml" or "image/png", data)
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

--- The text picture of art (images: ims, h, w, ch, cols, titles, lo, hi,
-- palette, title) at most width columns wide, in colour or plain. Images
-- go cols to a row when art.fixed_cols (the call asked for cols), else as
-- many as fit.
function term.render_art(art, width, colour)
  local h, w, ch = art.h, art.w, art.ch
  local step = math.max(1, math.ceil(w / width))  -- downsample wide images
  if art.fixed_cols then
    -- the columns asked for (cols = 6) all fit: images are downsampled
    -- until cols of them and the spaces between them fill the width
    local room = math.max(1, (width - art.cols + 1) // art.cols)
    step = math.max(step, math.ceil(w / room))
  end
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
  local per = art.fixed_cols and art.cols or math.max(1, math.min(art.cols or n, (width + 1) // (cw + 1)))
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

return term
