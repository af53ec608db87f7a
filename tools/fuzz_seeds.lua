-- fuzz_seeds.lua — write the fuzzers' seed corpus: small valid files of each
-- format, made by deltalab itself (its own writers where it has one, the
-- format's layout with string.pack where it only reads the format).
--
--   deltalab tools/fuzz_seeds.lua tests/fuzz/corpus
local out = assert(arg[1], "usage: deltalab tools/fuzz_seeds.lua DIR")

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

-- The CSV harness reads its settings from two leading bytes: separator
-- index (0 ',', 1 ';', 2 tab) + 8 × (header mode + 1), then the label column
-- (0x80: none; else low nibble − 8, so 7 is the last column, 8 the first).
local function csv(sep, header, label) return string.char(sep + 8 * (header + 1), label) end
write("csv", "header-label", csv(0, -1, 7) .. "x,y,label\n0.5,1.5,cat\n2,3,dog\n")
write("csv", "numbers", csv(0, 0, 0x80) .. "1,2,3\n4,5,6\n\n7,8,9\n")
write("csv", "semicolon", csv(1, 1, 8) .. "a;b\n1.5e3;-2\n")

local tmp = os.tmpname()
matrix{ { 1, 2, 3 }, { 4, 5, 6 } }:save(tmp .. ".npy")
write("npy", "f32-2x3", read(tmp .. ".npy"))
os.remove(tmp .. ".npy")

write("cifar", "one-record", "\3" .. string.rep("\128", 3072))
write("cifar", "two-records", "\0" .. string.rep("\1", 3072) .. "\9" .. string.rep("\255", 3072))

network{ 3, 2, 2, seed = 1 }:save(tmp .. ".dln")
write("net", "3-2-2", read(tmp .. ".dln"))
network{ 2, { 3, "relu" }, { 2, "softmax" }, cost = "cross_entropy", seed = 2 }:save(tmp .. ".dln")
write("net", "relu-softmax", read(tmp .. ".dln"))
os.remove(tmp .. ".dln")
os.remove(tmp)
