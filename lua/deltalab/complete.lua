--- deltalab.complete: what the Tab key offers at the prompt.
--
-- The REPL (src/main.c) asks for the candidates of the word before the cursor:
--
--     > m = matrix.zeros(2, 2)
--     > m:ha<Tab>            --> m:hadamard
--     > matrix.z<Tab>        --> matrix.zeros
--
-- A word is a dotted path, optionally ending in `:name`. Fields are looked up
-- in tables and through metatables whose `__index` is a table, so the methods
-- of userdata (a matrix) and of Lua objects (a figure) complete too. Nothing
-- here calls a function or an `__index` function: Tab never runs user code.

local complete = {}

local keywords = {
  "and", "break", "do", "else", "elseif", "end", "false", "for", "function",
  "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then",
  "true", "until", "while",
}

local MAX_DEPTH = 16  -- __index chains longer than this are cut (and cycles)

-- The value of field `name` of v, found without running any code: a raw field
-- of a table, else the same in its metatable's __index table, and so on.
-- A metatable's methods: its __index when that is a table, else its
-- __methods (types whose __index is a function, like matrix, keep their
-- methods table there so that help and completion can list it).
local function methods_of(mt)
  local index = rawget(mt, "__index")
  if type(index) == "table" then return index end
  index = rawget(mt, "__methods")
  return type(index) == "table" and index or nil
end

local function field(v, name)
  for _ = 1, MAX_DEPTH do
    if type(v) == "table" then
      local x = rawget(v, name)
      if x ~= nil then return x end
    end
    local mt = getmetatable(v)
    if type(mt) ~= "table" then return nil end
    local index = methods_of(mt)
    if not index then return nil end
    v = index
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
    local mt = getmetatable(v)
    if type(mt) ~= "table" then break end
    local index = methods_of(mt)
    if not index then break end
    v = index
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
    for k, x in pairs(fields(v)) do
      if k:sub(1, #partial) == partial and (sep == "." or type(x) == "function") then
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
