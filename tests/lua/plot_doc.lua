-- Every ```lua block of doc/plot.md runs, drawing into PNG files in a
-- temporary directory, and every public plot function and figure method
-- has a reference entry there: a doc example that stops working, or a
-- function nobody documented, fails the suite.
local T = require "check"

local f = assert(io.open("doc/plot.md", "r"))
local doc = f:read("a")
f:close()

local function have_gnuplot()
  local p = io.popen("command -v gnuplot 2>/dev/null")
  local s = p:read("a"); p:close()
  return s ~= ""
end

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -m 700 " .. dir))
local function exists(p) local h = io.open(p, "rb"); if h then h:close() end; return h ~= nil end

-- The examples name files such as "loss.png" or "fig.gp": those go to the
-- temporary directory. Figures they make without an output, and
-- plot.output() back to automatic, draw into dir/auto-N.png instead of a
-- window or the terminal, so the test prints nothing and needs no display.
local function relocate(code)
  return (code:gsub('"([%w_%-]+%.(%a+))"', function(name, ext)
    if ext == "png" or ext == "svg" or ext == "pdf" or ext == "txt" or ext == "gp" then
      return '"' .. dir .. "/" .. name .. '"'
    end
  end))
end
local nauto = 0
local function auto()
  nauto = nauto + 1
  return dir .. "/auto-" .. nauto .. ".png"
end
local sandbox = setmetatable({
  figure = function(o)
    o = o or {}
    if o.output == nil then o.output = auto() end
    return plot.figure(o)
  end,
  output = function(dest, o) return plot.output(dest or auto(), o) end,
}, { __index = plot, __newindex = plot })

local n = 0
if not have_gnuplot() then
  T.skip("doc/plot.md examples", "gnuplot is not installed (make deps)")
else
  for code in doc:gmatch("```lua\n(.-)```") do
    n = n + 1
    local line = select(2, doc:sub(1, doc:find(code, 1, true)):gsub("\n", "")) + 1
    T.test(("doc/plot.md example %d (line %d)"):format(n, line), function()
      plot.closeall()
      plot.output(auto(), { size = { 320, 240 } })
      local env = setmetatable({ plot = sandbox, print = function(...)
        for i = 1, select("#", ...) do tostring((select(i, ...))) end
      end }, { __index = _G })
      local chunk = assert(load(relocate(code), "=doc/plot.md:" .. line, "t", env))
      chunk()
      plot.closeall()
    end)
  end
  T.test("the doc has examples", function() T.truthy(n >= 25, n .. " examples") end)
  T.test("the examples drew pictures", function()
    for _, name in ipairs{ "loss.png", "live.png", "curves.svg", "scatter.svg", "later.gp", "fig.gp" } do
      T.truthy(exists(dir .. "/" .. name), name)
    end
    local drawn = 0
    for i = 1, nauto do if exists(dir .. "/auto-" .. i .. ".png") then drawn = drawn + 1 end end
    T.truthy(drawn >= 15, drawn .. " pictures drawn where no output was named")
  end)
end

T.test("every plot function and figure method has an entry", function()
  local missing = {}
  for name, v in pairs(plot) do
    if type(v) == "function" and not doc:find("### `plot." .. name .. "[({]") then
      missing[#missing + 1] = "plot." .. name
    end
  end
  for name, v in pairs(plot.figure_methods) do
    if type(v) == "function" and not doc:find("### `figure:" .. name .. "[({]") then
      missing[#missing + 1] = "figure:" .. name
    end
  end
  table.sort(missing)
  T.eq(table.concat(missing, ", "), "", "undocumented")
end)

T.test("every picture the doc shows exists, and is small", function()
  local k = 0
  for file in doc:gmatch("%]%((img/[%w_%-]+%.png)%)") do
    k = k + 1
    local h = io.open("doc/" .. file, "rb")
    T.truthy(h, "doc/" .. file .. " exists (make doc-images)")
    if h then
      local s = h:read("a"); h:close()
      local w, ht = (">I4I4"):unpack(s, 17)
      T.truthy(w <= 600 and ht <= 500, ("%s is %dx%d"):format(file, w, ht))
      T.truthy(#s < 120000, ("%s has %d bytes"):format(file, #s))
    end
  end
  T.truthy(k >= 13, k .. " pictures: one per plot kind")
end)

os.execute("rm -rf " .. dir)
T.done()
