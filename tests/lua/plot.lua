-- plot: every kind rendered to PNG and SVG in a temporary directory; text
-- pictures; gnuplot errors as Lua errors; injection strings that run
-- nothing; gnuplot processes that all go away; the missing-gnuplot message.
local T = require "check"
local plotcore = require "deltalab.plotcore"

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -m 700 " .. dir))
local function path(name) return dir .. "/" .. name end
local function exists(p) local f = io.open(p, "rb"); if f then f:close() end; return f ~= nil end
local function slurp(p) local f = assert(io.open(p, "rb")); local s = f:read("a"); f:close(); return s end

local function have_gnuplot()
  local f = io.popen("command -v gnuplot 2>/dev/null")
  local s = f:read("a"); f:close()
  return s ~= ""
end
local GNUPLOT = have_gnuplot()

-- Width and height from a PNG's IHDR chunk (bytes 17..24, big-endian).
local function png_size(p)
  local s = slurp(p)
  T.eq(s:sub(1, 8), "\137PNG\r\n\26\n", p .. " PNG signature")
  T.eq(s:sub(13, 16), "IHDR", p .. " IHDR chunk")
  return (">I4I4"):unpack(s, 17)
end

-- The pixels of a PNG as decoded by libgd (gnuplot's `binary filetype=png`
-- reader, a different library from the cairo that wrote the file): a table
-- colour → count, and the number of pixels. Not blank = more than one colour
-- and a reasonable share of non-white pixels.
local function png_colours(p)
  local tab = path("pixels.txt")
  local cmd = ("gnuplot -e \"set table '%s'; plot '%s' binary filetype=png with rgbimage; unset table\" 2>/dev/null"):format(tab, p)
  assert(os.execute(cmd))
  local counts, n = {}, 0
  for line in io.lines(tab) do
    local r, g, b = line:match("^%s*[%d.-]+%s+[%d.-]+%s+(%d+)%s+(%d+)%s+(%d+)")
    if r then
      local key = r .. "," .. g .. "," .. b
      counts[key] = (counts[key] or 0) + 1
      n = n + 1
    end
  end
  os.remove(tab)
  return counts, n
end

local function not_blank(p, min_colours, min_ink)
  local counts, n = png_colours(p)
  local k = 0
  for _ in pairs(counts) do k = k + 1 end
  T.truthy(k >= (min_colours or 2), ("%s has %d colours"):format(p, k))
  local ink = 1 - (counts["255,255,255"] or 0) / n
  T.truthy(ink >= (min_ink or 0.01), ("%s: %.3f of the pixels are not white"):format(p, ink))
  return counts, n
end

-- Our gnuplot children, counted in /proc (parent pid = ours, name gnuplot).
local function gnuplot_children()
  local me = require("deltalab.sys").getpid()
  local n = 0
  local ls = io.popen("ls /proc")
  for name in ls:lines() do
    if name:match("^%d+$") then
      local f = io.open("/proc/" .. name .. "/stat")
      if f then
        local st = f:read("l") or ""
        f:close()
        local comm, ppid = st:match("^%d+ %((.-)%) %a (%d+)")
        if comm == "gnuplot" and tonumber(ppid) == me then n = n + 1 end
      end
    end
  end
  ls:close()
  return n
end

-- A digit-like 28×28 ring, and a few test objects.
local function ring(r0, r1)
  local m = matrix.zeros(28, 28)
  for i = 1, 28 do
    for j = 1, 28 do
      local d = (i - 14.5) ^ 2 + (j - 14.5) ^ 2
      m:set(i, j, (d >= r0 * r0 and d <= r1 * r1) and 1 or 0)
    end
  end
  return m
end

local function digits(n)
  local X = matrix.zeros(n, 784)
  for k = 1, n do
    local m = ring(3 + k % 4, 7 + k % 5)
    for i = 1, 28 do for j = 1, 28 do X:set(k, (i - 1) * 28 + j, m:get(i, j)) end end
  end
  return X
end

-- Two rings of points, labels 0 (inner) and 1 (outer), and a stand-in for a
-- network whose forward maps a B×2 matrix to B×2 class scores: class 1
-- outside radius 1.5.
local function rings()
  local X, y = matrix.zeros(120, 2), matrix.zeros(120, 1)
  for i = 1, 120 do
    local a, c = i * 0.37, i % 2
    X:set(i, 1, math.cos(a) * (1 + c)); X:set(i, 2, math.sin(a) * (1 + c)); y:set(i, 1, c)
  end
  return { X = X, y = y }
