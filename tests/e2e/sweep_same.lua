-- deltalab sweep_same.lua A B: whether the records in A and B (files or
-- directories, as --merge takes them) hold the same cells with the same
-- settings and the same results, cell for cell. Prints "same N cells" or
-- the first difference, and exits 1 on a difference.
local records = require "deltalab.records"
local a, b = trainer.merge(arg[1], true), trainer.merge(arg[2], true)
local function fail(msg)
  io.stderr:write(msg, "\n")
  os.exit(1)
end
if #a == 0 then fail("no records in " .. arg[1]) end
if #a ~= #b then fail(("%d cells in %s, %d in %s"):format(#a, arg[1], #b, arg[2])) end
for i = 1, #a do
  for _, k in ipairs{ "cell", "cells", "settings", "result" } do
    local x, y = records.encode(a[i][k]), records.encode(b[i][k])
    if x ~= y then fail(("cell %s, %s: %s in %s, %s in %s"):format(a[i].cell, k, x, arg[1], y, arg[2])) end
  end
  if not a[i].result.train_loss then fail("cell " .. a[i].cell .. " has no train_loss") end
end
print(("same %d cells"):format(#a))
