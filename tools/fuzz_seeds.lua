-- fuzz_seeds.lua — write the fuzzers' seed corpus: small valid files of each
-- format, made by deltalab itself (its own writers where it has one, the
-- format's layout with string.pack where it only reads the format).
--
--   deltalab tools/fuzz_seeds.lua tests/fuzz/corpus
local out = assert(arg[1], "usage: deltalab tools/fuzz_seeds.lua DIR")
-- gzip'ed seeds (the readers' inflate paths) need the gzip program.
local has_gzip = os.execute("command -v gzip >/dev/null 2>&1")

local function write(dir, name, bytes)
  os.execute(("mkdir -p '%s/%s'"):format(out, dir))
  local f = assert(io.open(("%s/%s/%s"):format(out, dir, name), "wb"))
  f:write(bytes)
  f:close()
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- bytes compressed by gzip -9 -n (no name or time: the same bytes each run)
local function gzip(bytes)
  local tmp = os.tmpname()
  local f = assert(io.open(tmp, "wb"))
  f:write(bytes)
  f:close()
  assert(os.execute(("gzip -9 -n -c '%s' > '%s.gz'"):format(tmp, tmp)))
  local z = read(tmp .. ".gz")
  os.remove(tmp)
  os.remove(tmp .. ".gz")
  return z
end

