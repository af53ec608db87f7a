--- deltalab.complete: what the Tab key offers at the prompt.
--
-- The REPL (src/main.c) asks for the candidates of the word before the cursor:
--
--     > m = matrix.zeros(2, 2)
--     > m:ha<Tab>            --> m:hadamard
--     > matrix.z<Tab>        --> matrix.zeros
--
-- A word is a dotted path, optionally ending in `:name`. Fields are looked up
-- in tables and through metatables whose `__index` is a table (or, when it is
-- a function, whose `__methods` is), so the methods of userdata (a matrix) and
-- of Lua objects (a figure) complete too. Nothing
-- here calls a function or an `__index` function: Tab never runs user code.

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

-- Every identifier key reachable from v the way field() looks: name -> value.
local function fields(v)
  local out = {}
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

--- The completions of word, sorted: full words that start with it.
-- @tparam string word e.g. `"mat"`, `"matrix.ze"`, `"m:had"`
-- @treturn {string,...} the candidates (empty when there are none)
-- @usage complete.candidates("matrix.ze")  --> {"matrix.zeros"}
function complete.candidates(word)
  if type(word) ~= "string" then
    error(("bad argument #1 to 'candidates' (string expected, got %s)"):format(type(word)), 2)
  end
  local out = {}
  local path, sep, partial = word:match("^([%a_][%w_%.]*)([%.:])([%w_]*)$")
  if path then
    local v = _G
    for name in path:gmatch("[^.]+") do
      if not name:match("^[%a_][%w_]*$") then return out end
      v = field(v, name)
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
