--- deltalab.plot.images: pictures of numbers on a grid of pixels.
--
-- The kinds image, grid, weights and heatmap: one image or a mosaic of them
-- (digits, a layer's incoming weights as pictures), and a matrix as coloured
-- cells. Each also leaves ctx.art, what the text terminal draws instead
-- (see deltalab.plot.term), since gnuplot's dumb terminal draws no images.

local plotcore = require "deltalab.plotcore"
local util = require "deltalab.util"
local gnuplot = require "deltalab.plot.gnuplot"
local style = require "deltalab.plot.style"
local values = require "deltalab.plot.values"
local axes = require "deltalab.plot.axes"

local num, q = gnuplot.num, gnuplot.quote
local argerror, typename, vector = values.argerror, values.typename, values.vector
local minmax, range_arg, grid_values = values.minmax, values.range_arg, values.grid_values
local PALETTES = style.PALETTES

local kinds = {}

local MOSAIC = { "cols", "rows", "max", "titles", "range", "palette", "colorbox", "fontsize" }

--- The option names of each kind.
kinds.OPTIONS = {
  image = gnuplot.options{ "range", "palette", "colorbox" },
  grid = gnuplot.options(MOSAIC, { "shape" }),
  weights = gnuplot.options(MOSAIC),
  heatmap = gnuplot.options{ "palette", "values", "rowlabels", "collabels" },
  confusion = gnuplot.options{ "palette", "values", "names" },
}

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
              palette = o.palette or "ink", title = o.title, fixed_cols = o.cols ~= nil and n > 1 }
  local function origin(k)  -- top-left pixel of cell k (0-based col and row)
    local cc, rr = (k - 1) % cols, (k - 1) // cols
    return cc * (w + gap), rr * (h + th + gap) + th
  end
  if titles then
    for k = 1, n do
      if titles[k] ~= nil then
        local x0, y0 = origin(k)
        ctx:add(("set label %d %s at %s,%s center front font ',%d'"):format(
          k, ctx:text(titles[k], "a title"), num(x0 + (w - 1) / 2), num(y0 - th / 2 - 0.5), o.fontsize or 9))
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
  o = util.options(o, ctx.fn, kinds.OPTIONS.image, ctx.level)
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
  o = util.options(o, ctx.fn, kinds.OPTIONS.grid, ctx.level)
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
  o = util.options(o, ctx.fn, kinds.OPTIONS.weights, ctx.level)
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

