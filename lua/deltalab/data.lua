--- deltalab.data: datasets (in progress).
local core = require "deltalab.datacore"
local data = {}
setmetatable(data, { __index = core })
return data