-- An NPY file of version major (1 or 2) with this header dict.
local function npy(dict, elements, major)
  major = major or 1
  local pre = major == 1 and 10 or 12
  local pad = (64 - (pre + #dict + 1) % 64) % 64
  local h = dict .. string.rep(" ", pad) .. "\n"
  return "\x93NUMPY" .. string.char(major, 0)
      .. string.pack(major == 1 and "<I2" or "<I4", #h) .. h .. elements
end

-- IDX: magic 0 0 type ndim, then big-endian u32 dims, then the elements.
local function idx(type_code, dims, elements)
  local parts = { string.pack(">BBBB", 0, 0, type_code, #dims) }
  for _, d in ipairs(dims) do parts[#parts + 1] = string.pack(">I4", d) end
  parts[#parts + 1] = elements
  return table.concat(parts)
end
local bytes = {}
for i = 1, 2 * 3 * 3 do bytes[i] = string.char((i * 37) % 256) end
local img = idx(0x08, { 2, 3, 3 }, table.concat(bytes))
write("idx", "images-u8", img)
write("idx", "labels-u8", idx(0x08, { 4 }, "\1\2\3\9"))
write("idx", "f32", idx(0x0D, { 2, 2 }, string.pack(">ffff", 1, -2, 0.5, 3)))
write("idx", "i16", idx(0x0B, { 3 }, string.pack(">i2i2i2", -1, 300, 7)))
-- The gzip harness compresses its input itself (first byte other than 0x1f).
write("idx_gz", "images-u8", "\0" .. img)
write("idx_gz", "f32", "\0" .. idx(0x0D, { 2, 2 }, string.pack(">ffff", 1, -2, 0.5, 3)))
write("idx", "f64", idx(0x0E, { 1, 2 }, string.pack(">dd", 0.25, -1e300)))
write("idx", "i32", idx(0x0C, { 2 }, string.pack(">i4i4", -7, 1 << 30)))
write("idx", "i8", idx(0x09, { 2, 1, 2 }, "\255\1\128\127"))
-- A first byte 0x1f makes the harness feed its input as it is: real gzip.
if has_gzip then write("idx_gz", "raw-gzip", gzip(img)) end

-- The CSV harness reads its settings from two leading bytes: separator
-- index (0 ',', 1 ';', 2 tab) + 8 × (header mode + 1), then the label column
-- (0x80: none; else low nibble − 8, so 7 is the last column, 8 the first).
local function csv(sep, header, label) return string.char(sep + 8 * (header + 1), label) end
write("csv", "header-label", csv(0, -1, 7) .. "x,y,label\n0.5,1.5,cat\n2,3,dog\n")
write("csv", "numbers", csv(0, 0, 0x80) .. "1,2,3\n4,5,6\n\n7,8,9\n")
write("csv", "semicolon", csv(1, 1, 8) .. "a;b\n1.5e3;-2\n")
write("csv", "quoted-crlf", csv(0, -1, 0x80) .. '"a,b","c""d"\r\n"1",2\r\n3,"4"\r\n')
write("csv", "class-names", csv(2, 1, 7) .. "x\ty\tkind\n1\t2\tIris-setosa\n3\t4\tIris-virginica\n"
  .. "5\t6\tIris-setosa\n")
if has_gzip then write("csv", "gzip", csv(0, 0, 0x80) .. gzip("1,2\n3,4\n")) end

local tmp = os.tmpname()
matrix{ { 1, 2, 3 }, { 4, 5, 6 } }:save(tmp .. ".npy")
write("npy", "f32-2x3", read(tmp .. ".npy"))
matrix{ { 1, 2 }, { 3, 4 } }:save(tmp .. ".npy", "float64")
write("npy", "f64-2x2", read(tmp .. ".npy"))
os.remove(tmp .. ".npy")
write("npy", "i2-fortran", npy("{'descr': '<i2', 'fortran_order': True, 'shape': (2, 3), }",
  string.pack("<i2i2i2i2i2i2", 1, -2, 3, -4, 5, 300)))
write("npy", "u1-3d", npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 2), }",
  "\0\1\2\3\4\5\6\255"))
write("npy", "be-f8-v2", npy("{'descr': '>f8', 'fortran_order': False, 'shape': (3,), }",
  string.pack(">ddd", 1.5, -0.25, 1e10), 2))
write("npy", "bool-scalar", npy("{'descr': '|b1', 'fortran_order': False, 'shape': (), }", "\1"))
write("npy", "u8-empty", npy("{'descr': '<u8', 'fortran_order': False, 'shape': (0, 4), }", ""))

write("cifar", "one-record", "\3" .. string.rep("\128", 3072))
write("cifar", "two-records", "\0" .. string.rep("\1", 3072) .. "\9" .. string.rep("\255", 3072))
if has_gzip then write("cifar", "gzip", gzip("\5" .. string.rep("\7", 3072))) end

network{ 3, 2, 2, seed = 1 }:save(tmp .. ".dln")
write("net", "3-2-2", read(tmp .. ".dln"))
network{ 2, { 3, "relu" }, { 2, "softmax" }, cost = "cross_entropy", seed = 2 }:save(tmp .. ".dln")
write("net", "relu-softmax", read(tmp .. ".dln"))
-- per-neuron activations, frozen biases, three layers
local n3 = network{ 3, { 5, "tanh" }, 4, { 2, "softmax", c = 2 }, cost = "log_likelihood",
                    freeze = "b", seed = 3 }
n3.layers[1]:set_activation(2, "relu")
n3.layers[2]:set_activation(1, "linear")
n3:save(tmp .. ".dln")
write("net", "per-neuron-frozen", read(tmp .. ".dln"))
os.remove(tmp .. ".dln")

-- trainer checkpoints: mid-epoch with a validation set, momentum and a step
-- record; at an epoch's end without
local s, v = data.xor{ n = 12, seed = 1 }, data.xor{ n = 4, seed = 2 }
local t = trainer{ net = network{ 2, 3, 2, seed = 1 }, train = s, validation = v, batch = 4,
                   epochs = 2, momentum = 0.5, progress = false, record_steps = true }
t:step()
t:save(tmp .. ".ckpt")
write("trainer", "mid-epoch", read(tmp .. ".ckpt"))
local u = trainer{ net = network{ 2, 2, seed = 1 }, train = s, batch = 6, epochs = 1, progress = false }
u:run()
u:save(tmp .. ".ckpt")
write("trainer", "epoch-end", read(tmp .. ".ckpt"))
os.remove(tmp .. ".ckpt")
os.remove(tmp)