-- The number written in a heatmap cell: whole numbers (counts) in full,
-- others to 3 significant digits; NaN as NaN (C's printf says "-nan").
local function cell_text(x)
  if x ~= x then return "NaN" end
  if x == math.floor(x) and math.abs(x) < 1e15 then return ("%d"):format(x) end
  return ("%.3g"):format(x)
end

-- A layer (table or the network's userdata) stands for its weights.
local function heatmap_matrix(W)
  if plotcore.shape(W) then return W end
  local ok, Wv = pcall(function() return W.W end)
  if ok and plotcore.shape(Wv) then return Wv end
  return W
end

function kinds.heatmap(ctx, W, o)
  o = util.options(o, ctx.fn, kinds.OPTIONS.heatmap, ctx.level)
  W = heatmap_matrix(W)
  local r, c, v = grid_values(W, 1, "heatmap")
  if r == 0 or c == 0 then argerror(1, "heatmap", ("nothing to draw in a %dx%d matrix"):format(r, c)) end
  for _, k in ipairs{ "rowlabels", "collabels" } do
    local l, n = o[k], k == "rowlabels" and r or c
    if l ~= nil and type(l) ~= "number" and (type(l) ~= "table" or #l ~= n) then
      argerror(2, "heatmap", ("option %s must be a list of %d names or the number of the first, got %s"):format(
        k, n, type(l) == "table" and ("a list of " .. #l) or typename(l)))
    end
  end
  local palette = o.palette or "diverging"
  if not PALETTES[palette] then argerror(2, "heatmap", "unknown palette " .. q(palette)) end
  local lo, hi = minmax(v)
  if lo > hi then lo, hi = 0, 0 end
  local m = math.max(math.abs(lo), math.abs(hi))
  if m == 0 then m = 1 end
  -- the colour scale: centred at 0 for the diverging palette, else the
  -- values' own range; set here, so that each cell's colour is known
  local cblo, cbhi = -m, m
  if palette ~= "diverging" then cblo, cbhi = lo, hi > lo and hi or lo + 1 end
  local text
  if plotcore.shape(W) then
    text = plotcore.format(W)
  else
    local rows = {}
    for i = 1, r do
      local row = {}
      for j = 1, c do row[j] = num(v[(i - 1) * c + j]) end
      rows[i] = table.concat(row, " ")
    end
    text = table.concat(rows, "\n")
  end
  ctx:add(PALETTES[palette])
  ctx:add(("set cbrange [%s:%s]"):format(num(cblo), num(cbhi)))
  ctx:add(("set xrange [0.5:%s]"):format(num(c + 0.5)))
  ctx:add(("set yrange [%s:0.5]"):format(num(r + 0.5)))
  ctx:add("set tics out nomirror")
  if o.collabels ~= nil then ctx:add(axes.cell_tics("x", c, o.collabels, "heatmap"))
  elseif c <= 20 then ctx:add("set xtics 1") end
  if o.rowlabels ~= nil then ctx:add(axes.cell_tics("y", r, o.rowlabels, "heatmap"))
  elseif r <= 20 then ctx:add("set ytics 1") end
  ctx:add("unset key")
  ctx:common(o)
  if o.values then
    -- each value written in its cell (hand-worked examples, number by
    -- number), in black or white, whichever reads on the cell's colour
    if r * c > 400 then argerror(2, "heatmap", ("option values: %dx%d is more than 400 cells"):format(r, c)) end
    for i = 1, r do
      for j = 1, c do
        local x = v[(i - 1) * c + j]
        local ink = style.ink(palette, (x - cblo) / (cbhi - cblo))
        ctx:add(("set label %s at %d,%d center front textcolor rgb '%s'"):format(q(cell_text(x)), j, i, ink))
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
  ctx.art = { ims = { big }, h = r * fy, w = c * fx, ch = 1, cols = 1, lo = cblo, hi = cbhi,
              palette = (palette == "gray" or palette == "diverging") and palette or "ink", title = o.title }
  ctx:add(("plot %s matrix using ($1+1):($2+1):3 with image pixels notitle"):format(ctx:block(text)))
  return o
end

-- The class names of a set: its names, else its labels 0..k-1.
local function class_names(set, k)
  local names = type(set) == "table" and set.names or nil
  if type(names) == "table" and #names >= k then return names end
  return 0
end

--- The confusion matrix of net on set (trainer.evaluate's: row = true
-- label, column = predicted), or a given k×k matrix, as a heatmap of counts
-- labelled by class: set.names, else the labels 0..k-1.
function kinds.confusion(ctx, a, b, o)
  local C, set
  if plotcore.shape(a) then
    C, o = a, b
  else
    if type(b) ~= "table" and type(b) ~= "userdata" then
      argerror(2, "confusion", "dataset expected, got " .. typename(b))
    end
    local trainer = require "deltalab.trainer"
    local ok, err, _, conf = pcall(trainer.evaluate, a, b)
    if not ok then error("confusion: " .. tostring(err), 0) end
    if not conf then argerror(2, "confusion", "a set with class labels expected (a regression set has no confusion matrix)") end
    C, set = conf, b
  end
  o = util.options(o, ctx.fn, kinds.OPTIONS.confusion, ctx.level)
  local k, kc = plotcore.shape(C)
  if k ~= kc then argerror(1, "confusion", ("square matrix expected, got %dx%d"):format(k, kc)) end
  local names = o.names
  if names ~= nil and (type(names) ~= "table" or #names ~= k) then
    argerror(2, "confusion", ("option names must be a list of %d class names"):format(k))
  end
  names = names or class_names(set, k)
  local h = {}
  for key, val in pairs(o) do if key ~= "names" then h[key] = val end end
  h.rowlabels, h.collabels = names, names
  h.palette = h.palette or "blues"
  if h.values == nil then h.values = k * k <= 400 end
  h.xlabel = h.xlabel or "predicted"
  h.ylabel = h.ylabel or "true label"
  kinds.heatmap(ctx, C, h)
  return o
end

return kinds
