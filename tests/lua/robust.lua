--- robust: bad input gets a clear error and loses nothing.
--
-- Every function of the modules matrix, network, trainer, data, plot and help,
-- every method of the types (matrix, network, layer, trainer, dataset, figure)
-- and their metamethods (indexing, arithmetic, comparison, #, tostring) is
-- called with a battery of bad arguments: nil, wrong types, NaN, ±inf, huge and
-- negative sizes, 0×0 and 1×0 matrices, floats where integers go, freed
-- matrices and views of freed parents, wrong-shape matrices, strings with NULs,
-- deeply nested tables, tables with holes, option tables with typos. Each call
-- must either succeed or raise an error whose message is a string that names
-- the function or the argument, and is not one of Lua's own complaints about a
-- value the function forgot to check ("attempt to index a nil value").
--
-- Each group runs in a child process (this file with --child GROUP), which
-- reports on stderr, one line per function, and announces each call before it
-- makes it: a crash, a sanitizer report or a hang shows up as a failed test
-- naming the group, the function and the arguments of the fatal call, while
-- the other groups go on.
--
-- Excluded by construction, not by listing the API: the children run in an
-- empty temporary directory with HOME, XDG_DATA_HOME and DELTALAB_DATA pointing
-- into it, so loaders find no real dataset and files land there; gnuplot is a
-- program that does not exist (DELTALAB_GNUPLOT), so no plot opens a window or
-- waits; the only datasets and networks in the battery have a few samples and
-- a few units, and epoch counts are bounded by a count hook that stops any call
-- running longer than a few seconds' worth of Lua instructions.
--
-- ROBUST_CALLS=n (default 30) sets how many random argument combinations each
-- function gets beyond the systematic ones; set it low under valgrind.

------------------------------------------------------------------------------
-- The child: one group of functions, reports on stderr
------------------------------------------------------------------------------

local function child(group)
  local out = io.stderr
  local function report(...) out:write("@@", table.concat({ ... }, " "), "\n"); out:flush() end
  print = function() end  -- help() and friends print; their output is not the point
  -- The one dataset on disk the children can see is Debian's Fashion-MNIST
  -- (a fixed path): a loader called with no options reads 2 samples of it,
  -- not 70000, so the battery stays fast.
  for _, k in ipairs{ "mnist", "fashion_mnist", "cifar10" } do
    local load = data[k]
    data[k] = function(opts, ...)
      if opts == nil or (type(opts) == "table" and next(opts) == nil) then opts = { n = 2 } end
      return load(opts, ...)
    end
  end
  local tmp = assert(os.getenv("ROBUST_TMP"))

  -- Values: name → maker, so each call gets fresh objects (a call may close
  -- or change what it is given).
  local function freed() local m = matrix.zeros(2, 2); m:close(); return m end
  local function orphan_view() local p = matrix.ones(3, 3); local v = p:row(2); p:close(); return v end
  local function nested(d) local t = {} local c = t for _ = 1, d do c[1] = {} c = c[1] end return t end
  local function net() return network{ 2, 3, 2 } end
  local function set() return data.dataset{ X = matrix.from{ { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 } },
                                            y = matrix.from{ { 0 }, { 1 }, { 1 }, { 0 } } } end
  local V = {
    { "nil", function() return nil end },
    { "false", function() return false end },
    { "0", function() return 0 end },
    { "-1", function() return -1 end },
    { "1", function() return 1 end },
    { "2", function() return 2 end },
    { "1.5", function() return 1.5 end },
    { "nan", function() return 0 / 0 end },
    { "inf", function() return math.huge end },
    { "-inf", function() return -math.huge end },
    { "maxinteger", function() return math.maxinteger end },
    { "mininteger", function() return math.mininteger end },
    { "2^31", function() return 2 ^ 31 end },
    { "1e300", function() return 1e300 end },
    { "-2^31", function() return -2 ^ 31 | 0 end },
    { "100000", function() return 100000 end },
    { "''", function() return "" end },
    { "'sigmod'", function() return "sigmod" end },
    { "'relu'", function() return "relu" end },
    { "'a\\0b'", function() return "a\0b" end },
    { "'3'", function() return "3" end },
    { "'dir/'", function() return "nodir/x.bin" end },
    { "{}", function() return {} end },
    { "{1,2,3}", function() return { 1, 2, 3 } end },
    { "{{1,2},{3,4}}", function() return { { 1, 2 }, { 3, 4 } } end },
    { "{{1,2},{3}}", function() return { { 1, 2 }, { 3 } } end },
    { "{1,nil,3}", function() return { 1, nil, 3 } end },
    { "{'a',{}}", function() return { "a", {} } end },
    { "nested(300)", function() return nested(300) end },
    { "{typo opts}", function() return { lr = -1, epochz = 2, sizee = 3, n = 0 / 0, output = 1 } end },
    { "function", function() return function() error("callback error") end end },
    { "io.stdout", function() return io.stdout end },
    { "coroutine", function() return coroutine.create(print) end },
    { "m2x3", function() return matrix.rand(2, 3) end },
    { "m3x2", function() return matrix.rand(3, 2) end },
    { "m1x1", function() return matrix.ones(1, 1) end },
    { "m0x0", function() return matrix.zeros(0, 0) end },
    { "m1x0", function() return matrix.zeros(1, 0) end },
    { "m4x2", function() return matrix.from{ { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 } } end },
    { "mnan", function() return matrix.from{ { 0 / 0, math.huge }, { -math.huge, 1 } } end },
    { "freed", freed },
    { "orphanview", orphan_view },
    { "network", net },
    { "closednet", function() local n = net(); getmetatable(n).__close(n); return n end },
    { "layer", function() return net().layers[1] end },
    { "dataset", set },
    { "trainer", function() return trainer{ net = net(), train = set(), epochs = 1 } end },
  }
  local byname = {}
  for i, v in ipairs(V) do byname[v[1]] = i end

  -- The "plausible" arguments, which get calls past the first check.
  local P = { "2", "m4x2", "'relu'", "{}", "network", "dataset" }

  -- A call that runs too long (a huge epoch count) is stopped from a count
  -- hook; C loops that never come back to Lua are the parent's timeout.
  local budget
  local function hook()
    budget = budget - 1
    if budget < 0 then debug.sethook(); error("robust: call stopped (too long)", 0) end
  end

  local LUA_ERRORS = { "attempt to index", "attempt to call", "attempt to perform",
                       "attempt to compare", "attempt to concatenate", "attempt to get length",
                       "a nil value", "stack overflow", "not enough memory" }

  local function useful(msg, fname)
    if type(msg) ~= "string" then return false, "error value is a " .. type(msg) end
    if msg == "robust: call stopped (too long)" then return true end
    -- Indexing and calling read as Lua's own words do for any value.
    if fname:find(" %[k%]") and (msg:find("index", 1, true) or msg:find("assign", 1, true)) then return true end
    if fname:find(" %(%)$") and msg:find("attempt to call a", 1, true) then return true end
    for _, p in ipairs(LUA_ERRORS) do
      if msg:find(p, 1, true) then return false, "Lua's own error, not a checked argument" end
    end
    if msg:find("callback error", 1, true) then return true end  -- the battery's own function
    -- Where the error points: a message positioned inside deltalab's own Lua
    -- files blames the library for the user's mistake (error level 1 where 2
    -- was meant); the user's line, here this file, is right.
    local where = msg:match("^([^:\n]+%.lua):%d+:")
    if where and where:find("deltalab/", 1, true) then
      return false, "error positioned in the library (" .. where:match("[^/]+$") .. "), not at the caller"
    end
    -- What it names: the function, or its type or module (messages read
    -- "matrix +: 2x3 plus 3x4", "network: layer 2: ..."), or an argument.
    local short = fname:match("[%.:]([%w_]+)$") or fname:match("^[%w_]+")
    local owner = fname:match("^([%w_]+)")
    for _, word in ipairs{ short, owner, "bad argument", "expected", "freed", "closed", "invalid option" } do
      if msg:find(word, 1, true) then return true end
    end
    return false, "names neither the function nor an argument"
  end

  local seen_bad = {}
  local function try(fname, f, names, selfmaker)
    local args, n = {}, #names
    local desc = table.concat(names, ", ")
    report("call", fname, "(" .. desc .. ")")
    local ok, err = pcall(function()
      local a = {}
      local k = 0
      if selfmaker then k = 1; a[1] = selfmaker() end
      for i, nm in ipairs(names) do a[k + i] = V[byname[nm]][2]() end
      args = a
      budget = 200000
      debug.sethook(hook, "", 1000)
      local r = table.pack(f(table.unpack(a, 1, k + n)))
      debug.sethook()
      for i = 1, r.n do local _ = tostring(r[i]) end  -- results must print
      return r
    end)
    debug.sethook()
    if not ok then
      local good, why = useful(err, fname)
      if not good then
        local key = fname .. "|" .. why .. "|" .. tostring(err):gsub("%d+", "N")
        if not seen_bad[key] then
          seen_bad[key] = true
          report("bad", fname, "(" .. desc .. ")", why, "::", (tostring(err):gsub("\n", " | ")))
        end
        return false
      end
    end
    return true
  end

  local RANDOM = tonumber(os.getenv("ROBUST_CALLS") or "") or 30
  local function battery(fname, f, selfmaker)
    local bad, t0 = 0, os.clock()
    local function t(...) if not try(fname, f, { ... }, selfmaker) then bad = bad + 1 end end
    t()
    for _, v in ipairs(V) do t(v[1]) end
    for _, p in ipairs(P) do
      for _, v in ipairs(V) do t(p, v[1]); t(v[1], p) end
    end
    math.randomseed(#fname)
    for _ = 1, RANDOM do
      local n = math.random(1, 4)
      local names = {}
      for i = 1, n do
        names[i] = (math.random() < 0.5 and P[math.random(#P)]) or V[math.random(#V)][1]
      end
      t(table.unpack(names))
    end
    collectgarbage()
    report("fn", fname, bad, ("%.2f"):format(os.clock() - t0))
  end

  -- The groups.
  local function module_group(mname)
    local mod = _G[mname]
    local names = {}
    for k, v in pairs(mod) do
      if type(v) == "function" then names[#names + 1] = k end
    end
    table.sort(names)
    for _, k in ipairs(names) do battery(mname .. "." .. k, mod[k]) end
    if getmetatable(mod) and getmetatable(mod).__call then
      battery(mname .. "()", function(...) return mod(...) end)
    end
  end

  local function methods_group(tname, maker, methods)
    local names = {}
    for k, v in pairs(methods) do
      if type(v) == "function" then names[#names + 1] = k end
    end
    table.sort(names)
    for _, k in ipairs(names) do
      local fname = tname .. ":" .. k
      battery(fname, methods[k], maker)                -- on a good object
      for _, v in ipairs(V) do                         -- on a wrong self
        try(fname, methods[k], {}, V[byname[v[1]]][2])
      end
    end
    -- Metamethods: fields, assignment, arithmetic, comparison, length, print.
    local meta = {
      ["[k]"] = function(o, k) return o[k] end,
      ["[k]=v"] = function(o, k, v) o[k] = v end,
      ["+"] = function(o, v) return o + v end, ["-"] = function(o, v) return o - v end,
      ["*"] = function(o, v) return o * v end, ["/"] = function(o, v) return o / v end,
      ["v*"] = function(o, v) return v * o end, ["v-"] = function(o, v) return v - o end,
      ["v/"] = function(o, v) return v / o end,
      ["=="] = function(o, v) return o == v end, ["unm"] = function(o) return -o end,
      ["#"] = function(o) return #o end, ["tostring"] = function(o) return tostring(o) end,
      ["()"] = function(o, ...) return o(...) end,
    }
    local mnames = {}
    for k in pairs(meta) do mnames[#mnames + 1] = k end
    table.sort(mnames)
    local mt = getmetatable(maker())
    for _, k in ipairs(mnames) do
      local needed = { ["+"] = "__add", ["-"] = "__sub", ["*"] = "__mul", ["v*"] = "__mul",
                       ["v-"] = "__sub", ["/"] = "__div", ["v/"] = "__div", unm = "__unm",
                       ["#"] = "__len", ["()"] = "__call", ["[k]=v"] = "__newindex" }
      if not needed[k] or mt[needed[k]] then
        battery(tname .. " " .. k, meta[k], maker)
      end
    end
  end

  local groups = {
    matrix = function() module_group("matrix") end,
    network = function() module_group("network") end,
    trainer = function() module_group("trainer") end,
    data = function() module_group("data") end,
    plot = function() module_group("plot") end,
    help = function() module_group("help") end,
    ["matrix:"] = function()
      methods_group("matrix", function() return matrix.rand(3, 4) end, getmetatable(matrix.zeros(1, 1)).__methods)
      methods_group("matrix(view)", function() return matrix.rand(4, 3):T():row(2) end, getmetatable(matrix.zeros(1, 1)).__methods)
    end,
    ["network:"] = function() methods_group("network", net, getmetatable(net()).__methods) end,
    ["layer:"] = function() methods_group("layer", function() return net().layers[1] end, getmetatable(net().layers[1]).__methods) end,
    ["trainer:"] = function()
      local mk = function() return trainer{ net = net(), train = set(), epochs = 1 } end
      local mt = getmetatable(mk())
      methods_group("trainer", mk, type(mt.__index) == "table" and mt.__index or mt.__methods)
    end,
    ["dataset:"] = function() methods_group("dataset", set, getmetatable(set()).__index) end,
    ["figure:"] = function()
      local mk = function() return plot.figure() end
      methods_group("figure", mk, getmetatable(mk()).__index)
      plot.closeall()
    end,
  }
  assert(groups[group], "no group " .. group)()
  report("done")
end

if arg[1] == "--child" then
  child(arg[2])
  os.exit(0, true)  -- close the state: every finalizer runs, so leak checkers see the truth
end

------------------------------------------------------------------------------
-- The parent: one child per group, each function a test
------------------------------------------------------------------------------

local T = require "check"

local function sh(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
local function abs(p)
  if p:sub(1, 1) == "/" then return p end
  return (os.getenv("PWD") or io.popen("pwd"):read("l")) .. "/" .. p
end
local prog = abs(os.getenv("DELTALAB") or arg[-1])
local me = abs(arg[0])
local tmp = io.popen("mktemp -d"):read("l")
local function tail(lines, n)
  local t = {}
  for i = math.max(1, #lines - n + 1), #lines do t[#t + 1] = lines[i] end
  return table.concat(t, "\n")
end

local GROUPS = { "matrix", "matrix:", "network", "network:", "layer:", "trainer", "trainer:",
                 "data", "dataset:", "plot", "figure:", "help" }
local only = os.getenv("ROBUST_GROUP")
for _, g in ipairs(GROUPS) do
  if not only or only == g then
    local dir = tmp .. "/" .. g:gsub(":", "_m")
    os.execute("mkdir -p " .. sh(dir .. "/empty"))
    local cmd = ("cd %s && HOME=%s XDG_DATA_HOME=%s DELTALAB_DATA=%s DELTALAB_GNUPLOT=/nonexistent/gnuplot "
      .. "ROBUST_TMP=%s DELTALAB_HISTORY= timeout -s KILL %d %s %s %s --child %s 2>&1 >/dev/null; echo \"@@exit $?\"")
      :format(sh(dir), sh(dir), sh(dir), sh(dir .. "/empty"), sh(dir), tonumber(os.getenv("ROBUST_TIMEOUT") or "") or 120,
              os.getenv("ROBUST_WRAP") or "", sh(prog), sh(me), sh(g))
    local p = io.popen(cmd)
    local last, noise, done, status = nil, {}, false, nil
    local bad = {}
    for line in p:lines() do
      local kind, rest = line:match("^@@(%a+) ?(.*)$")
      if kind == "call" then last = rest
      elseif kind == "bad" then
        local fname = rest:match("^(%S+ ?%S*) %(") or rest
        fname = rest:match("^(%S+)") or fname
        bad[#bad + 1] = rest
      elseif kind == "fn" then
        local fname, n, secs = rest:match("^(.-) (%d+) ([%d.]+)$")
        local msgs = {}
        for _, b in ipairs(bad) do msgs[#msgs + 1] = b end
        bad = {}
        T.test(fname .. " (bad arguments)", function()
          if #msgs > 0 then error(#msgs .. " unhelpful error(s):\n" .. table.concat(msgs, "\n"), 0) end
        end)
        noise = {}
      elseif kind == "done" then done = true
      elseif kind == "exit" then status = tonumber(rest)
      else noise[#noise + 1] = line end
    end
    p:close()
    T.test("group " .. g .. " runs to the end", function()
      local report = table.concat(noise, "\n")
      if report:find("Sanitizer", 1, true) or report:find("runtime error", 1, true) then
        error("sanitizer report after the last call:\n" .. tail(noise, 40), 0)
      end
      if not done or status ~= 0 then
        error(("child died (exit %s) in the call %s\n%s"):format(tostring(status), tostring(last), tail(noise, 40)), 0)
      end
    end)
  end
end
------------------------------------------------------------------------------
-- Targeted cases: files that are not what they claim, saves that cannot
-- happen, messages that must name both shapes. Each bug found by the battery
-- or by hand has its assertion here.
------------------------------------------------------------------------------

local function path(name) return tmp .. "/" .. name end
local function slurp(p) local f = assert(io.open(p, "rb")); local s = f:read("a"); f:close(); return s end
local function spit(p, s) local f = assert(io.open(p, "wb")); f:write(s); f:close() end
local function listing(dir)
  local t = {}
  for l in io.popen("ls -A " .. sh(dir)):lines() do t[#t + 1] = l end
  table.sort(t)
  return table.concat(t, " ")
end
os.execute("mkdir -p " .. sh(path("files/adir")))

T.test("garbage files: every loader raises with the path and a reason", function()
  local dir = path("files")
  math.randomseed(7)
  local noise = {}
  for i = 1, 3000 do noise[i] = string.char(math.random(0, 255)) end
  spit(dir .. "/random.bin", table.concat(noise))
  spit(dir .. "/empty.bin", "")
  local net = network{ 3, 4, 2 }
  net:save(dir .. "/good.net")
  matrix.rand(3, 4):save(dir .. "/good.npy")
  for _, src in ipairs{ "good.net", "good.npy" } do
    local s = slurp(dir .. "/" .. src)
    for _, cut in ipairs{ 1, 8, 12, 40, #s // 2, #s - 1 } do
      spit(("%s/cut%d.%s"):format(dir, cut, src), s:sub(1, cut))
    end
  end
  local loaders = { ["network.load"] = network.load, ["matrix.load"] = matrix.load,
                    ["data.idx"] = data.idx, ["data.csv"] = data.csv, ["data.cifar"] = data.cifar,
                    ["data.npy"] = data.npy }
  local files = { "random.bin", "empty.bin", "adir", "missing.bin" }
  for f in io.popen("ls " .. sh(dir)):lines() do
    if f:find("^cut") then files[#files + 1] = f end
  end
  for fname, load in pairs(loaders) do
    for _, f in ipairs(files) do
      local ok, err = pcall(load, dir .. "/" .. f)
      T.truthy(not ok, fname .. "(" .. f .. ") fails")
      T.truthy(type(err) == "string" and err:find(f, 1, true), fname .. "(" .. f .. ") names the file: " .. tostring(err))
      local short = fname:match("%.(%w+)$")
      T.truthy(err:find(short, 1, true), fname .. "(" .. f .. ") names the function: " .. err)
    end
  end
end)

T.test("an unreadable file: the loaders say permission denied", function()
  local p = path("files/unreadable.net")
  network{ 2, 1 }:save(p)
  os.execute("chmod 000 " .. sh(p))
  local f = io.open(p, "rb")
  if f then  -- root reads anything: nothing to test
    f:close()
    return
  end
  for _, load in ipairs{ network.load, matrix.load, data.idx, data.csv, data.cifar } do
    T.checkerror("Permission denied", load, p)
  end
end)

T.test("mutated checkpoints and NPY headers load or fail cleanly", function()
  local dir = path("files")
  math.randomseed(11)
  for _, src in ipairs{ "good.net", "good.npy" } do
    local s = slurp(dir .. "/" .. src)
    local load = src:find("net$") and network.load or matrix.load
    for i = 1, 300 do
      local b = { s:byte(1, -1) }
      for _ = 1, math.random(1, 3) do  -- flip bytes of the header and the first values
        local at = math.random(1, math.min(#b, 120))
        b[at] = math.random(0, 255)
      end
      local p = dir .. "/mutant" .. i .. "_" .. src
      spit(p, string.char(table.unpack(b)))
      local ok, err = pcall(load, p)
      T.truthy(ok or (type(err) == "string" and err:find(p, 1, true)), "a mutant's error names it: " .. tostring(err))
      os.remove(p)
    end
  end
end)

T.test("a save that cannot happen raises and leaves no file, temporary or half", function()
  local dir = path("files/adir")
  local net, m = network{ 2, 3, 1 }, matrix.rand(2, 2)
  local before = listing(dir)
  for _, p in ipairs{ dir .. "/no/such/dir/x.net", dir, "" } do
    T.checkerror("cannot write", net.save, net, p)
    T.checkerror("cannot write", m.save, m, (p:gsub("%.net$", ".npy")))  -- .net is no matrix format
  end
  T.eq(listing(dir), before, "files in the directory")
  -- over an existing checkpoint, a failed save keeps the old one whole
  net:save(dir .. "/keep.net")
  local old = slurp(dir .. "/keep.net")
  T.checkerror("file name contains a zero byte", net.save, net, dir .. "/keep.net\0junk")
  T.eq(slurp(dir .. "/keep.net"), old, "checkpoint after a refused save")
  T.eq(listing(dir), "keep.net", "files in the directory")
end)

T.test("a save to a device or through a link writes there, not over it", function()
  local dir = path("files")
  local net = network{ 2, 3, 1 }
  local ok, err = pcall(net.save, net, "/dev/full")
  T.truthy(not ok and err:find("No space left", 1, true), "/dev/full: " .. tostring(err))
  T.truthy(io.popen("test -c /dev/full && echo yes"):read("l") == "yes", "/dev/full is still a device")
  net:save("/dev/null")
  matrix.ones(2, 2):save("/dev/null")
  T.truthy(io.popen("test -c /dev/null && echo yes"):read("l") == "yes", "/dev/null is still a device")
  net:save(dir .. "/target.net")
  os.execute(("ln -sf target.net %s"):format(sh(dir .. "/link.net")))
  network{ 2, 5, 1 }:save(dir .. "/link.net")
  T.truthy(io.popen("test -L " .. sh(dir .. "/link.net") .. " && echo yes"):read("l") == "yes", "the link is still a link")
  T.eq(network.load(dir .. "/target.net").layers[1].b:cols(), 5, "units saved through the link")
end)

T.test("file names with a zero byte are refused, not cut short", function()
  local m = matrix.ones(1, 1)
  for _, f in ipairs{ function() return matrix.load("x\0y") end, function() return m:save("x\0y") end,
                      function() return network.load("x\0y") end, function() return data.idx("x\0y") end,
                      function() return data.csv("x\0y") end, function() return data.npy("x\0y") end } do
    T.checkerror("zero byte", f)
  end
end)

T.test("shape errors name both shapes", function()
  local a, b = matrix.zeros(3, 4), matrix.zeros(5, 2)
  T.checkerror("3x4 times 5x2", function() return a * b end)
  T.checkerror("3x4 plus 5x2", function() return a + b end)
  T.checkerror("5x2", a.hadamard, a, b)
  local net = network{ 4, 3, 2 }
  T.checkerror("3", net.forward, net, matrix.zeros(2, 3))
end)

T.test("a 1x1 matrix broadcasts over a 1xn one (read past it before)", function()
  local a, b = matrix.from{ { 1, 2, 3, 4 } }, matrix.from{ { 10 } }
  T.eq(tostring(a + b), tostring(matrix.from{ { 11, 12, 13, 14 } }), "1x4 + 1x1")
  T.eq(tostring(b - a), tostring(matrix.from{ { 9, 8, 7, 6 } }), "1x1 - 1x4")
  T.eq(tostring(a:copy():add_(b)), tostring(matrix.from{ { 11, 12, 13, 14 } }), "1x4:add_(1x1)")
end)

T.test("a typo in a network option is an error, not a silent default", function()
  T.checkerror("unknown option 'cots'", network, { 2, 3, 1, cots = "quadratic" })
  T.checkerror("layer 2: unknown option 'C'", network, { 2, { 3, "relu", C = 2 }, 1 })
  T.checkerror("unknown option '[5]'", network, { 2, 3, 1, [5] = 4 })
  T.truthy(network{ 2, { 3, "relu", c = 2 }, 1, cost = "quadratic", seed = 3, init = "he", freeze = "b" },
           "every documented option")
  local net, m = network{ 2, 3, 2 }, matrix.rand(2, 3)
  T.checkerror("unknown option 'lrr'", net.step, net, { 1, 2 }, 1, { lrr = 0.1 })
  T.checkerror("unknown option 'lrr'", net.update, net, { lrr = 0.1 })
  net:forward{ 1, 2 }
  T.checkerror("unknown option 'scale'", net.backward, net, 1, { scale = 2 })
  T.checkerror("unknown option 'epss'", net.gradcheck, net, { 1, 2 }, 1, { epss = 1e-3 })
  T.checkerror("unknown option 'digitz'", net.trace, net, { 1, 2 }, 1, { digitz = 3 })
  T.checkerror("unknown option 'lrr'", net.walk, net, { 1, 2 }, 1, { lrr = 3 })
  T.checkerror("matrix:softmax: unknown option 'tempp' (expected one of temperature, dim)", m.softmax, m, { tempp = 2 })
  T.checkerror("matrix.rand: unknown option 'seeed' (did you mean 'seed'? expected one of min, max, seed)",
               matrix.rand, 2, 2, { seeed = 1 })
  T.checkerror("unknown option 'outptu'", plot.figure, { outptu = "x.png" })
  T.checkerror("unknown option 'fixd'", trainer.sweep, { grid = { lr = { 1 } }, run = function() return 1 end,
                                                          fixd = {}, args = {} })
  T.truthy(net:step({ 1, 2 }, 1, { lr = 0.1, lambda = 0, n = 3, momentum = 0.5 }), "step's options")
  T.truthy(m:softmax{ temperature = 2, dim = 1 } and matrix.randn(2, { mean = 1, std = 2, seed = 3 }),
           "softmax's and randn's options")
end)

T.test("a network too big says why, before allocating", function()
  T.checkerror("network: layer 2 has 2^31 weights or more (16777216x16777216)", network, { 16777216, 16777216 })
  -- 7 layers of 40000x40000: 1.1e10 parameters, 134 GB with gradients and velocities
  T.checkerror("network: the parameters need 134.4 GB", network, { 40000, 40000, 40000, 40000,
                                                    40000, 40000, 40000, 40000 })
end)

T.test("library errors point at the caller's line, name the function", function()
  local net = network{ 2, 3, 2 }
  local set = data.xor()
  local here = "robust.lua:"
  T.checkerror(here, function() local r = net:trace({ 1, 2 }, "x"); return r end)
  T.checkerror(here, function() local r = net:gradcheck(); return r end)
  T.checkerror(here .. "%d+: network:walk: options must be a table",
               function() local w = net:walk({ 1, 2 }, 1, 3); return w end)
  T.checkerror("sweep_table", trainer.sweep_table)
  T.checkerror("merge: cannot open record file", trainer.merge, path("none.jsonl"))
  T.checkerror("records: cannot open record file", trainer.records, path("none.jsonl"))
  T.checkerror("row position 1 is a table, not an integer", set.subset, set, { { 1 } })
  T.checkerror(here .. "%d+: idx: .*none.idx: cannot open", function() local r = data.idx(path("none.idx")); return r end)
  T.checkerror("npy: ", data.npy, path("none.npy"))
  T.checkerror("height and width", plot.image, { 1, 2, 3, 4 }, "relu", 2)
  T.checkerror("nothing to draw", plot.heatmap, matrix.zeros(0, 0))
  T.checkerror("label 1 is NaN", plot.scatter, matrix.zeros(2, 2), { 0 / 0, 1 })
  T.checkerror("option labels", plot.bar, { 1, 2 }, { labels = 3 })
  T.checkerror("function expected", plot.landscape, matrix.zeros(2, 2), { 0, 1 })
end)

os.execute("rm -rf " .. sh(tmp))
T.done()
