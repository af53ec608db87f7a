--- deltalab.show: how the prompt prints a value it does not print itself.
--
-- The REPL (src/main.c) prints results with the global print; a table would
-- read `table: 0x5581...`, so it is first turned into its contents here,
-- bounded and nested one level, the way trepl does:
--
--     > t.history
--     {
--       lr = {0.1, 0.1, 0.1},
--       train_loss = {0.3541, 0.1762, 0.1383},
--       ...
--     }
--     > {1, 2, 3}
--     {1, 2, 3}
--
-- Numbers print as tostring does, except that every NaN reads `nan` (C's
-- printf writes `-nan` for one with the sign bit set, which 0/0 has on x86).
-- Nothing here calls a value's methods other than its __tostring.

local show = {}

local MAX_ENTRIES = 40   -- entries of a table shown before "… N more"
local MAX_INLINE = 72    -- a table fits on one line up to this many characters
local MAX_STRING = 60    -- characters of a string shown inside a table

local function number(x)
  if x ~= x then return "nan" end
  return tostring(x)
end

-- One line for a value inside a table: strings quoted and cut, a value with
-- a multi-line __tostring (a matrix) by its last line, "[matrix 2x3]".
local function scalar(v)
  local t = type(v)
  if t == "number" then return number(v) end
  if t == "string" then
    if #v > MAX_STRING then return ("%q…"):format(v:sub(1, MAX_STRING)) end
    return (("%q"):format(v):gsub("\\\n", "\\n"))
  end
  local ok, s = pcall(tostring, v)
  if not ok or type(s) ~= "string" then return "<" .. t .. ">" end
  if s:find("\n") then s = s:match("([^\n]*)$") end
  return s
end

local function is_identifier(k)
  return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil
end

local function key_text(k)
  if is_identifier(k) then return k end
  return "[" .. scalar(k) .. "]"
end

-- The keys of t in print order: 1..n first, then the rest sorted by text.
local function keys_of(t)
  local n, keys, rest = #t, {}, {}
  for i = 1, n do keys[i] = i end
  for k in next, t do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then rest[#rest + 1] = k end
  end
  table.sort(rest, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta < tb end
    if ta == "number" or ta == "string" then return a < b end
    return tostring(a) < tostring(b)
  end)
  for _, k in ipairs(rest) do keys[#keys + 1] = k end
  return keys, n
end

local function has_tostring(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__tostring") ~= nil
end

-- t on one line, its tables as {…}: "{1, 2, x = 3}", or nil if too long.
local function inline(t, depth)
  local keys, n = keys_of(t)
  local parts = {}
  for i, k in ipairs(keys) do
    if i > MAX_ENTRIES then
      parts[#parts + 1] = ("… %d more"):format(#keys - MAX_ENTRIES)
      break
    end
    local v, text = rawget(t, k), nil
    if type(v) == "table" and not has_tostring(v) then
      text = depth > 0 and inline(v, depth - 1) or (next(v) == nil and "{}" or "{…}")
      if not text then return nil end
    else
      text = scalar(v)
    end
    parts[#parts + 1] = i <= n and text or key_text(k) .. " = " .. text
  end
  local s = "{" .. table.concat(parts, ", ") .. "}"
  if #s > MAX_INLINE then return nil end
  return s
end

--- A table's contents as text: one line when short, else one entry a line,
-- nested tables one level deep (deeper ones as `{…}`), at most 40 entries.
-- @param t a table
-- @treturn string
-- @usage show.table({1, 2, x = {3}})  --> "{1, 2, x = {3}}"
function show.table(t)
  local one = inline(t, 1)
  if one then return one end
  local keys, n = keys_of(t)
  local lines = { "{" }
  for i, k in ipairs(keys) do
    if i > MAX_ENTRIES then
      lines[#lines + 1] = ("  … %d more"):format(#keys - MAX_ENTRIES)
      break
    end
    local v, text = rawget(t, k), nil
    if type(v) == "table" and not has_tostring(v) then
      text = inline(v, 0)
      if not text then
        local count = 0
        for _ in next, v do count = count + 1 end
        text = ("{… %d entries}"):format(count)
      end
    else
      text = scalar(v)
    end
    lines[#lines + 1] = "  " .. (i <= n and "" or key_text(k) .. " = ") .. text .. ","
  end
  lines[#lines + 1] = "}"
  return table.concat(lines, "\n")
end

--- What the prompt prints for v: a table's contents (unless it has its own
-- __tostring), `nan` for every NaN, else v itself (print formats it).
-- @param v any value
-- @return a string, or v unchanged
function show.value(v)
  if type(v) == "table" and not has_tostring(v) then return show.table(v) end
  if type(v) == "number" and v ~= v then return "nan" end
  return v
end

return show
