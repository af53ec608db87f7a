--- Argument and option checks for deltalab's Lua modules.
--
-- The twin of src/largs.c, in the same wording (the message of an unknown
-- option is made by the same C code, through deltalab.args), raising at the
-- level of the user's call rather than inside the module.
--
--     > data.spirals{sead = 1}
--     data.spirals: unknown option 'sead' (did you mean 'seed'? expected one of n, classes, noise, seed)
--
-- Every public function of a Lua module checks its options with
-- `util.check_options(opts, "module.fn", {"a", "b"})` before reading them.

local args = require "deltalab.args"

local util = {}

-- Levels count from the function that calls the util function: 2 blames the
-- caller of that function, which is what a public function wants.
local function raise(msg, level)
  error(msg, (level or 2) + 1)
end

--- Raise `fn: unknown option 'X' (did you mean 'Y'? expected one of ...)` on a
-- key of opts outside names (integer keys 1..npos are allowed).
-- @param opts the options table (nil is accepted: no options)
-- @param fn the name the user typed, e.g. "plot.heatmap"
-- @param names the option names fn takes
-- @param[opt=2] level whom to blame, as in error()
function util.check_options(opts, fn, names, level, npos)
  if opts == nil then return end
  if type(opts) ~= "table" then
    raise(("%s: options must be a table like {name = value}, got %s"):format(fn, type(opts)),
          (level or 2) + 1)
  end
  local msg = args.unknown_option(opts, fn, names, npos or 0)
  if msg then raise(msg, (level or 2) + 1) end
end

--- The options table itself, or {} for nil, after check_options.
function util.options(opts, fn, names, level)
  util.check_options(opts, fn, names, (level or 2) + 1)
  return opts or {}
end

--- Raise in luaL_argerror's words: `bad argument #n to 'fn' (msg)`.
function util.argerror(n, fn, msg, level)
  msg = ("bad argument #%d to '%s' (%s)"):format(n, fn, msg)
  if level == 0 then error(msg, 0) end  -- as in error(): no position
  raise(msg, (level or 2) + 1)
end

--- opts[key] checked to be of Lua type `want` (or nil, giving def).
function util.opt(opts, key, want, def, fn, level)
  local v = opts and opts[key]
  if v == nil then return def end
  local got = want == "integer" and math.type(v) or type(v)
  if got ~= want then
    local article = want == "integer" and "an" or "a"
    raise(("%s: option '%s' must be %s %s, got %s"):format(fn, key, article, want, type(v)),
          (level or 2) + 1)
  end
  return v
end

-- Bounded option readers share one wording:
-- "fn: option 'n' must be an integer >= 1, got 0".
local function bounded(opts, key, def, lo, fn, level, want)
  local v = opts and opts[key]
  if v == nil then return def end
  local isint = math.type(v) == "integer" or (math.type(v) == "float" and v == math.floor(v)
                                              and v > -2^63 and v < 2^63)
  local ok = want == "integer" and isint or (want ~= "integer" and type(v) == "number")
  local bound = lo and lo > math.mininteger and (" >= %s"):format(lo) or ""
  local article = want == "integer" and "an" or "a"
  if not ok or (lo and not (v >= lo)) then
    local got = type(v) == "number" and tostring(v) or type(v)
    raise(("%s: option '%s' must be %s %s%s, got %s"):format(fn, key, article, want, bound, got),
          (level or 2) + 2)
  end
  return want == "integer" and math.tointeger(v) or v
end

--- opts[key] as an integer (a float with an integer value is accepted),
-- at least lo when lo is given; def when absent.
function util.optint(opts, key, def, lo, fn, level)
  return bounded(opts, key, def, lo, fn, level, "integer")
end

--- opts[key] as a number, at least lo when lo is given; def when absent.
function util.optnum(opts, key, def, lo, fn, level)
  return bounded(opts, key, def, lo, fn, level, "number")
end

--- The near name in names for a typo s, or nil.
function util.closest(s, names)
  return args.closest(s, names)
end

return util
