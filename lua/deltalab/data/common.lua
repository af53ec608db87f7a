--- What the parts of deltalab.data share: telling a matrix, checking a file
-- name, and passing the core's errors on to the user's line.
local util = require "deltalab.util"

local common = {}

function common.ismatrix(v)
  local mt = getmetatable(v)
  return type(v) == "userdata" and type(mt) == "table" and mt.__name == "matrix"
end

--- A matrix from a nested Lua table, through the matrix module's constructor.
function common.matrix(t)
  return require("deltalab.matrix")(t)
end

--- f(...) for the public function fname, whose caller gets any error (so
-- fname must not tail-call relay, or the caller's frame is gone): at the
-- caller's line (not here, nor in the core's Lua-facing C function), and
-- naming fname if it does not already ("idx: x.gz: cannot open: ...").
function common.relay(fname, f, ...)
  local r = table.pack(pcall(f, ...))
  if r[1] then return table.unpack(r, 2, r.n) end
  local err = r[2]
  if type(err) == "string" then
    err = err:gsub("^[^\n]-%.lua:%d+: ", "", 1)
    err = err:gsub("^matrix%.load: ", "", 1)  -- data.npy reads through matrix.load
    if not (err:sub(1, #fname + 1) == fname .. ":" or err:find("'" .. fname .. "'", 1, true)) then
      err = fname .. ": " .. err
    end
  end
  error(err, 3)
end

--- Refuse a file name that is not a string or holds a zero byte (which the C
-- side would cut short), blaming the public function's caller.
function common.checkpath(fname, path)
  if type(path) ~= "string" then
    util.argerror(1, fname, "file name expected, got "
      .. (path == nil and "no value" or type(path)), 3)
  end
  if path:find("\0", 1, true) then
    util.argerror(1, fname, "file name contains a zero byte", 3)
  end
end

function common.exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

return common
