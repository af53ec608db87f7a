--- deltalab.records: experiment records as JSON lines.
-- One run = one line of JSON (settings, seed, history, final figures, machine),
-- appended to a file; many files from many machines are merged by reading
-- them all. The JSON coder here is small and strict: it writes what records
-- need (tables, strings, numbers, booleans) and reads back any valid JSON.
--
--     > records = require "deltalab.records"
--     > records.append("runs.jsonl", {settings = {lr = 0.1}, final = {acc = 0.97}})
--     > for _, r in ipairs(records.read("runs.jsonl")) do print(r.final.acc) end
--     0.97
local sys = require "deltalab.sys"

local records = {}

local concat, format = table.concat, string.format

---------------------------------------------------------------------------
-- JSON encoding
---------------------------------------------------------------------------

local escapes = {
  ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
  ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t',
}

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or format("\\u%04x", c:byte())
  end) .. '"'
end

-- The shortest of %.15g / %.17g that reads back as the same double; NaN and
-- infinities have no JSON form and become null.
local function encode_number(x)
  if math.type(x) == "integer" then return format("%d", x) end
  if x ~= x or x == math.huge or x == -math.huge then return "null" end
  local s = format("%.15g", x)
  if tonumber(s) ~= x then s = format("%.17g", x) end
  return s
end

-- A table is an array when its keys are exactly 1..n (an empty table is an
-- empty object unless it was marked with records.array).
local array_mark = setmetatable({}, { __mode = "k" })

--- Mark table t so that it encodes as a JSON array even when empty.
function records.array(t)
  array_mark[t] = true
  return t
end

local function is_array(t)
  if array_mark[t] then return true end
  local n = 0
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 then return false end
    n = n + 1
  end
  return n > 0 and n == #t
end

local encode_value