end
local stand_in = {
  forward = function(self, G)
    local r = G:shape()
    local out = matrix.zeros(r, 2)
    for i = 1, r do
      local d = G:get(i, 1) ^ 2 + G:get(i, 2) ^ 2
      out:set(i, 1, 2.25 - d); out:set(i, 2, d - 2.25)
    end
    return out
  end,
}

local W = matrix.zeros(6, 784)
for k = 1, 6 do for p = 1, 784 do W:set(k, p, math.sin(p * k / 97) * (k - 3)) end end

-- One call per kind: name, function(opts) drawing it with opts merged in.
local function with(o, extra) for k, v in pairs(extra or {}) do o[k] = v end return o end
local KINDS = {
  { "lines", function(o) return plot.lines(with({ train = { 0.9, 0.5, 0.3, 0.25 }, val = { 1.0, 0.7, 0.6, 0.58 },
                                                  title = "loss", xlabel = "epoch", ylabel = "cost" }, o)) end },
  { "scatter", function(o) local s = rings(); return plot.scatter(s.X, s.y, with({ title = "rings" }, o)) end },
  { "hist", function(o) return plot.hist({ 1, 2, 2, 3, 3, 3, 4, 4, 5, 9 }, with({ title = "hist" }, o)) end },
  { "bar", function(o) return plot.bar({ 3, 5, 2 }, with({ labels = { "a", "b", "c" }, title = "bar" }, o)) end },
  { "image", function(o) return plot.image(ring(5, 9), 28, 28, with({ title = "ring" }, o)) end },
  { "grid", function(o) return plot.grid(digits(8), with({ cols = 4, titles = { "9 (87 %)", "1", "2", "3", "4", "5", "6", "7" } }, o)) end },
  { "heatmap", function(o) return plot.heatmap(matrix{ { 1, -2, 3 }, { -4, 5, 0.5 } }, with({ title = "W" }, o)) end },
  { "weights", function(o) return plot.weights(W, 28, 28, with({ cols = 3 }, o)) end },
  { "landscape", function(o) return plot.landscape(function(x) return x ^ 4 - 3 * x ^ 2 + x end, { -2.2, 2.2 },
                                                   { -2, -1.8, -1.6, -1.45 }, with({ title = "E8" }, o)) end },
  { "surface", function(o) return plot.surface(function(x, y) return x * x - y * y end, { -2, 2 }, { -2, 2 }, with({ samples = 20 }, o)) end },
  { "contour", function(o) return plot.contour(function(x, y) return x * x + 3 * y * y end, { -2, 2 }, { -2, 2 }, with({ samples = 30 }, o)) end },
  { "boundary", function(o) return plot.boundary(stand_in, rings(), with({ resolution = 40, title = "regions" }, o)) end },
  { "multiplot", function(o) return plot.multiplot(with({ { "lines", { a = { 1, 2, 3 } } }, { "image", ring(4, 8) }, title = "panels" }, o)) end },
}

if not GNUPLOT then
  T.skip("plot kinds to PNG and SVG", "gnuplot is not installed (make deps)")
