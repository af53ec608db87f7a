--- deltalab.complete: what the Tab key offers at the prompt.
--
-- The REPL (src/main.c) asks for the candidates of the word before the cursor:
--
--     > m = matrix.zeros(2, 2)
--     > m:ha<Tab>            --> m:hadamard
--     > matrix.z<Tab>        --> matrix.zeros
--     > net.layers[2]:de<Tab>  --> net.layers[2]:delta_of
--
-- A word is a path from a global through `.name`, `[1]`, `["key"]` or
-- `[name]` (a global holding a number or string), optionally ending in `.name`
-- or `:name`. Each step is looked up without running user code: in a table,
-- its raw fields, then its metatable's `__index` when that is a table, and so
-- on; in a userdata of deltalab's own types (its metatable is the one
-- registered under its `__name`, with a C `__index`), that `__index` itself,
-- which only reads (net.layers, x[1] a row view). Candidates come from the
-- value found: raw fields, `__index` tables, and the `__methods` and
-- `__fields` lists deltalab's C types keep. A call in the path, a user's
-- `__index` function or any other userdata stops the completion: Tab never
-- calls a function the user wrote.
local complete = {}

local keywords = {
  "and", "break", "do", "else", "elseif", "end", "false", "for", "function",
  "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then",
  "true", "until", "while",
}

local MAX_DEPTH = 16  -- __index chains longer than this are cut (and cycles)

-- Where v's methods are: its metatable's __index when that is a table, else
-- the metatable's __methods table (deltalab's C types keep them there when
-- __index must be a function, as m[i] needs).
local function methods_of(v)
  local mt = getmetatable(v)
  if type(mt) ~= "table" then return nil end
  local index = rawget(mt, "__index")
  if type(index) == "table" then return index end
  index = rawget(mt, "__methods")
  if type(index) == "table" then return index end
end

-- The value of field `name` of v, found without running any code: a raw field
-- of a table, else the same in its metatable's __index table, and so on.
local function field(v, name)
  for _ = 1, MAX_DEPTH do
    if type(v) == "table" then
      local x = rawget(v, name)
      if x ~= nil then return x end
    end
    v = methods_of(v)
    if v == nil then return nil end
  end
end

-- Every identifier key reachable from v the way field() looks: name -> value
-- (for deltalab's C types also the names of their computed fields, which
-- their metatable lists in __fields).
local function fields(v)
  local out = {}
  local mt = getmetatable(v)
  if type(mt) == "table" and type(rawget(mt, "__fields")) == "table" then
    for _, k in ipairs(rawget(mt, "__fields")) do out[k] = true end
  end
  for _ = 1, MAX_DEPTH do
    if type(v) == "table" then
      for k, x in next, v do
        if type(k) == "string" and k:match("^[%a_][%w_]*$") and out[k] == nil then
          out[k] = x
        end
      end
    end
    v = methods_of(v)
    if v == nil then break end
  end
  return out
end

-- Whether v is a userdata of one of deltalab's own types, whose __index
-- (C code of deltalab's, which only reads) may run: its metatable is the one
-- the registry holds under its __name, and __index is a C function.
local function own_userdata(v)
  if type(v) ~= "userdata" then return nil end
  local mt = getmetatable(v)
  if type(mt) ~= "table" then return nil end
  local name, index = rawget(mt, "__name"), rawget(mt, "__index")
  if type(name) ~= "string" or type(index) ~= "function" then return nil end
  if debug.getregistry()[name] ~= mt or debug.getinfo(index, "S").what ~= "C" then return nil end
  return index
end

-- v[key] found without running user code (nil when it cannot be).
local function index(v, key)
  local own = own_userdata(v)
  if own then
    local ok, x = pcall(own, v, key)
    if ok then return x end
    return nil
  end
  if type(v) == "table" and type(key) ~= "string" then return rawget(v, key) end
  if type(key) == "string" then return field(v, key) end
end

-- The steps of a path: "net.layers[2]" -> {"net", "layers", 2}; nil if the
-- text is not such a path (a call, an operator, an unfinished bracket).
local function steps_of(path)
  local name, pos = path:match("^([%a_][%w_]*)()")
  if not name then return nil end
  local steps = { name }
  while pos <= #path do
    local key, nxt = path:match("^%.([%a_][%w_]*)()", pos)
    if not key then
      local num
      num, nxt = path:match("^%[%s*(%-?%d+)%s*%]()", pos)
      key = num and math.tointeger(tonumber(num))
    end
    if not key then key, nxt = path:match('^%[%s*"([^"\\]*)"%s*%]()', pos) end
    if not key then key, nxt = path:match("^%[%s*'([^'\\]*)'%s*%]()", pos) end
    if not key then
      local var
      var, nxt = path:match("^%[%s*([%a_][%w_]*)%s*%]()", pos)
      if var then
        key = rawget(_G, var)
        if type(key) ~= "number" and type(key) ~= "string" then return nil end
      end
    end
    if key == nil then return nil end
    steps[#steps + 1] = key
    pos = nxt
  end
  return steps
end

--- The completions of word, sorted: full words that start with it.
-- @tparam string word e.g. `"mat"`, `"matrix.ze"`, `"m:had"`, `"net.layers[2]:de"`
-- @treturn {string,...} the candidates (empty when there are none)
-- @usage complete.candidates("matrix.ze")  --> {"matrix.zeros"}
function complete.candidates(word)
  if type(word) ~= "string" then
    error(("bad argument #1 to 'candidates' (string expected, got %s)"):format(type(word)), 2)
  end
  local out = {}
  local path, sep, partial = word:match("^(.-)([%.:])([%w_]*)$")
  local steps = path and path ~= "" and steps_of(path)
  if steps then
    local v = _G
    for i, key in ipairs(steps) do
      if i == 1 then v = field(v, key) else v = index(v, key) end
      if v == nil then return out end
    end
    local hidden = partial:sub(1, 2) ~= "__"  -- metamethods only when asked for
    for k, x in pairs(fields(v)) do
      if k:sub(1, #partial) == partial and (sep == "." or type(x) == "function")
          and not (hidden and k:sub(1, 2) == "__") then
        out[#out + 1] = path .. sep .. k
      end
    end
  elseif word:match("^[%a_]?[%w_]*$") then
    for k in pairs(fields(_G)) do
      if k:sub(1, #word) == word then out[#out + 1] = k end
    end
    for _, k in ipairs(keywords) do
      if k:sub(1, #word) == word then out[#out + 1] = k end
    end
  end
  table.sort(out)
  return out
end

return complete