local function encode_table(t, out, seen, path)
  if seen[t] then error("records: cannot encode a cycle at " .. path, 0) end
  seen[t] = true
  if is_array(t) then
    out[#out + 1] = "["
    for i = 1, #t do
      if i > 1 then out[#out + 1] = "," end
      encode_value(t[i], out, seen, path .. "[" .. i .. "]")
    end
    out[#out + 1] = "]"
  else
    local keys = {}
    for k in pairs(t) do
      local tk = type(k)
      if tk ~= "string" and tk ~= "number" then
        error(("records: cannot encode a %s key at %s"):format(tk, path), 0)
      end
      keys[#keys + 1] = tostring(k)
    end
    table.sort(keys)
    out[#out + 1] = "{"
    for i, k in ipairs(keys) do
      if i > 1 then out[#out + 1] = "," end
      local v = t[k]
      if v == nil then v = t[tonumber(k)] end
      out[#out + 1] = encode_string(k)
      out[#out + 1] = ":"
      encode_value(v, out, seen, path .. "." .. k)
    end
    out[#out + 1] = "}"
  end
  seen[t] = nil
end

function encode_value(v, out, seen, path)
  local tv = type(v)
  if tv == "string" then out[#out + 1] = encode_string(v)
  elseif tv == "number" then out[#out + 1] = encode_number(v)
  elseif tv == "boolean" then out[#out + 1] = tostring(v)
  elseif tv == "nil" then out[#out + 1] = "null"
  elseif tv == "table" then encode_table(v, out, seen, path)
  elseif tv == "userdata" and getmetatable(v) and getmetatable(v).__name == "matrix" then
    -- A matrix becomes a list of rows (small ones: confusion matrices).
    local r, c = v:shape()
    local rows = {}
    for i = 1, r do
      local row = {}
      for j = 1, c do row[j] = v:get(i, j) end
      rows[i] = row
    end
    encode_table(records.array(rows), out, seen, path)
  else
    error(("records: cannot encode a %s value at %s"):format(tv, path), 0)
  end
end

--- The JSON text of v (one line, object keys sorted).
-- @param v a table, string, number, boolean or nil; matrices become lists of rows
-- @treturn string
function records.encode(v)
  local out = {}
  encode_value(v, out, {}, "$")
  return concat(out)
end

---------------------------------------------------------------------------
-- JSON decoding
---------------------------------------------------------------------------

local function decode_error(s, pos, what)
  local line = select(2, s:sub(1, pos):gsub("\n", "")) + 1
  error(("records: %s at character %d (line %d)"):format(what, pos, line), 0)
end

local decode_value

local function skip(s, pos)
  return s:find("[^ \t\r\n]", pos) or #s + 1
end

local function decode_string(s, pos)
  local out, i = {}, pos + 1
  while true do
    local j = s:find('["\\]', i)
    if not j then decode_error(s, pos, "unterminated string") end
    out[#out + 1] = s:sub(i, j - 1)
    if s:sub(j, j) == '"' then return concat(out), j + 1 end
    local c = s:sub(j + 1, j + 1)
    local simple = { b = "\b", f = "\f", n = "\n", r = "\r", t = "\t",
                     ['"'] = '"', ["\\"] = "\\", ["/"] = "/" }
    if simple[c] then
      out[#out + 1] = simple[c]
      i = j + 2
    elseif c == "u" then
      local hex = s:sub(j + 2, j + 5)
      if not hex:match("^%x%x%x%x$") then decode_error(s, j, "bad \\u escape") end
      local cp = tonumber(hex, 16)
      i = j + 6
      if cp >= 0xD800 and cp <= 0xDBFF and s:sub(i, i + 1) == "\\u" then
        local lo = tonumber(s:sub(i + 2, i + 5), 16)
        if lo and lo >= 0xDC00 and lo <= 0xDFFF then
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
          i = i + 6
        end
      end
      out[#out + 1] = utf8.char(cp)
    else
      decode_error(s, j, "bad escape")
    end
  end
end

function decode_value(s, pos)
  pos = skip(s, pos)
  local c = s:sub(pos, pos)
  if c == "{" then
    local t = {}
    pos = skip(s, pos + 1)
    if s:sub(pos, pos) == "}" then return t, pos + 1 end
    while true do
      if s:sub(pos, pos) ~= '"' then decode_error(s, pos, "object key expected") end
      local k
      k, pos = decode_string(s, pos)
      pos = skip(s, pos)
      if s:sub(pos, pos) ~= ":" then decode_error(s, pos, "':' expected") end
      t[k], pos = decode_value(s, pos + 1)
      pos = skip(s, pos)
      local d = s:sub(pos, pos)
      if d == "}" then return t, pos + 1 end
      if d ~= "," then decode_error(s, pos, "',' or '}' expected") end
      pos = skip(s, pos + 1)
    end
  elseif c == "[" then
    local t = records.array({})
    pos = skip(s, pos + 1)
    if s:sub(pos, pos) == "]" then return t, pos + 1 end
    while true do
      local v
      v, pos = decode_value(s, pos)
      t[#t + 1] = v == nil and (0 / 0) or v   -- null in a list: NaN keeps positions
      pos = skip(s, pos)
      local d = s:sub(pos, pos)
      if d == "]" then return t, pos + 1 end
      if d ~= "," then decode_error(s, pos, "',' or ']' expected") end
      pos = pos + 1
    end
  elseif c == '"' then
    return decode_string(s, pos)
  elseif s:find("^true", pos) then return true, pos + 4
  elseif s:find("^false", pos) then return false, pos + 5
  elseif s:find("^null", pos) then return nil, pos + 4
  else
    local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
    local x = num and tonumber(num)
    if not x then decode_error(s, pos, "unexpected " .. (c == "" and "end of text" or "'" .. c .. "'")) end
    return x, pos + #num
  end
end

--- The value of JSON text s (null inside a list reads as NaN, elsewhere as nil).
-- @tparam string s
function records.decode(s)
  local v, pos = decode_value(s, 1)
  pos = skip(s, pos)
  if pos <= #s then decode_error(s, pos, "trailing text") end
  return v
end

---------------------------------------------------------------------------
-- Record files
---------------------------------------------------------------------------

--- Facts about this machine for a record: host, cpu, cores, the kernels in
-- use (`deltalab.isa`), deltalab's version, Lua's.
function records.machine()
  local m = { host = sys.hostname() or os.getenv("HOSTNAME") }
  local f = io.open("/proc/cpuinfo")
  if f then
    local n = 0
    for line in f:lines() do
      if line:match("^processor") then n = n + 1 end
      if not m.cpu then m.cpu = line:match("^model name%s*:%s*(.-)%s*$") end
    end
    f:close()
    m.cores = n > 0 and n or nil
  end
  local info = require("deltalab.sys").info()
  m.isa, m.version, m.threads = info.isa, info.version, info.threads
  m.lua = _VERSION
  return m
end

--- Append one record to path as a line of JSON. The file is replaced whole
-- through an atomic save (sys.write_atomic with append): a kill or a full
-- disk leaves the old records intact and no partial line, and concurrent
-- writers (one per grid cell) each add their line under the save's lock.
-- @tparam string path
-- @tparam table rec
-- fname and level (optional) name the user's function in messages and place
-- them at its caller, for the trainer methods that call this one.
function records.append(path, rec, fname, level)
  fname, level = fname or "append", (level or 1) + 1
  if type(path) ~= "string" then
    error(("bad argument #1 to '%s' (string expected, got %s)"):format(fname, type(path)), level)
  end
  if type(rec) ~= "table" then
    error(("bad argument #2 to '%s' (table expected, got %s)"):format(fname, type(rec)), level)
  end
  local ok, err = sys.write_atomic(path, records.encode(rec) .. "\n", { append = true })
  if not ok then error(fname .. ": cannot write record file " .. err, level) end
end

-- The files a path stands for: itself, or a directory's *.jsonl files in
-- name order.
local function expand(path)
  local names = sys.listdir(path)
  if not names then return { path } end
  local out = {}
  for _, name in ipairs(names) do
    if name:match("%.jsonl$") then out[#out + 1] = path:gsub("/+$", "") .. "/" .. name end
  end
  return out
end

--- All records in one file or a list of files, in order; a directory stands
-- for its *.jsonl files (in name order). A last line that is not valid JSON
-- (a run killed mid-write) is skipped with a warning on stderr naming its
-- file and line; such a line anywhere else is an error.
-- @param paths a path or a list of paths
-- @treturn table list of records
-- (fname and level as for records.append)
function records.read(paths, fname, level)
  fname, level = fname or "read", (level or 1) + 1
  if type(paths) == "string" then paths = { paths } end
  if type(paths) ~= "table" then
    error(("bad argument #1 to '%s' (string or table expected, got %s)"):format(fname, type(paths)), level)
  end
  local out = {}
  for i, given in ipairs(paths) do
    if type(given) ~= "string" then
      error(("bad argument #1 to '%s' (path %d is a %s, not a string)"):format(fname, i, type(given)), level)
    end
    for _, path in ipairs(expand(given)) do
      local f, err = io.open(path)
      if not f then error(fname .. ": cannot open record file " .. err, level) end
      local lines = {}
      for line in f:lines() do lines[#lines + 1] = line end
      f:close()
      local last = #lines
      while last > 0 and not lines[last]:find("%S") do last = last - 1 end
      for n = 1, last do
        local line = lines[n]
        if line:find("%S") then
          local ok, rec = pcall(records.decode, line)
          if ok and type(rec) == "table" then
            out[#out + 1] = rec
          elseif n == last then
            io.stderr:write(("%s: %s:%d: skipped a torn last line (%s)\n"):format(
              fname, path, n, ok and "not an object" or rec))
          else
            error(("%s: %s:%d: not a record (%s)"):format(fname, path, n, ok and "not an object" or rec), level)
          end
        end
      end
    end
  end
  return out
end

return records