else
  local before = gnuplot_children()

  for _, k in ipairs(KINDS) do
    T.test(k[1] .. " renders to PNG of the requested size, not blank", function()
      local p = path(k[1] .. ".png")
      k[2]{ output = p, size = { 320, 240 } }
      T.truthy(exists(p), p .. " exists")
      T.truthy(not exists(p .. ".part"), "no temporary left")
      local w, h = png_size(p)
      T.eq(w, 320, "width"); T.eq(h, 240, "height")
      not_blank(p)
    end)
    T.test(k[1] .. " renders to SVG with the expected elements", function()
      local p = path(k[1] .. ".svg")
      k[2]{ output = p, size = { 400, 300 } }
      local s = slurp(p)
      T.truthy(s:find("<svg", 1, true), "an <svg> element")
      T.truthy(s:find('width="400"', 1, true) and s:find('height="300"', 1, true), "the requested size")
      T.truthy(s:find("</svg>%s*$"), "complete")
      local drawn = select(2, s:gsub("<path", "")) + select(2, s:gsub("<image", "")) + select(2, s:gsub("<rect", ""))
      T.truthy(drawn >= 3, "drawn elements (" .. drawn .. ")")
    end)
  end

  T.test("pdf by extension", function()
    local p = path("loss.pdf")
    KINDS[1][2]{ output = p }
    T.eq(slurp(p):sub(1, 5), "%PDF-", "PDF header")
  end)

  T.test("image pixels: a half-black image is half black", function()
    -- 10×10 image, left 5 columns 1 (black ink), right 5 columns 0 (white):
    -- drawn with equal unit lengths, the image is a square whose black half
    -- covers the same area as its white half; the page around it is white,
    -- so black pixels are between 5 % and 50 % of the picture.
    local m = matrix.zeros(10, 10)
    for i = 1, 10 do for j = 1, 5 do m:set(i, j, 1) end end
    local p = path("half.png")
    plot.image(m, { output = p, size = { 200, 200 } })
    local counts, n = png_colours(p)
    local black = (counts["0,0,0"] or 0) / n
    T.truthy(black > 0.05 and black < 0.5, ("black share %.3f"):format(black))
  end)

  T.test("RGB image: planar 3x4x4 gives the colours asked for", function()
    -- red plane 1, green 0, blue 0 in the top half; all 1 (white) below
    local v = {}
    for c = 1, 3 do for i = 1, 4 do for j = 1, 4 do
      v[#v + 1] = (i <= 2) and (c == 1 and 1 or 0) or 1
    end end end
    local p = path("rgb.png")
    plot.image(v, 4, 4, { output = p, size = { 160, 160 } })
    local counts = png_colours(p)
    T.truthy((counts["255,0,0"] or 0) > 100, "pure red pixels")
  end)

  T.test("text terminal: the picture has the title and the axes", function()
    local fig = plot.figure{ output = "text", quiet = true }
    fig:lines{ train = { 0.9, 0.5, 0.3 }, title = "loss-curve", xlabel = "epoch", size = { 70, 20 } }
    local s = fig.text
    T.truthy(s:find("loss-curve", 1, true), "title")
    T.truthy(s:find("epoch", 1, true), "x label")
    T.truthy(s:find("+---", 1, true), "axis border")
    T.truthy(s:find("0.9", 1, true) and s:find("1.5", 1, true), "tick labels")
    T.truthy(s:find("train", 1, true), "legend")
    T.truthy(not s:find(":....", 1, true), "no grid of dots over the curve")
    fig:close()
  end)

  T.test("text terminal: an image is drawn as characters", function()
    local fig = plot.figure{ output = "text", quiet = true }
    fig:image(ring(5, 9))
    local lines = {}
    for l in fig.text:gmatch("[^\n]+") do lines[#lines + 1] = l end
    T.truthy(#lines >= 10, "about 14 lines for 28 rows")
    T.truthy(fig.text:find("@", 1, true) and fig.text:find("   ", 1, true), "ink and paper")
    fig:close()
  end)

  T.test("sixel output: a DCS sixel sequence of the requested size", function()
    local fig = plot.figure{ output = "sixel", quiet = true, size = { 200, 100 } }
    fig:lines{ a = { 1, 2, 3 } }
    T.truthy(fig.text:find('^\27Pq"1;1;200;100'), "sixel header with raster 200x100")
    T.truthy(fig.text:find("\27\\%s*$"), "string terminator at the end")
    fig:close()
  end)

  T.test(".txt output writes the text picture to a file", function()
    local p = path("loss.txt")
    KINDS[1][2]{ output = p }
    T.truthy(slurp(p):find("loss", 1, true), "title in the file")
  end)

  T.test("gnuplot's errors become Lua errors naming the call", function()
    local fig = plot.figure{ quiet = true }
    T.checkerror("gnuplot: undefined function: nosuchfunction", fig.gnuplot, fig, "plot nosuchfunction(x)")
    -- the figure goes on working after the error
    T.eq(fig:gnuplot("print 6*7"):match("%d+"), "42", "gnuplot still answers")
    T.checkerror("^lines: gnuplot: cannot open file; output not changed; No such file or directory",
                 KINDS[1][2], { output = "/nonexistent-dir/x.png" })
    T.truthy(not exists("/nonexistent-dir/x.png.part"), "nothing left behind")
    fig:close()
  end)

  T.test("a gnuplot that hangs is stopped at the timeout", function()
    local fig = plot.figure{ quiet = true }
    fig:gnuplot("print 1")
    local old = plot.defaults.timeout
    plot.defaults.timeout = 0.3
    local ok, err = pcall(fig.gnuplot, fig, "pause 30")
    plot.defaults.timeout = old
    T.truthy(not ok and err:find("did not finish within", 1, true), tostring(err))
    T.eq(fig:gnuplot("print 2"):match("%d+"), "2", "a fresh gnuplot after the kill")
    fig:close()
  end)

  T.test("injection strings are drawn as text and run nothing", function()
    local mark = path("MARK")
    local evil = {
      "`touch " .. mark .. "`",
      "' . system('touch " .. mark .. "') . '",
      "\nsystem('touch " .. mark .. "')",
      "x'\n!touch " .. mark .. "\n'",
      "@evil",
      "\"; system(\"touch " .. mark .. "\"); \"",
      "$(touch " .. mark .. ")",
    }
    local fig = plot.figure{ quiet = true }
    -- @evil would run the command only if gnuplot expanded macros in our strings
    fig:gnuplot("evil = 'print system(\"touch " .. mark .. "\")'")
    T.truthy(not exists(mark), "setting up ran nothing")
    os.remove(mark)
    for i, s in ipairs(evil) do
      local svg = path("evil" .. i .. ".svg")
      fig:lines{ [s] = { 1, 2, 3 }, title = s, xlabel = s, ylabel = s, output = svg }
      fig:bar({ 1, 2 }, { labels = { s, s }, output = svg })
      fig:grid({ ring(3, 6) }, { titles = { s }, output = svg })
      T.truthy(not exists(mark), "string " .. i .. " ran nothing")
    end
    -- file names too: a backquote in the output name is a name, not a command
    -- (gnuplot runs in our directory: a touch there would create MARK-odd)
    local odd = path("out `touch MARK-odd` 'q' $(touch MARK-odd).svg")
    fig:lines{ a = { 1, 2 }, output = odd }
    T.truthy(exists(odd), "file with the odd name written")
    T.truthy(not exists("MARK-odd"), "file name ran nothing")
    os.remove("MARK-odd")
    -- and the text is drawn literally (SVG escapes & < > only)
    local s = slurp(path("evil1.svg"))
    T.truthy(s:find("`touch " .. mark .. "`", 1, true), "backquoted title drawn as text")
    fig:close()
  end)

  T.test("quote doubles single quotes and removes control characters", function()
    T.eq(plot.quote("it's"), "'it''s'")
    T.eq(plot.quote("a\nb\rc"), "'a b c'")
    T.eq(plot.quote("`x` @y"), "'`x` @y'")
    T.eq(plot.quote("'a"), "\"'\" . 'a'")  -- gnuplot misreads a string opening with ''
  end)

  T.test("boundary: the regions are the network's predictions", function()
    -- written as a script so the grid of predictions can be read back: for
    -- every grid point the label must be the stand-in's argmax, that is 1
    -- outside radius 1.5 and 0 inside (0-based labels)
    local p = path("boundary.gp")
    plot.boundary(stand_in, rings(), { resolution = 30, script = p })
    local s = slurp(p)
    local n, bad = 0, 0
    for line in s:gmatch("[^\n]+") do
      local x, y, l = line:match("^(%-?[%d.e+-]+) (%-?[%d.e+-]+) ([01])$")
      if x then n = n + 1 end
      if x and l ~= ((tonumber(x) ^ 2 + tonumber(y) ^ 2 > 2.25) and "1" or "0") then bad = bad + 1 end
    end
    T.eq(n >= 30 * 30, true, "grid points found (" .. n .. ")")
    T.eq(bad, 0, "points in the wrong region")
  end)

  T.test("script writes a runnable gnuplot script with its data", function()
    local gp, png = path("fig.gp"), path("fromscript.png")
    local fig = plot.figure{ output = png, size = { 300, 200 } }
    fig:script(gp)
    fig:lines{ train = { 3, 2, 1 }, title = "from a script" }
    fig:script()
    T.truthy(not exists(png), "nothing drawn yet")
    local s = slurp(gp)
    T.truthy(s:find("$d1 << EOD", 1, true), "data inline")
    assert(os.execute("gnuplot " .. gp .. " 2>/dev/null"))
    T.eq(select(2, png_size(png)), 200, "picture from the script")
    fig:close()
  end)

  T.test("live: the callback redraws the trainer's curves in one figure", function()
    local p = path("live.png")
    local t = { history = { train_loss = {}, val_loss = {}, train_acc = {}, val_acc = {} } }
    local seen = 0
    t.on_epoch = function() seen = seen + 1 end
    local draw, fig = plot.live(t, { output = p, size = { 400, 200 } })
    for e = 1, 3 do
      t.history.train_loss[e] = 1 / e; t.history.val_loss[e] = 1.2 / e
      t.history.train_acc[e] = 1 - 0.5 / e; t.history.val_acc[e] = 1 - 0.6 / e
      t.on_epoch(t, e)
    end
    T.eq(seen, 3, "the trainer's own callback still runs")
    T.eq(type(draw), "function", "callback returned")
    local pid = fig.proc:pid()
    draw(t, 3)
    T.eq(fig.proc:pid(), pid, "same gnuplot process")
    T.eq(png_size(p), 400, "width")
    not_blank(p)
    fig:close()
  end)

  T.test("live with a real trainer: a picture per epoch, one gnuplot, callbacks kept", function()
    -- the trainer keeps its callbacks in its C state, not in the trainer
    -- table: the hook must reach them, or nothing is ever drawn
    local set = data.moons{ n = 100, seed = 1 }
    local net = network{ 2, { 8, "tanh" }, { 2, "softmax" }, cost = "log_likelihood", seed = 1 }
    local own, sizes = 0, {}
    local p = path("live-real.png")
    local t = trainer{ net = net, train = set, validation = set, epochs = 4, progress = false,
                       on_epoch = function(_, e) own = own + 1; return e < 3 end }
    local _, fig = plot.live(t, { output = p, size = { 400, 200 } })
    local pid
    local hooked = debug.getuservalue(t._state, 1).on_epoch
    debug.getuservalue(t._state, 1).on_epoch = function(tt, e)
      local go_on = hooked(tt, e)
      sizes[e] = exists(p) and #slurp(p) or 0
      pid = pid or fig.proc:pid()
      T.eq(fig.proc:pid(), pid, "same gnuplot at epoch " .. e)
      return go_on
    end
    t:run()
    T.eq(own, 3, "the trainer's own on_epoch ran each epoch")
    T.eq(t.stopped, "callback", "its false still stops training")
    T.eq(#sizes, 3, "a picture after each of the 3 epochs")
    for e = 1, 3 do T.truthy(sizes[e] > 1000, ("epoch %d: %d bytes"):format(e, sizes[e])) end
    T.eq(png_size(p), 400, "width")
    not_blank(p)
    fig:close()
  end)

  T.test("live as a trainer option: on_epoch = plot.live{output = ...}", function()
    local p = path("live-option.png")
    local draw, fig = plot.live{ output = p, size = { 300, 200 } }
    local t = trainer{ net = network{ 2, { 4, "tanh" }, { 2, "softmax" }, cost = "log_likelihood", seed = 1 },
                       train = data.moons{ n = 60, seed = 2 }, epochs = 2, progress = false, on_epoch = draw }
    t:run()
    T.eq(select(2, png_size(p)), 200, "drawn after the epochs")
    not_blank(p)
    fig:close()
  end)

  T.test("a flat series draws without gnuplot's warning about an empty range", function()
    local exe = os.getenv("DELTALAB") or "./deltalab"
    local p = io.popen(("%s -e \"plot.lines{a = {0.25}, output = '%s'}; plot.lines{b = {2, 2, 2}, output = '%s'}\" 2>&1"):format(
      exe, path("flat.png"), path("flat.png")))
    local out = p:read("a")
    T.truthy(p:close(), "the program succeeds")
    T.eq(out, "", "nothing printed")
    T.truthy(exists(path("flat.png")), "drawn")
  end)

  T.test("heatmap and weights of a network's layer (userdata)", function()
    local net = network{ 3, 2, seed = 1 }
    local p = path("layer.gp")
    plot.heatmap(net.layers[1], { script = p })
    local s = slurp(p)
    local W = net.layers[1].W
    local row = s:match("%$d1 << EOD\n([^\n]*)")
    local j = 0
    for x in (row or ""):gmatch("%S+") do
      j = j + 1
      T.near(tonumber(x), W:get(1, j), 1e-5, "W[1][" .. j .. "]")  -- 7 significant digits written
    end
    T.eq(j, 3, "first row of W is the first data row")
    plot.weights(net.layers[1], 1, 3, { script = p })
  end)

  T.test("argument errors name the argument", function()
    T.checkerror("bad argument #1 to 'lines' (table expected, got number)", plot.lines, 5)
    T.checkerror("bad argument #1 to 'image' (900 values do not make a 28x28 image", plot.image, matrix.zeros(30, 30), 28, 28)
    T.checkerror("must end in .png, .svg, .pdf or .txt", plot.output, "x.gif")
    T.checkerror("bad argument #1 to 'landscape' (function expected, got number)", plot.landscape, 1, { 0, 1 })
    T.checkerror("range {a, b} with a < b", plot.landscape, math.sin, { 1, 0 })
    T.checkerror("bad argument #2 to 'scatter' (3 labels for 2 points)", plot.scatter, { { 1, 2 }, { 3, 4 } }, { 0, 1, 1 })
    T.checkerror("option logscale must be", plot.lines, { a = { 1 }, logscale = "z" })
    T.checkerror("network with a forward method expected", plot.boundary, {}, rings())
  end)

  T.test("closeall: every gnuplot started here is gone", function()
    local figs = {}
    for i = 1, 3 do
      figs[i] = plot.figure{ quiet = true }
      figs[i]:gnuplot("print " .. i)
    end
    T.truthy(gnuplot_children() >= before + 3, "three more gnuplot processes")
    plot.closeall()
    T.eq(gnuplot_children(), before, "gnuplot processes after closeall")
    -- a figure drawn in after its close has a gnuplot again, and closeall ends it
    local g = plot.figure{ quiet = true }
    g:gnuplot("print 1")
    g:close()
    g:gnuplot("print 2")
    T.eq(gnuplot_children(), before + 1, "the closed figure's new gnuplot")
    plot.closeall()
    T.eq(gnuplot_children(), before, "gnuplot processes after closeall")
    -- a figure that is only dropped is reaped by the collector
    local f = plot.figure{ quiet = true }
    f:gnuplot("print 1")
    plot.closeall()
    f = nil
    collectgarbage(); collectgarbage()
    T.eq(gnuplot_children(), before, "gnuplot processes after collection")
  end)
end

T.test("no gnuplot: the error says how to install it", function()
  local old = plot.defaults.program
  plot.defaults.program = "/nonexistent/gnuplot"
  local fig = plot.figure()
  local ok, err = pcall(fig.lines, fig, { a = { 1, 2 } })
  plot.defaults.program = old
  fig:close()
  T.truthy(not ok, "an error")
  T.truthy(err:find("apt-get install gnuplot-nox", 1, true), err)
  T.truthy(err:find("^lines: "), "names the call: " .. err)
end)

T.test("no gnuplot in PATH: same message from a fresh program", function()
  local script = path("nognuplot.lua")
  local f = assert(io.open(script, "w"))
  f:write("plot.lines{a = {1, 2}}\n")
  f:close()
  local exe = os.getenv("DELTALAB") or "./deltalab"
  local p = io.popen(("env -u DELTALAB_GNUPLOT PATH=/nonexistent %s %s 2>&1"):format(exe, script))
  local out = p:read("a")
  local ok = p:close()
  T.truthy(not ok, "the program fails")
  T.truthy(out:find("gnuplot is not installed", 1, true) and out:find("apt-get install gnuplot-nox", 1, true), out)
end)

T.test("script works without gnuplot", function()
  local old = plot.defaults.program
  plot.defaults.program = "/nonexistent/gnuplot"
  local gp = path("nognuplot.gp")
  plot.lines{ a = { 1, 2, 3 }, script = gp }
  plot.defaults.program = old
  T.truthy(slurp(gp):find("plot $d1", 1, true), "plot command written")
end)

-- What the doc pictures showed needed fixing (tools/doc_images.lua, make
-- doc-images), checked in the script each plot writes: the commands that
-- make the difference are there, and only where they should be.
local function script_of(kind, ...)
  local gp = path(kind .. "-look.gp")
  local args = table.pack(...)
  args[args.n].script = gp
  plot[kind](table.unpack(args, 1, args.n))
  return slurp(gp)
end

T.test("lines: series in the class colours, first blue then orange", function()
  local s = script_of("lines", { train = { 3, 2, 1 }, val = { 4, 3, 2 }, title = "loss" })
  T.truthy(s:find("title 'train'", 1, true) and s:find("lc rgb '#1f77b4' title 'train'", 1, true), "train blue")
  T.truthy(s:find("lc rgb '#ff7f0e' title 'val'", 1, true), "val orange")
end)

T.test("bar: tick labels slant only when they are long", function()
  local short = {}
  for i = 0, 9 do short[tostring(i)] = i end
  T.truthy(not script_of("bar", short, {}):find("rotate", 1, true), "ten digits stand upright")
  local long = {}
  for i = 1, 10 do long["category number " .. i] = i end
  T.truthy(script_of("bar", long, {}):find("rotate by -45", 1, true), "ten long names slant")
end)

T.test("weights: the colour box keeps its numbers", function()
  local s = script_of("weights", W, 28, 28, {})
  local unset = s:find("unset tics", 1, true)
  local cbtics = s:find("set cbtics", 1, true)
  T.truthy(unset and cbtics and cbtics > unset, "set cbtics after unset tics")
  T.truthy(not script_of("grid", digits(2), {}):find("set cbtics", 1, true), "no colour box, no numbers")
end)

T.test("weights: one huge weight does not wash the pictures out", function()
  -- 2 neurons of 100 weights: ±0.01·k for k = 1..100, except one weight of
  -- 50. The scale ends at the 99th percentile of |w| (198 of 200 sorted
  -- values: 0.99), not at 50; range = {lo, hi} still sets it by hand.
  local M = matrix.zeros(2, 100)
  for i = 1, 2 do for j = 1, 100 do M:set(i, j, (i == 1 and 1 or -1) * 0.01 * j) end end
  M:set(1, 100, 50)
  local s = script_of("weights", M, 10, 10, {})
  local lo, hi = s:match("set cbrange %[(%S+):(%S+)%]")
  T.near(tonumber(hi), 0.99, 1e-6, "top of the scale")
  T.near(tonumber(lo), -0.99, 1e-6, "bottom of the scale")
  T.truthy(script_of("weights", M, 10, 10, { range = { -2, 3 } }):find("set cbrange [-2:3]", 1, true), "range option")
end)

T.test("heatmap values = true writes each value in its cell, readable on its colour", function()
  local s = script_of("heatmap", matrix{ { 1, -2, 3 }, { -4, 5, 0.5 } }, { values = true })
  local n = select(2, s:gsub("set label ", ""))
  T.eq(n, 6, "one label per cell")
  -- the scale is ±5: |-4|/5 = 0.8 is dark (white text), 0.5/5 = 0.1 is pale (black)
  T.truthy(s:find("set label '-4' at 1,2 center front textcolor rgb '#ffffff'", 1, true), "-4 in white at column 1, row 2")
  T.truthy(s:find("set label '0.5' at 3,2 center front textcolor rgb '#000000'", 1, true), "0.5 in black at column 3, row 2")
  T.checkerror("option values: 21x20 is more than 400 cells", plot.heatmap, matrix.zeros(21, 20), { values = true })
end)

T.test("surface sits on its base plane; scatter and boundary leave their points visible", function()
  T.truthy(script_of("surface", function(x, y) return x * y end, { -1, 1 }, { -1, 1 }, { samples = 5 })
           :find("set xyplane relative 0", 1, true), "xyplane")
  local sc = script_of("scatter", rings(), {})
  T.truthy(sc:find("set offsets graph 0.04", 1, true), "margin around points")
  T.truthy(sc:find("set autoscale fix", 1, true), "not rounded out to the next tic")
  T.truthy(script_of("boundary", stand_in, rings(), { resolution = 10 }):find("set key below", 1, true),
           "the legend below the regions, not over them")
end)

os.execute("rm -rf " .. dir)
T.done()
