-- matrix: printing, NPY files (round trips, a hand-made file, numpy when
-- installed), and memory (GC boundedness, too-large requests).
local T = require "check"

local tmpdir = os.getenv("TMPDIR") or "/tmp"
local function tmpname(tag)
  return ("%s/dl_matrix_%s_%d.npy"):format(tmpdir, tag, math.random(1, 1e9))
end

local function lines(s)
  local t = {}
  for l in (s .. "\n"):gmatch("(.-)\n") do t[#t + 1] = l end
  return t
end

T.test("small matrices print aligned with a shape footer", function()
  T.eq(tostring(matrix{ { 1, 2 }, { 3, 4 } }), "1  2\n3  4\n[matrix 2x2]")
  T.eq(tostring(matrix{ { 1, -20 }, { 300, 4 } }), "  1  -20\n300    4\n[matrix 2x2]")
  T.eq(tostring(matrix{ { 0.5, 0.25 } }), "0.50  0.25\n[matrix 1x2]", "one precision, common zeros trimmed")
  T.eq(tostring(matrix{ 1.5, 2 }), "1.5\n2.0\n[matrix 2x1]")
  T.eq(tostring(matrix{ { 1 / 3, 2 / 3 } }), "0.3333  0.6667\n[matrix 1x2]")
  T.eq(tostring(matrix.zeros(0, 4)), "[matrix 0x4]")
  T.eq(tostring(matrix.zeros(3, 0)), "[matrix 3x0]")
  T.eq(tostring(matrix{ 0 / 0, 1 / 0, -1 / 0 }), " nan\n inf\n-inf\n[matrix 3x1]")
end)

T.test("tiny magnitudes stay readable: scientific for all, no hidden factor", function()
  local d = matrix{ { 1.25e-6, -3.5e-7 }, { 0.3, 2 } }
  T.eq(tostring(d), " 1.25e-06  -3.50e-07\n 3.00e-01   2.00e+00\n[matrix 2x2]")
  local g = matrix{ 1e-6, 2e-6 }
  T.eq(tostring(g), "1e-06\n2e-06\n[matrix 2x1]")
  T.truthy(not tostring(matrix{ 0.001234, 0.5 }):find("e"), "fixed while >= 1e-4")
  T.eq(tostring(matrix{ 0.001234, 0.5 }), "0.00123\n0.50000\n[matrix 2x1]", "3 significant digits of the smallest")
  T.eq(tostring(matrix{ 1e9 + 0.5 }), "1e+09\n[matrix 1x1]")
end)

T.test("large matrices are summarised numpy-style", function()
  local m = matrix.range(1, 100 * 30):reshape(100, 30)
  local l = lines(tostring(m))
  T.eq(#l, 12, "5 rows, a ⋮ line, 5 rows, the footer")
  T.eq(l[12], "[matrix 100x30]")
  T.truthy(l[6]:find("⋮"), "elided rows")
  T.truthy(l[1]:find("…"), "elided columns")
  T.truthy(l[1]:match("^%s*1  "), "first element")
  T.truthy(l[11]:match("3000$"), "last element")
  for i = 1, 11 do T.truthy(utf8.len(l[i]) <= 80, "line " .. i .. " fits 80 columns") end
  local w = utf8.len(l[1])
  for i = 2, 11 do T.eq(utf8.len(l[i]), w, "aligned line " .. i) end
  local wide = matrix.zeros(2, 200)
  T.truthy(tostring(wide):find("…"), "wide but short")
  T.eq(#lines(tostring(matrix.zeros(20, 3))), 21, "20 rows print in full")
end)

T.test("print goes through __tostring", function()
  local m = matrix{ { 1, 2 } }
  T.eq(getmetatable(m).__tostring(m), tostring(m))
end)

T.test("NPY round trips: float32, float64, views", function()
  local p = tmpname("rt")
  local m = matrix.randn(7, 5, { seed = 1 })
  T.eq(m:save(p), m, "save returns the matrix")
  T.truthy(matrix.load(p) == m, "float32 exact")
  m:save(p, "float64")
  T.truthy(matrix.load(p) == m, "float64 exact (fp32 values are doubles)")
  local v = m:slice(2, 4, 2, 3)
  v:save(p)
  T.truthy(matrix.load(p) == v, "a strided view saves its own elements")
  matrix{ 1, 2, 3 }:save(p)
  T.eq(select(2, matrix.load(p):shape()), 1, "column stays a column")
  matrix.zeros(0, 3):save(p)
  T.eq(select(2, matrix.load(p):shape()), 3, "empty")
  os.remove(p)
  T.checkerror("matrix:save: invalid dtype 'float16' (did you mean 'float32'? expected one of float32, float64)",
               function() return m:save(p, "float16") end)
  T.checkerror("bad argument #2 to 'save' (string expected, got table)", function() return m:save(p, {}) end)
end)

-- The bytes the NPY 1.0 spec prescribes, assembled by hand.
local function npy_bytes(descr, fortran, shape, data)
  local dict = ("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }"):format(descr, fortran and "True" or "False", shape)
  local total = math.ceil((10 + #dict + 1) / 64) * 64
  local header = dict .. (" "):rep(total - 10 - #dict - 1) .. "\n"
  return "\x93NUMPY\1\0" .. string.pack("<I2", #header) .. header .. data
end

local function write(path, bytes)
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
end

T.test("a hand-made NPY file is read per the spec", function()
  local p = tmpname("hand")
  write(p, npy_bytes("<f4", false, "(2, 3)", string.pack("<ffffff", 1, 2, 3, 4, 5, 6.5)))
  T.eq(tostring(matrix.load(p)), "1.0  2.0  3.0\n4.0  5.0  6.5\n[matrix 2x3]")
  write(p, npy_bytes("<f8", true, "(2, 3)", string.pack("<dddddd", 1, 4, 2, 5, 3, 6)))
  T.truthy(matrix.load(p) == matrix{ { 1, 2, 3 }, { 4, 5, 6 } }, "Fortran order is transposed back")
  write(p, npy_bytes("|u1", false, "(4,)", "\0\1\127\255"))
  T.truthy(matrix.load(p) == matrix{ 0, 1, 127, 255 }, "uint8, 1-D is a column")
  write(p, npy_bytes(">f4", false, "(1, 2)", string.pack(">ff", 1.5, -2)))
  T.truthy(matrix.load(p) == matrix{ { 1.5, -2 } }, "big-endian")
  write(p, npy_bytes("<i8", false, "(2,)", string.pack("<i8i8", 7, -3)))
  T.truthy(matrix.load(p) == matrix{ 7, -3 }, "int64 labels")
  write(p, npy_bytes("<f4", false, "(2, 2, 2)", string.pack("<ffffffff", 1, 2, 3, 4, 5, 6, 7, 8)))
  T.truthy(matrix.load(p) == matrix{ { 1, 2, 3, 4 }, { 5, 6, 7, 8 } }, "N-D flattens to rows")
  -- and what m:save writes is exactly these bytes
  matrix{ { 1, 2, 3 }, { 4, 5, 6.5 } }:save(p)
  local f = assert(io.open(p, "rb"))
  local got = f:read("a")
  f:close()
  T.eq(got, npy_bytes("<f4", false, "(2, 3)", string.pack("<ffffff", 1, 2, 3, 4, 5, 6.5)), "save's bytes")
  os.remove(p)
end)

T.test("bad NPY files and paths: errors with the path and the reason", function()
  local p = tmpname("bad")
  T.checkerror("matrix.load: cannot open '/nonexistent/x.npy': No such file or directory", matrix.load, "/nonexistent/x.npy")
  write(p, "hello, world")
  T.checkerror("not an NPY file (no \\x93NUMPY magic)", matrix.load, p)
  write(p, npy_bytes("<c8", false, "(1,)", ("\0"):rep(8)))
  T.checkerror("unsupported dtype '<c8'", matrix.load, p)
  write(p, npy_bytes("<f4", false, "(3, 3)", ("\0"):rep(8)))
  T.checkerror("shorter than its header says", matrix.load, p)
  write(p, npy_bytes("<f4", true, "(2, 2, 2)", ("\0"):rep(32)))
  T.checkerror("Fortran-order arrays of more than 2 dimensions are not supported", matrix.load, p)
  write(p, npy_bytes("<f4", false, "(3 3)x", ""))
  T.checkerror("'" .. p .. "'", matrix.load, p)
  os.remove(p)
  T.checkerror("save: cannot write /nonexistent/x.npy: No such file or directory", function()
    return matrix.zeros(1, 1):save("/nonexistent/x.npy")
  end)
end)

T.test("save is atomic: no temporary left, the old file survives a failure", function()
  local dir = tmpdir .. "/dl_matrix_atomic_" .. math.random(1, 1e9)
  os.execute("mkdir -p " .. dir)
  local p = dir .. "/m.npy"
  matrix{ 1, 2 }:save(p)
  matrix{ 3, 4, 5 }:save(p)
  T.truthy(matrix.load(p) == matrix{ 3, 4, 5 }, "replaced")
  local ls = io.popen("ls -A " .. dir):read("a")
  T.eq(ls, "m.npy\n", "only the file itself")
  -- a directory in the way: rename fails, the temporary is removed
  os.execute("mkdir " .. dir .. "/d.npy")
  T.checkerror("save: cannot write " .. dir .. "/d.npy: Is a directory", function() return matrix{ 1 }:save(dir .. "/d.npy") end)
  ls = io.popen("ls -A " .. dir):read("a")
  T.eq(ls, "d.npy\nm.npy\n", "no temporary left behind")
  os.execute("rm -rf " .. dir)
end)

T.test("numpy reads what we write and we read what it writes", function()
  local py = "/usr/bin/python3"
  if not io.open(py) then return T.skip("numpy interop", "no " .. py) end
  local a, b = tmpname("np_a"), tmpname("np_b")
  matrix{ { 1, 2, 3 }, { 4, 5, 6.5 } }:save(a)
  -- one Python start (about a second): exit status 3 means numpy is missing
  local script = ("try:\n import numpy as np\nexcept ImportError:\n raise SystemExit(3)\n"
    .. "x = np.load('%s'); assert x.dtype == np.float32 and x.shape == (2, 3) and x[1, 2] == 6.5\n"
    .. "np.save('%s', np.asfortranarray(np.arange(12.0).reshape(3, 4)).T)\n"):format(a, b)
  local f = assert(io.popen(py .. " - 2>&1", "w"))
  f:write(script)
  local ok, _, code = f:close()
  os.remove(a)
  if code == 3 then return T.skip("numpy interop", "python3-numpy not installed") end
  T.truthy(ok, "numpy loads our file (status " .. tostring(code) .. ")")
  local m = matrix.load(b)
  T.eq(select(1, m:shape()), 4)
  T.eq(m:get(2, 1), 1, "numpy's transpose of a 3x4 arange")
  T.eq(m:get(1, 2), 4)
  os.remove(b)
end)

T.test("GC: loops of matrices stay bounded without collectgarbage()", function()
  -- Lua's collector sees each userdata's whole size (the buffer lives inside
  -- it), and each allocation steps the collector by its own size, so the heap
  -- stays within a few matrices. Without that step the heap crept up to about
  -- 1 GB after 4000 of these 4 MB matrices.
  for _, case in ipairs{ { 1000, 1000, 120, 48 }, { 100, 100, 20000, 16 } } do
    local r, c, n, limit = case[1], case[2], case[3], case[4]
    collectgarbage()
    local before = collectgarbage("count")
    local peak = before
    for _ = 1, n do
      local _ = matrix.zeros(r, c)
      peak = math.max(peak, collectgarbage("count"))
    end
    T.truthy(peak - before < limit * 1024,
             ("%dx%d x %d: heap grew by %.1f MB (limit %d)"):format(r, c, n, (peak - before) / 1024, limit))
  end
end)

T.test("collectgarbage('stop') is respected", function()
  collectgarbage()
  collectgarbage("stop")
  local before = collectgarbage("count")
  for _ = 1, 5 do local _ = matrix.zeros(100, 100) end
  local grew = collectgarbage("count") - before
  collectgarbage("restart")
  T.truthy(grew > 5 * 39, ("all five matrices still counted (%.0f KB)"):format(grew))
end)

T.test("too large for memory is a Lua error, and the program goes on", function()
  -- 4 TB: more than any machine this runs on
  T.checkerror("matrix 1000000x1000000 needs 4000.0 GB, more than this machine's", matrix.zeros, 1e6, 1e6)
  T.checkerror("more than this machine's", matrix.eye, 2 ^ 30 - 1)
  T.eq(matrix.ones(2, 2):sum(), 4, "still working")
end)

T.done()
