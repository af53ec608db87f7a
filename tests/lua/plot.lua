-- plot: every kind rendered to PNG and SVG in a temporary directory; text
-- pictures; gnuplot errors as Lua errors; injection strings that run
-- nothing; gnuplot processes that all go away; the missing-gnuplot message;
-- and, in the commands each plot sends: whole-number and log ticks, where
-- the legend goes, heatmap and confusion labels and text colours,
-- plot.lines(history), grid columns, plot.live's redraw on a simulated
-- terminal, pictures written under a temporary name and renamed.
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
  local me = tonumber(io.open("/proc/self/stat"):read("l"):match("^%d+"))
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
      T.truthy(not exists(dir .. "/." .. k[1] .. ".png.deltalab-tmp"), "no temporary left")
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
    T.truthy(s:find("0.9", 1, true), "y tick labels")
    -- three epochs tick at 1, 2, 3 and nowhere between
    local xt = s:match("\n(%s*1%s+[^\n]*3)%s*\n")
    T.truthy(xt and xt:find("2", 1, true), "x ticks 1 2 3")
    T.truthy(not s:find("1.5", 1, true), "no tick at epoch 1.5")
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
    T.truthy(not exists("/nonexistent-dir/.x.png.deltalab-tmp"), "nothing left behind")
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

  T.test("a gnuplot that reads nothing is stopped at the timeout of a send", function()
    -- gnuplot reads no input while it pauses: 16 MB of commands after the
    -- pause fill the socket, and the send gives up instead of blocking
    local fig = plot.figure{ quiet = true }
    fig:gnuplot("print 1")
    local old = plot.defaults.timeout
    plot.defaults.timeout = 0.3
    local t0 = os.time()
    local ok, err = pcall(fig.gnuplot, fig, "pause 30\n" .. ("print 1\n"):rep(2 * 2 ^ 20))
    plot.defaults.timeout = old
    T.truthy(not ok and err:find("^gnuplot: gnuplot did not read the plot within 0.3 s and was stopped"), tostring(err))
    T.truthy(os.time() - t0 < 10, "long before the pause ends")
    T.eq(fig:gnuplot("print 3"):match("%d+"), "3", "a fresh gnuplot after the kill")
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

-- Unknown options: every call names itself, the option and the ones it
-- takes (in the one wording of util.check_options); checked before gnuplot
-- is started, so these run without it.
T.test("an unknown option is an error naming the call and the valid names", function()
  local m = matrix{ { 1, -2 }, { 3, 4 } }
  local f2 = function(x, y) return x * y end
  local function unknown(fn, name, valid, f, ...)
    local err = T.checkerror("unknown option '" .. name .. "'", f, ...)
    T.truthy(err:find(fn .. ": ", 1, true), "names " .. fn .. ": " .. err)
    T.truthy(err:find(valid, 1, true), "lists " .. valid .. ": " .. err)
  end
  unknown("plot.heatmap", "resolutoin", "palette, values", plot.heatmap, m, { resolutoin = 1 })
  unknown("plot.boundary", "resolutoin", "resolution, threshold, names", plot.boundary, stand_in, rings(),
          { resolutoin = 5 })
  T.checkerror("did you mean 'resolution'?", plot.boundary, stand_in, rings(), { resolutoin = 5 })
  unknown("plot.lines", "titel", "title, xlabel", plot.lines, { train = { 1, 2 }, titel = "loss" })
  unknown("plot.lines", "titel", "points, order", plot.lines, { 1, 2, 3, titel = "loss" })
  unknown("plot.scatter", "nmaes", "names", plot.scatter, rings(), { nmaes = { "a" } })
  unknown("plot.hist", "bnis", "bins", plot.hist, { 1, 2, 3 }, { bnis = 2 })
  unknown("plot.bar", "lables", "labels", plot.bar, { 1, 2 }, { lables = { "a", "b" } })
  unknown("plot.image", "pallete", "range, palette, colorbox", plot.image, m, { pallete = "gray" })
  unknown("plot.grid", "colls", "cols, rows, max, titles", plot.grid, { m, m }, { colls = 2 })
  unknown("plot.weights", "mx", "cols, rows, max", plot.weights, m, 1, 2, { mx = 1 })
  unknown("plot.landscape", "sampels", "samples, curve", plot.landscape, math.sin, { 0, 1 }, { sampels = 9 })
  unknown("plot.landscape", "sampels", "samples, curve", plot.landscape, math.sin, { 0, 1 }, { 0.5 },
          { sampels = 9 })
  unknown("plot.surface", "smaples", "samples, path", plot.surface, f2, { 0, 1 }, { 0, 1 }, { smaples = 3 })
  unknown("plot.contour", "levles", "samples, levels, path", plot.contour, f2, { 0, 1 }, { 0, 1 }, { levles = 3 })
  unknown("plot.multiplot", "colls", "cols, rows, title", plot.multiplot, { { "lines", { a = { 1, 2 } } }, colls = 2 })
  unknown("plot.multiplot panel 1 (heatmap)", "valuse", "palette, values", plot.multiplot,
          { { "heatmap", m, { valuse = true } } })
  unknown("plot.live", "outptu", "output, size, quiet, persist, title", plot.live, { outptu = "x.png" })
  unknown("plot.figure", "outptu", "output, size, quiet, persist", plot.figure, { outptu = "x.png" })
  local fig = plot.figure{ quiet = true }
  unknown("figure:heatmap", "resolutoin", "palette, values", fig.heatmap, fig, m, { resolutoin = 1 })
  unknown("figure:output", "sise", "size", fig.output, fig, "x.png", { sise = { 1, 2 } })
  T.checkerror("plot.hist: options must be a table", plot.hist, { 1, 2 }, 5)
  -- at the caller's line, where a Lua function made the call
  T.checkerror("^[^:]*plot%.lua:%d+: plot%.heatmap: unknown option", function() plot.heatmap(m, { resolutoin = 1 }) end)
  fig:close()
  -- the documented options still pass
  plot.lines{ train = { 1, 2 }, title = "t", points = true, order = { "train" }, script = path("ok.gp") }
  plot.live{ title = "run", quiet = true }
  plot.closeall()
end)

T.test("a title longer than 4096 bytes fails at once, before gnuplot", function()
  local huge = ("x"):rep(100 * 2 ^ 20)  -- 100 MB
  local t0 = os.clock()
  T.checkerror("^lines: title is 104857600 bytes long; plot takes at most 4096$", plot.lines,
               { a = { 1, 2 }, title = huge, script = path("huge.gp") })
  T.checkerror("^bar: a bar label is 5000 bytes long", plot.bar, { 1 }, { labels = { ("y"):rep(5000) } })
  T.checkerror("^lines: xlabel is", plot.lines, { a = { 1, 2 }, xlabel = huge })
  T.truthy(os.clock() - t0 < 2, "fast")
  T.truthy(not exists(path("huge.gp")), "nothing written")
  plot.lines{ a = { 1, 2 }, title = ("t"):rep(4096), script = path("long.gp") }  -- the limit itself is fine
  T.truthy(slurp(path("long.gp")):find(("t"):rep(4096), 1, true), "a 4096-byte title is kept whole")
  plot.closeall()
end)

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
  local s = script_of("heatmap", matrix{ { 1, -2, 3 }, { -5, 5, 0.5 } }, { values = true })
  local n = select(2, s:gsub("set label ", ""))
  T.eq(n, 6, "one label per cell")
  -- the scale is ±5: -5 is the palette's dark blue #2166ac and 5 its dark
  -- red #b2182b (white text), 0.5 nearly white (black text)
  T.truthy(s:find("set label '-5' at 1,2 center front textcolor rgb '#ffffff'", 1, true), "-5 in white at column 1, row 2")
  T.truthy(s:find("set label '5' at 2,2 center front textcolor rgb '#ffffff'", 1, true), "5 in white at column 2, row 2")
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

-- The tick list of an axis ("set ytics (...)"): {label, position, minor}.
local function tic_list(s, axis)
  local body = s:match("set " .. axis .. "tics %((.-)%)\n")
  local tics = {}
  for entry in (body or ""):gmatch("[^,]+") do
    local label, pos, minor = entry:match("^%s*'(.-)'%s+(%S+)%s*(%d?)%s*$")
    tics[#tics + 1] = { label = label, pos = tonumber(pos), minor = minor == "1" }
  end
  return tics
end

T.test("an axis of epochs ticks at whole numbers only", function()
  local function xtics(n)
    local v = {}
    for i = 1, n do v[i] = 1 / i end
    return script_of("lines", { loss = v, xlabel = "epoch" }):match("set xtics (%S+)\n")
  end
  T.eq(xtics(3), "1", "3 epochs: every epoch")
  T.eq(xtics(8), "1", "8 epochs: every epoch")
  T.eq(xtics(30), "5", "30 epochs: every 5 (29/2 > 10 intervals)")
  T.eq(xtics(1000), "100", "1000 batches: every 100")
  -- one epoch so far (plot.live's first picture): one tick, at 1
  local one = script_of("lines", { loss = { 0.7 } })
  T.truthy(one:find("set xrange [0.5:1.5]", 1, true) and one:find("set xtics 1\n", 1, true), "a single epoch")
  -- x values of one's own that are not whole: gnuplot's ticks
  T.truthy(not script_of("lines", { f = { { 0.1, 1 }, { 0.35, 2 } } }):find("set xtics", 1, true), "fractional x")
end)

T.test("a log axis is labelled in plain decimals, one label a decade", function()
  local v = {}
  for i = 0, 10 do v[#v + 1] = 0.5 * 10 ^ (-i / 2) end  -- 0.5 down to 5e-6
  local s = script_of("lines", { d = v, logscale = "y" })
  local labels = {}
  for _, t in ipairs(tic_list(s, "y")) do
    if not t.minor then
      labels[#labels + 1] = t.label
      T.near(tonumber(t.label), t.pos, t.pos * 1e-6, "label " .. t.label .. " is its position")
      T.truthy(not t.label:find("%.%d-0$") and not t.label:find("e", 1, true), "plain, no trailing zeros: " .. t.label)
    end
  end
  T.eq(table.concat(labels, " "), "0.00001 0.0001 0.001 0.01 0.1", "a label per decade")
  T.truthy(s:find("set yrange [5e-06:0.5]", 1, true), "range from the 1-2-5 number below to the one above")
  -- less than a decade and a half: 1, 2 and 5 labelled, the rest minor
  local short = {}
  for _, t in ipairs(tic_list(script_of("lines", { d = { 12, 11, 10, 9.5, 9 }, logscale = "y" }), "y")) do
    if not t.minor then short[#short + 1] = t.label end
  end
  T.eq(table.concat(short, " "), "5 10 20", "9..12 is labelled 5, 10, 20")
  -- many decades: at most about 8 labels, still plain
  local wide = {}
  for i = 0, 24 do wide[#wide + 1] = 10 ^ (i - 12) end
  local n = 0
  for _, t in ipairs(tic_list(script_of("lines", { d = wide, logscale = "y" }), "y")) do
    if not t.minor then n = n + 1 end
  end
  T.truthy(n >= 5 and n <= 9, n .. " labels over 24 decades")
  -- and on x (the over-fitting curve of examples/linreg.lua)
  local xt = tic_list(script_of("lines", { e = { { 1, 3 }, { 10, 2 }, { 200, 1 } }, logscale = "xy" }), "x")
  T.eq(xt[1].label, "1", "x from 1")
  T.truthy(not script_of("lines", { e = { { 1, 3 }, { 200, 1 } }, logscale = "x" }):find("set xtics %d"), "no whole-number step on a log axis")
  -- the other kinds keep gnuplot's log ticks, labelled with %g (0.01, 100)
  local sc = script_of("scatter", { { 1, 0.01 }, { 1000, 100 } }, nil, { logscale = "xy" })
  T.truthy(sc:find("set format x '%g'", 1, true) and sc:find("set format y '%g'", 1, true), "scatter: %g labels")
end)

T.test("the legend goes where no line is", function()
  local rising, falling, full = {}, {}, {}
  for i = 1, 20 do rising[i] = i; falling[i] = 21 - i; full[i] = i % 2 end
  local function key(t)
    local s = script_of("lines", t)
    local k = s:match("\n(set key [^\n]*)\n")
    T.truthy(k and s:find(k, 1, true) < s:find("\nplot ", 1, true), "set key before the plot")
    return k
  end
  T.eq(key{ a = rising, b = rising }, "set key top left", "rising curves end in the top right corner")
  T.eq(key{ a = falling, b = falling }, "set key top right", "falling curves leave it free")
  T.eq(key{ a = full, b = full }, "set key outside right top", "no free place: outside")
  T.eq(key{ a = rising, legend = "bottom right" }, "set key bottom right", "a place asked for is kept")
  local legend = require "deltalab.plot.legend"
  local xs, ys = {}, {}
  for i = 1, 20 do xs[i], ys[i] = i, i % 2 end
  T.eq(legend.choose({ { xs = xs, ys = ys, joined = true } }, 2, 5, { w = 600, h = 400, cw = 7, lh = 15, cols = 2, rows = 1 }, {}),
       "set key below", "in a multiplot panel: below")
  -- a box measured on the page: a point at (0.9, 0.9) of its range is
  -- clear of a 2-entry key on a big page, under it on a small one
  local pts = { { xs = { 0, 0.9, 1 }, ys = { 0, 0.9, 0 }, joined = false } }
  T.eq(legend.choose(pts, 2, 5, { w = 1600, h = 1200, cw = 7, lh = 15 }, {}), "set key top right", "big page")
  T.eq(legend.choose(pts, 2, 5, { w = 80, h = 24, cw = 1, lh = 1 }, {}), "set key top left", "80x24 characters")
  -- scatter points and the landscape's paths are kept clear of too
  local sc = { { 0, 0 }, { 1, 1 }, { 0.1, 0.05 }, { 0.95, 0.9 } }
  local s = script_of("scatter", sc, { 0, 1, 0, 1 }, {})
  T.truthy(s:find("set key top left", 1, true) or s:find("set key bottom right", 1, true), "scatter: a free corner")
end)

T.test("heatmap: ticks named by rowlabels and collabels", function()
  local s = script_of("heatmap", matrix{ { 1, 2, 3 }, { 4, 5, 6 } }, { rowlabels = 0, collabels = { "a", "b", "c" } })
  T.truthy(s:find("set ytics ('0' 1, '1' 2)", 1, true), "rows 0 and 1")
  T.truthy(s:find("set xtics ('a' 1, 'b' 2, 'c' 3)", 1, true), "columns a b c")
  T.truthy(script_of("heatmap", matrix{ { 1, 2 } }, {}):find("set xtics 1\n", 1, true), "numbered from 1 by default")
  T.checkerror("option rowlabels must be a list of 2 names or the number of the first, got a list of 3",
               plot.heatmap, matrix.zeros(2, 2), { rowlabels = { 1, 2, 3 } })
end)

T.test("heatmap: text colour by each cell's colour, in every palette", function()
  -- viridis runs from #440154 (dark violet) to #fde725 (yellow); blues from
  -- #f7fbff (white) to #08306b (dark blue); gray from black to white
  local function inks(palette)
    local s = script_of("heatmap", matrix{ { 0, 1 } }, { values = true, palette = palette })
    return s:match("set label '0' at 1,1 center front textcolor rgb '(#%x+)'"),
           s:match("set label '1' at 2,1 center front textcolor rgb '(#%x+)'")
  end
  local lo, hi = inks("viridis")
  T.eq(lo, "#ffffff", "white on dark violet"); T.eq(hi, "#000000", "black on yellow")
  lo, hi = inks("blues")
  T.eq(lo, "#000000", "black on white"); T.eq(hi, "#ffffff", "white on dark blue")
  lo, hi = inks("gray")
  T.eq(lo, "#ffffff", "white on black"); T.eq(hi, "#000000", "black on white")
  local nan = script_of("heatmap", matrix{ { 1, 0 / 0 } }, { values = true })
  T.truthy(nan:find("set label 'NaN' at 2,1", 1, true), "a NaN cell says NaN")
end)

T.test("confusion: classes labelled 0..k-1 or by name, counts in the cells", function()
  local C = matrix{ { 50, 2, 0 }, { 7, 41, 1 }, { 0, 3, 1234 } }
  local s = script_of("confusion", C, {})
  T.truthy(s:find("set xtics ('0' 1, '1' 2, '2' 3)", 1, true), "predicted 0 1 2")
  T.truthy(s:find("set ytics ('0' 1, '1' 2, '2' 3)", 1, true), "true 0 1 2")
  T.truthy(s:find("set label '1234' at 3,3", 1, true), "a count written in full")
  T.truthy(s:find("set label '1234' at 3,3 center front textcolor rgb '#ffffff'", 1, true), "white on the darkest cell")
  T.truthy(s:find("set label '0' at 3,1 center front textcolor rgb '#000000'", 1, true), "black on a cell of 0")
  T.truthy(s:find("set xlabel 'predicted'", 1, true) and s:find("set ylabel 'true label'", 1, true), "axis labels")
  local named = script_of("confusion", matrix{ { 5, 1 }, { 2, 4 } }, { names = { "cat", "dog" } })
  T.truthy(named:find("set ytics ('cat' 1, 'dog' 2)", 1, true), "names given")
  -- from a network and a set: trainer.evaluate's matrix, the set's names
  local set = data.blobs{ n = 90, classes = 3, seed = 1 }
  set.names = { "red", "green", "blue" }
  local net = network{ 2, { 6, "tanh" }, { 3, "softmax" }, cost = "log_likelihood", seed = 1 }
  local fromnet = script_of("confusion", net, set, {})
  T.truthy(fromnet:find("set xtics ('red' 1, 'green' 2, 'blue' 3)", 1, true), "the set's names")
  local total = 0
  for n in fromnet:gmatch("set label '(%d+)'") do total = total + tonumber(n) end
  T.eq(total, 90, "the counts add up to the set's 90 points")
  T.checkerror("square matrix expected, got 2x3", plot.confusion, matrix.zeros(2, 3))
  T.checkerror("option names must be a list of 2 class names", plot.confusion, matrix.zeros(2, 2), { names = { "a" } })
end)

T.test("lines(history): the loss by default, a named series, the trainer itself", function()
  local set = data.moons{ n = 60, seed = 2 }
  local net = network{ 2, { 4, "tanh" }, { 2, "softmax" }, cost = "log_likelihood", seed = 1 }
  local t = trainer{ net = net, train = set, validation = set, epochs = 4, progress = false, record_steps = true }
  t:run()
  local h = t.history
  local function block(s, k)  -- the numbers of datablock k as {x, y}
    local rows = {}
    for line in s:match("%$d" .. k .. " << EOD\n(.-)EOD"):gmatch("[^\n]+") do
      local x, y = line:match("^(%S+) (%S+)$")
      rows[#rows + 1] = { tonumber(x), tonumber(y) }
    end
    return rows
  end
  local s = script_of("lines", h, { title = "loss" })
  T.truthy(s:find("title 'train'", 1, true) and s:find("title 'val'", 1, true), "train and val")
  T.truthy(s:find("set xlabel 'epoch'", 1, true) and s:find("set ylabel 'loss'", 1, true), "axis labels")
  for k, key in ipairs{ "train_loss", "val_loss" } do
    local rows = block(s, k)
    T.eq(#rows, 4, key .. ": 4 epochs")
    for e = 1, 4 do
      T.eq(rows[e][1], e, key .. " x")
      T.near(rows[e][2], h[key][e], 1e-6 * math.abs(h[key][e]), key .. "[" .. e .. "]")
    end
  end
  T.eq(script_of("lines", t, {}), script_of("lines", h, {}), "the trainer draws its history")
  local acc = script_of("lines", h, "acc", {})
  T.truthy(acc:find("set ylabel 'accuracy'", 1, true), "acc")
  T.near(block(acc, 2)[3][2], h.val_acc[3], 1e-6, "val_acc[3]")
  local lr = script_of("lines", h, "lr", {})
  T.truthy(lr:find("title 'lr'", 1, true) and lr:find("set ylabel 'learning rate'", 1, true), "lr")
  local steps = script_of("lines", h, "step_loss", {})
  T.truthy(steps:find("set xlabel 'batch'", 1, true), "step_loss per batch")
  T.eq(#block(steps, 1), #h.step_loss, "one point a batch")
  T.checkerror("bad argument #2 to 'lines' (history has no series 'los' (it has loss, acc, ", plot.lines, h, "los")
  T.checkerror("plot.lines: unknown option 'titel'", plot.lines, h, { titel = "x" })
  local plain = trainer{ net = net, train = set, epochs = 1, progress = false }
  plain:run()
  local one = script_of("lines", plain.history, {})
  T.truthy(one:find("title 'train'", 1, true) and not one:find("title 'val'", 1, true), "no validation set: train only")
end)

T.test("grid: cols = 6 lays 12 images out 6 to a row, 2 rows", function()
  -- 6 cells of 28 pixels with 5 gaps of 2 across, 2 rows of 28 and 1 gap down
  local s = script_of("grid", digits(12), { cols = 6 })
  T.truthy(s:find("set xrange [-0.5:177.5]", 1, true), "6 columns wide")
  T.truthy(s:find("set yrange [57.5:-0.5]", 1, true), "2 rows high")
  T.eq(select(2, s:gsub("set object %d+ rectangle", "")), 12, "a frame per image")
end)

if GNUPLOT then
  T.test("grid: cols images to a row in a text terminal, made smaller to fit", function()
    local titles = {}
    for i = 1, 12 do titles[i] = "t" .. i end
    for _, size in ipairs{ { 120, 40 }, { 80, 30 } } do
      local fig = plot.figure{ output = "text", quiet = true }
      fig:grid(digits(12), { cols = 6, titles = titles, size = size })
      local first = fig.text:match("[^\n]*t1[^\n]*")
      T.eq(select(2, first:gsub("t%d+", "")), 6, size[1] .. " columns: 6 titles in the first row")
      for line in fig.text:gmatch("[^\n]+") do
        T.truthy(utf8.len(line) <= size[1], ("a line of %d characters in %d"):format(utf8.len(line), size[1]))
      end
      fig:close()
    end
  end)

  -- A terminal one row shorter than LINES says (24 by default), as far as
  -- plot.live's redraw needs one: lines of
  -- text (those scrolled off the top stay, but the cursor cannot go back
  -- to them), a cursor, \r \n, cursor up/down, delete lines, clear below;
  -- colours are dropped.
  local function screen(s)
    local rows, r, c, top = { {} }, 1, 0, 1
    local height = (tonumber(os.getenv("LINES") or "") or 25) - 1
    local function row(i) for k = #rows + 1, i do rows[k] = {} end return rows[i] end
    local i = 1
    while i <= #s do
      local n, op = s:match("^\27%[([%d;]*)(%a)", i)
      if op then
        local k = tonumber(n:match("^%d+") or "1")
        if op == "A" then r = math.max(top, r - k)
        elseif op == "B" then r = r + k
        elseif op == "M" then for _ = 1, k do if rows[r] then table.remove(rows, r) end end
        elseif op == "J" then for k2 = #rows, r + 1, -1 do rows[k2] = nil end; local l = row(r); for j = c + 1, #l do l[j] = nil end
        end
        i = i + #n + 2 + 1
      else
        local ch = s:match("^[%z\1-\127\194-\244][\128-\191]*", i)
        if ch == "\r" then c = 0
        elseif ch == "\n" then r = r + 1; c = 0; top = math.max(top, r - height + 1)
        else local l = row(r); for j = #l + 1, c do l[j] = " " end; c = c + 1; l[c] = ch end
        i = i + #ch
      end
    end
    local out = {}
    for k = 1, #rows do out[k] = table.concat(rows[k]):gsub("%s+$", "") end
    while #out > 0 and out[#out] == "" do out[#out] = nil end
    return out
  end

  T.test("live in a terminal: each picture replaces the last, epoch lines stay above", function()
    local live = require "deltalab.plot.live"
    local sys = require "deltalab.sys"
    local real_isatty, real_stdout = sys.isatty, io.stdout
    local function run(tty, opts)
      local cap = path("live-tty.txt")
      local f = assert(io.open(cap, "w"))
      sys.isatty = function(x) return tty and x == f end
      io.stdout = f
      local ok, err = pcall(function()
        local t = { history = { train_loss = {}, val_loss = {} } }
        local draw = plot.live(opts)
        for e = 1, 3 do
          f:write("epoch ", e, "/3\n")  -- what the trainer's progress prints
          t.history.train_loss[e], t.history.val_loss[e] = 1 / e, 1.2 / e
          draw(t, e)
        end
      end)
      sys.isatty, io.stdout = real_isatty, real_stdout
      f:close()
      plot.closeall()
      if not ok then error(err, 0) end
      return slurp(cap)
    end
    local s = run(true, { output = "text" })
    local up = {}
    for n, m, b in s:gmatch("\27%[(%d+)A\r\27%[(%d+)M\27%[(%d)B\27%[J") do up[#up + 1] = { tonumber(n), tonumber(m), tonumber(b) } end
    T.eq(#up, 2, "two redraws for three pictures")
    for _, u in ipairs(up) do
      T.eq(u[1], u[2] + 1, "up over the picture and one epoch line")
      T.eq(u[3], 1, "down past the epoch line")
      T.truthy(u[2] >= 15, u[2] .. " lines: a picture of the terminal's height (at least 15)")
    end
    local lines = screen(s)
    T.eq(lines[1], "epoch 1/3", "epoch 1 on the first line"); T.eq(lines[2], "epoch 2/3", "then 2")
    T.eq(lines[3], "epoch 3/3", "then 3")
    local titles = 0
    for _, l in ipairs(lines) do if l:find("training — loss", 1, true) then titles = titles + 1 end end
    T.eq(titles, 1, "one picture on the screen")
    T.truthy(#lines <= 3 + up[2][2], #lines .. " lines on the screen: the epochs and one picture")
    -- trainer{progress = false}: no epoch line to skip
    local quiet = run(true, { output = "text", progress = false })
    T.truthy(quiet:find("\27%[%d+A\r\27%[%d+M\27%[J") and not quiet:find("\27%[%dB"), "no line below to step over")
    -- not a terminal: every picture, no escape sequence
    local log = run(false, { output = "text" })
    T.truthy(not log:find("\27[", 1, true), "a log gets no cursor movement")
    T.eq(select(2, log:gsub("training — loss", "")), 3, "three pictures in the log")
  end)

  T.test("a picture is drawn under .name.deltalab-tmp and renamed; a failed one leaves nothing", function()
    -- a gnuplot that logs what it is sent
    local log, wrapper = path("sent.log"), path("gnuplot-logged")
    local w = assert(io.open(wrapper, "w"))
    w:write("#!/bin/sh\ntee -a '", log, "' | exec gnuplot \"$@\"\n")
    w:close()
    assert(os.execute("chmod +x " .. wrapper))
    local old = plot.defaults.program
    plot.defaults.program = wrapper
    local ok, err = pcall(function()
      local p = path("atomic.png")
      local fig = plot.figure{ output = p, size = { 200, 150 } }
      fig:lines{ a = { 1, 2, 3 } }
      local tmp = path(".atomic.png.deltalab-tmp")
      T.truthy(slurp(log):find("set output '" .. tmp .. "'", 1, true), "gnuplot writes the temporary")
      T.truthy(exists(p) and not exists(tmp), "renamed into place")
      local good = slurp(p)
      T.checkerror("lines: gnuplot: all points y value undefined", fig.lines, fig, { a = { -1, -2 }, logscale = "y" })
      T.truthy(not exists(tmp), "no temporary after the error")
      T.eq(slurp(p), good, "the last good picture is untouched")
      local names = io.popen("ls -a " .. dir):read("a")
      T.truthy(not names:find("deltalab-tmp", 1, true), "no stray file in the directory")
      fig:close()
    end)
    plot.defaults.program = old
    if not ok then error(err, 0) end
  end)
end

os.execute("rm -rf " .. dir)
T.done()
