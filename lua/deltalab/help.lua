--- deltalab.help: help(x) prints the documentation of x, taken from doc/*.md.
--
--     > help(matrix.zeros)         -- a function: its reference entry
--     > help "network:step"        -- the same by name
--     > help(matrix)               -- a module: its overview and its entries
--     > help()                     -- a guide to the prompt and the modules
--
-- The doc pages are the one source of truth. A heading
--
--     ### `matrix.zeros(rows, cols)`       a module function
--     ### `matrix:hadamard(other)`         a method (type name, colon, method)
--
-- starts a reference entry, which runs to the next heading; a page opens with
-- a `# ` title and an overview. A function value is mapped to its name by
-- scanning the modules (help.modules) and the method tables of the registered
-- types: C metatables in the registry (their `__name`, and `__index` if it is
-- a table, else `__methods`) and Lua types registered with help.type(name, methods). The pages are read on
-- the first call and kept; help.reload() forgets them.
--
-- The docs are found in $DELTALAB_DOC, else beside the Lua files: doc/ in the
-- source tree, PREFIX/share/doc/deltalab after `make install`. Setting
-- help.docdir overrides all of these.

local help = {}

--- The modules scanned to name functions, in order of preference: the global
-- of that name, else package.loaded["deltalab." .. name].
help.modules = { "matrix", "network", "trainer", "data", "plot", "cli", "sys", "help", "deltalab" }

--- The doc directory in use (nil: found automatically on first use).
help.docdir = nil

local MANUAL = "https://www.lua.org/manual/5.4/manual.html#pdf-"
local STDLIB = { "string", "table", "math", "io", "os", "coroutine", "utf8", "debug", "package" }
local BASE = {
  "assert", "collectgarbage", "dofile", "error", "getmetatable", "ipairs", "load", "loadfile",
  "next", "pairs", "pcall", "print", "rawequal", "rawget", "rawlen", "rawset", "require",
  "select", "setmetatable", "tonumber", "tostring", "type", "warn", "xpcall",
}

local lua_types = {}   -- name -> methods table, from help.type
local docs             -- the parsed pages, see load_docs
local names            -- value -> {qualified name, ...}, see scan_names

------------------------------------------------------------------ finding the pages

local function readable(path)
  local f = io.open(path, "r")
  if f then f:close() end
  return f ~= nil
end

-- The directory of this file, from the chunk name Lua gave it ("@path").
local function here()
  local src = debug.getinfo(1, "S").source
  return src:match("^@(.*)/[^/]*$") or "."
end

local function find_docdir()
  if help.docdir then return help.docdir end
  local dir = here()
  local candidates = { os.getenv("DELTALAB_DOC"), dir .. "/../../doc", dir .. "/../../../doc/deltalab" }
  for i = 1, 3 do
    local d = candidates[i]
    if d and d ~= "" and (readable(d .. "/README.md") or readable(d .. "/repl.md")) then
      return d
    end
  end
  return nil, "the documentation was not found (looked in " .. dir .. "/../../doc and "
    .. dir .. "/../../../doc/deltalab); set DELTALAB_DOC to the doc/ directory"
end

-- "matrix.zeros(rows, cols)" -> "matrix.zeros"; "plot.lines{...}" -> "plot.lines"
local function key_of(signature)
  return signature:match("^[%a_][%w_]*[%.:][%a_][%w_]*") or signature:match("^[%a_][%w_]*")
    or signature
end

--[[
A page: { name = "matrix", title = "matrix — ...", overview = {lines},
          lines = {all lines}, entries = {entry, ...} }
An entry: { signature = "matrix.zeros(rows, cols)", key = "matrix.zeros",
            lines = {body lines}, page = page }
]]
local function parse_page(path, name)
  local f = io.open(path, "r")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  local page = { name = name, title = name, overview = {}, lines = {}, entries = {} }
  local into = nil       -- the list the next text lines go to
  local fenced = false   -- inside ``` ... ```, where "#" starts no heading
  local titled = false
  for line in (text:gsub("\r", "") .. "\n"):gmatch("(.-)\n") do
    page.lines[#page.lines + 1] = line
    local level, head
    if not fenced then level, head = line:match("^(#+)%s+(.-)%s*$") end
    if line:match("^%s*```") or line:match("^%s*~~~") then fenced = not fenced end
    if level and #level <= 3 then
      into = nil
      if #level == 1 and not titled then
        titled = true
        page.title = head:gsub("`", "")
        into = page.overview
      elseif #level == 3 then
        local signature = head:match("^`([^`]+)`")
        if signature then
          local entry = { signature = signature, key = key_of(signature), lines = {}, page = page }
          page.entries[#page.entries + 1] = entry
          into = entry.lines
        end
      end
    elseif into then
      into[#into + 1] = line
    end
  end
  return page
end

-- The *.md files of dir, through ls (Lua cannot list a directory); nil when
-- that fails, and then the links between pages are all there is to go on.
local function list_dir(dir)
  local ok, pipe = pcall(io.popen, "ls -1 -- '" .. dir:gsub("'", "'\\''") .. "' 2>/dev/null")
  if not ok or not pipe then return nil end
  local out = {}
  for file in pipe:lines() do
    local name = file:match("^([%w_%-]+)%.md$")
    if name then out[#out + 1] = name end
  end
  pipe:close()
  return out
end

-- Every page: those doc/README.md links to, one per module, repl and help, the
-- pages they link to, and the other *.md files of the directory.
local function load_docs()
  local dir, err = find_docdir()
  if not dir then return nil, err end
  if docs and docs.dir == dir then return docs end
  docs = { dir = dir, pages = {}, byname = {}, entries = {} }
  local wanted, seen = {}, {}
  local function want(name)
    if not seen[name] then seen[name] = true; wanted[#wanted + 1] = name end
  end
  local f = io.open(dir .. "/README.md", "r")
  if f then
    for name in f:read("a"):gmatch("%]%(([%w_%-]+)%.md%)") do want(name) end
    f:close()
  end
  for _, m in ipairs(help.modules) do want(m) end
  want("repl"); want("help")
  local listed = list_dir(dir) or {}
  table.sort(listed)
  for _, name in ipairs(listed) do
    if name ~= "README" then want(name) end
  end
  local i = 1
  while wanted[i] do
    local name = wanted[i]
    local page = parse_page(dir .. "/" .. name .. ".md", name)
    if page then
      docs.pages[#docs.pages + 1] = page
      docs.byname[name] = page
      for _, e in ipairs(page.entries) do
        for _, k in ipairs(e.key == e.signature and { e.key } or { e.key, e.signature }) do
          docs.entries[k] = docs.entries[k] or {}
          table.insert(docs.entries[k], e)
        end
      end
      for _, line in ipairs(page.lines) do
        for link in line:gmatch("%]%(([%w_%-]+)%.md[#%)]") do
          if link ~= "README" then want(link) end
        end
      end
    end
    i = i + 1
  end
  return docs
end

------------------------------------------------------------------ naming values

-- The methods table of a metatable: __index when it is a table, else
-- __methods (deltalab's C types keep them there when __index is a function).
local function methods_in(mt)
  local index = rawget(mt, "__index")
  if type(index) == "table" then return index end
  index = rawget(mt, "__methods")
  if type(index) == "table" then return index end
end

-- Fields of v as complete.lua sees them: raw fields, then those of the
-- methods tables of its metatables. No code runs.
local function fields(v)
  local out = {}
  for _ = 1, 16 do
    if type(v) == "table" then
      for k, x in next, v do
        if type(k) == "string" and out[k] == nil then out[k] = x end
      end
    end
    local mt = getmetatable(v)
    if type(mt) ~= "table" then break end
    v = methods_in(mt)
    if v == nil then break end
  end
  return out
end

local function field(v, name)
  return fields(v)[name]
end

-- The types whose methods help can name: C metatables in the registry
-- (luaL_newmetatable sets __name) with a methods table, and help.type's.
local function registered_types()
  local out = {}
  for k, v in pairs(debug.getregistry()) do
    if type(k) == "string" and type(v) == "table" and rawget(v, "__name") == k
        and methods_in(v) then
      out[k] = methods_in(v)
    end
  end
  for k, v in pairs(lua_types) do out[k] = v end
  return out
end

local function module_value(name)
  return rawget(_G, name) or package.loaded["deltalab." .. name]
    or (name == "deltalab" and package.loaded.deltalab) or nil
end

local function scan_names()
  local index = {}
  local function add(v, name, kind)
    local t = type(v)
    if t == "function" or t == "table" or t == "userdata" then
      index[v] = index[v] or {}
      table.insert(index[v], { name = name, kind = kind })
    end
  end
  for _, m in ipairs(help.modules) do
    local mod = module_value(m)
    if mod then
      add(mod, m, "module")
      for k, v in pairs(fields(mod)) do
        if type(k) == "string" and not k:match("^__") then add(v, m .. "." .. k, "function") end
      end
    end
  end
  for tname, methods in pairs(registered_types()) do
    for k, v in pairs(methods) do
      if type(k) == "string" and type(v) == "function" then add(v, tname .. ":" .. k, "method") end
    end
  end
  for _, lib in ipairs(STDLIB) do
    local t = rawget(_G, lib)
    if type(t) == "table" then
      for k, v in pairs(t) do
        if type(k) == "string" then add(v, lib .. "." .. k, "lua") end
      end
    end
  end
  for _, k in ipairs(BASE) do add(rawget(_G, k), k, "lua") end
  return index
end

-- The names of value v; rescanned once when v is not known (modules grow).
local function names_of(v)
  if not names or not names[v] then names = scan_names() end
  return names[v]
end

------------------------------------------------------------------ formatting

-- Markdown for the terminal: code blocks indented instead of fenced, blank
-- lines at both ends and doubled blank lines dropped.
local function format(lines)
  local out, fenced = {}, false
  for _, line in ipairs(lines) do
    if line:match("^%s*```") or line:match("^%s*~~~") then
      fenced = not fenced
    elseif fenced then
      out[#out + 1] = "    " .. line
    elseif not (line == "" and (#out == 0 or out[#out] == "")) then
      out[#out + 1] = line
    end
  end
  while out[#out] == "" do out[#out] = nil end
  return table.concat(out, "\n")
end

local function entry_text(list)
  local parts = {}
  for _, e in ipairs(list) do
    local body = format(e.lines)
    parts[#parts + 1] = e.signature .. (body ~= "" and "\n\n" .. body or "")
  end
  return table.concat(parts, "\n\n")
end

local function entries_with_prefix(d, name)
  local out, seen = {}, {}
  for _, page in ipairs(d.pages) do
    for _, e in ipairs(page.entries) do
      local p = e.key:sub(1, #name + 1)
      if (p == name .. "." or p == name .. ":") and not seen[e] then
        seen[e] = true
        out[#out + 1] = e
      end
    end
  end
  return out
end

local function listing(list)
  local out = {}
  for _, e in ipairs(list) do out[#out + 1] = "  " .. e.signature end
  return table.concat(out, "\n")
end

-- The page of module name: doc/<name>.md, else the page holding most of the
-- entries that start with "name." or "name:" (trainer's is training.md).
local function module_page(d, name, prefixed)
  if d.byname[name] then return d.byname[name] end
  local count, best = {}, nil
  for _, e in ipairs(prefixed) do
    count[e.page] = (count[e.page] or 0) + 1
    if not best or count[e.page] > count[best] then best = e.page end
  end
  return best
end

-- A module: its page's title and overview, then the list of its entries (the
-- page's, and those elsewhere that start with "name." or "name:").
local function module_text(d, name)
  local prefixed = entries_with_prefix(d, name)
  local page = module_page(d, name, prefixed)
  local list, seen = {}, {}
  if page then
    for _, e in ipairs(page.entries) do seen[e] = true; list[#list + 1] = e end
  end
  for _, e in ipairs(prefixed) do
    if not seen[e] then list[#list + 1] = e end
  end
  local out = {}
  if page then
    out[#out + 1] = page.title
    local overview = format(page.overview)
    if overview ~= "" then out[#out + 1] = "\n" .. overview end
  else
    out[#out + 1] = name .. ": no documentation page yet"
  end
  if #list > 0 then
    out[#out + 1] = ("\nReference (help \"%s\" for one entry):\n%s"):format(list[1].key, listing(list))
  else
    local mod, fns = module_value(name), {}
    for k, v in pairs(mod and fields(mod) or {}) do
      if type(v) == "function" and not k:match("^__") then fns[#fns + 1] = "  " .. name .. "." .. k end
    end
    table.sort(fns)
    if #fns > 0 then out[#out + 1] = "\nFunctions (not documented yet):\n" .. table.concat(fns, "\n") end
  end
  return table.concat(out, "\n")
end

-- A type (matrix, network, dataset...): the entries "type:method", and the
-- methods that have none.
local function type_text(d, tname, methods)
  -- A value's entries are its methods (type:m) and fields (layer.W), not the
  -- functions of the module of the same name (matrix.zeros is no method).
  local mod, list = module_value(tname), {}
  for _, e in ipairs(entries_with_prefix(d, tname)) do
    local sep, k = e.key:sub(#tname + 1, #tname + 1), e.key:sub(#tname + 2)
    if sep == ":" or not (type(mod) == "table" and type(rawget(mod, k)) == "function") then
      list[#list + 1] = e
    end
  end
  local out = { ("%s — a value of type %s"):format(tname, tname) }
  if #list > 0 then
    out[#out + 1] = ("\nMethods (help \"%s\" for one):\n%s"):format(list[1].key, listing(list))
  end
  local missing = {}
  for k, v in pairs(methods or {}) do
    if type(v) == "function" and not k:match("^_")
        and not (d.entries[tname .. ":" .. k] or d.entries[tname .. "." .. k]) then
      missing[#missing + 1] = "  " .. tname .. ":" .. k
    end
  end
  table.sort(missing)
  if #missing > 0 then
    out[#out + 1] = "\nNot documented yet:\n" .. table.concat(missing, "\n")
  end
  return table.concat(out, "\n")
end

local function page_text(page)
  return format(page.lines)
end

local function lua_text(name)
  return ("%s is part of Lua's standard library; see the Lua 5.4 manual:\n  %s%s")
    :format(name, MANUAL, name)
end

------------------------------------------------------------------ lookups

-- Levenshtein distance, for "did you mean".
local function distance(a, b)
  if math.abs(#a - #b) > 3 then return 99 end
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

local function suggestions(d, word)
  local keys, seen = {}, {}
  local function consider(k)
    if seen[k] then return end
    seen[k] = true
    local last = k:match("[%.:]([%w_]+)$") or k
    local wlast = word:match("[%.:]([%w_]+)$") or word
    if (#wlast >= 3 and (k:find(wlast, 1, true) or last:find(wlast, 1, true)))
        or distance(last:lower(), wlast:lower()) <= (#wlast > 4 and 2 or 1) then
      keys[#keys + 1] = k
    end
  end
  for _, page in ipairs(d.pages) do
    consider(page.name)
    for _, e in ipairs(page.entries) do consider(e.key) end
  end
  for _, m in ipairs(help.modules) do consider(m) end
  names = names or scan_names()
  for _, list in pairs(names) do
    for _, n in ipairs(list) do
      if n.kind ~= "lua" then consider(n.name) end
    end
  end
  table.sort(keys)
  while #keys > 6 do keys[#keys] = nil end
  return keys
end

-- The registered type a value belongs to, if any: name, methods.
local function type_of(x)
  local mt = getmetatable(x)
  if type(mt) ~= "table" then return nil end
  local tname = rawget(mt, "__name")
  local all = registered_types()
  if type(tname) == "string" and all[tname] then return tname, all[tname] end
  local index = methods_in(mt)
  for k, methods in pairs(lua_types) do
    if mt == methods or index == methods then return k, methods end
  end
  if type(tname) == "string" then return tname, index end
end

local describe

-- A topic given as a string: a module, a page, an entry, a type, or a name
-- that leads to a value.
local function topic(d, s)
  s = s:match("^%s*(.-)%s*$"):gsub("%(%)$", "")
  for _, m in ipairs(help.modules) do
    if s == m then return module_text(d, s) end
  end
  if d.entries[s] then return entry_text(d.entries[s]) end
  local swapped = s:find(":", 1, true) and s:gsub(":", ".", 1) or s:gsub("%.([%w_]+)$", ":%1")
  if d.entries[swapped] then return entry_text(d.entries[swapped]) end
  if d.byname[s] then return page_text(d.byname[s]) end
  local all = registered_types()
  if all[s] then return type_text(d, s, all[s]) end
  if s:match("^[%a_][%w_]*[%w_%.:]*$") then  -- a name in the session: m:shape, net.layers
    local v = _G
    for part in s:gmatch("[^%.:]+") do
      v = field(v, part)
      if v == nil then break end
    end
    if v ~= nil then return describe(d, v) end
  end
  local near = suggestions(d, s)
  if #near > 0 then
    return nil, ("help: nothing is called '%s' — did you mean %s? (help() lists the modules)")
      :format(s, table.concat(near, ", "))
  end
  return nil, ("help: nothing is called '%s'; help() lists the modules and pages, "
    .. "help \"matrix\" a module's entries"):format(s)
end

-- A value: a documented function or module, a value of a registered type, or
-- at least what it is.
function describe(d, x)
  for _, n in ipairs(names_of(x) or {}) do
    if n.kind == "module" then return module_text(d, n.name) end
    if n.kind == "lua" then return lua_text(n.name) end
    local list = d.entries[n.name]
      or d.entries[n.name:find(":", 1, true) and n.name:gsub(":", ".", 1) or n.name:gsub("%.([%w_]+)$", ":%1")]
    if list then return entry_text(list) end
  end
  local named = (names_of(x) or {})[1]
  if named then
    return ("%s: no documentation yet (help \"%s\" will show it once doc/ has an entry "
      .. "headed ### `%s(...)`)"):format(named.name, named.name, named.name)
  end
  local tname, methods = type_of(x)
  if tname then return type_text(d, tname, methods) end
  if type(x) == "function" then
    local info = debug.getinfo(x, "S")
    if info.what == "Lua" then
      return ("no documentation for this function (a Lua function defined at %s:%d)")
        :format(info.short_src, info.linedefined)
    end
    return "no documentation for this function (a C function)"
  end
  return ("no documentation for a %s value; help() lists what has some"):format(type(x))
end

------------------------------------------------------------------ the guide

local function guide(d)
  local page = d.byname.help
  local out = { page and page.title or "deltalab help" }
  if page then out[#out + 1] = "\n" .. format(page.overview) end
  out[#out + 1] = "\nModules:"
  for _, m in ipairs(help.modules) do
    if m ~= "deltalab" and m ~= "help" then
      local p = module_page(d, m, entries_with_prefix(d, m))
      local title = "(no page yet)"
      if p then  -- "matrix — dense matrices" -> "dense matrices"
        local rest = p.title:match("^" .. m .. "%s*(.*)$") or p.title
        title = rest:gsub("^—%s*", ""):gsub("^[-:]%s*", "")
      end
      out[#out + 1] = ("  %-9s %s"):format(m, title)
    end
  end
  local others, modpages = {}, {}
  for _, m in ipairs(help.modules) do
    local p = m ~= "deltalab" and m ~= "help" and module_page(d, m, entries_with_prefix(d, m))
    if p then modpages[p] = true end
  end
  for _, p in ipairs(d.pages) do
    if not modpages[p] then others[#others + 1] = p.name end
  end
  if #others > 0 then
    out[#out + 1] = "\nPages (help \"repl\" and so on): " .. table.concat(others, ", ")
  end
  return table.concat(out, "\n")
end

------------------------------------------------------------------ the API

--- The documentation of x as a string (what help(x) prints).
-- @param[opt] x a function, module, value, or a name as a string; none for the guide
-- @treturn string the text, or nil and a message saying why there is none
-- @usage local text = help.text("matrix.zeros")
function help.text(...)
  local d, err = load_docs()
  if not d then return nil, "help: " .. err end
  if select("#", ...) == 0 then return guide(d) end
  local x = ...
  if type(x) == "string" then return topic(d, x) end
  if x == nil then
    return nil, "help: got nil — is the name spelt right? (help() lists the modules; "
      .. "help \"name\" takes a name)"
  end
  return describe(d, x)
end

--- Register a type implemented in Lua, so that help names its methods and
-- help(value) lists them: `help.type("figure", methods)`.
-- @tparam string name the type's name, as the doc headings use it
-- @tparam table methods the table of methods (the metatable's __index)
-- @treturn table methods
function help.type(name, methods)
  if type(name) ~= "string" then
    error(("bad argument #1 to 'type' (string expected, got %s)"):format(type(name)), 2)
  end
  if type(methods) ~= "table" then
    error(("bad argument #2 to 'type' (table expected, got %s)"):format(type(methods)), 2)
  end
  lua_types[name] = methods
  names = nil
  return methods
end

--- Forget the pages read so far (after editing doc/), and the names found.
function help.reload()
  docs, names = nil, nil
end

-- The types written in Lua. help is loaded after every other module, so it
-- asks them for their method tables instead of being reached from them.
help.type("dataset", require("deltalab.data").dataset_methods)
help.type("figure", require("deltalab.plot").figure_methods)

return setmetatable(help, {
  __call = function(_, ...)
    local text, err = help.text(...)
    print(text or err)
  end,
})
