--- deltalab.help: help(x) prints the documentation of x (in progress).
local help = {}
setmetatable(help, { __call = function(_, x) print("help: no documentation yet for " .. tostring(x)) end })
return help
