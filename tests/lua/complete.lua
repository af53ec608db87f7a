-- Tab completion's candidates (lua/deltalab/complete.lua): globals, keywords,
-- fields, methods through __index tables, and never any code run.
local T = require "check"
local complete = require "deltalab.complete"
local C = complete.candidates

local function list(t) return table.concat(t, " ") end

T.test("globals and keywords by prefix", function()
  T.eq(list(C("pri")), "print")
  T.eq(list(C("whi")), "while")
  T.eq(list(C("matr")), "matrix")
  T.eq(list(C("no_such_prefix_")), "")
end)

T.test("fields of a module, sorted", function()
  T.eq(list(C("matrix.ze")), "matrix.zeros")
  T.eq(list(C("string.re")), "string.rep string.reverse")
  T.eq(list(C("table.")):find("table.concat", 1, true) ~= nil, true, "every field after a dot")
end)

T.test("methods of a userdata through its metatable's __index table", function()
  complete_m = matrix.zeros(2, 2)
  T.eq(list(C("complete_m:sha")), "complete_m:shape")
  complete_m = nil
end)

T.test("':' offers only functions, '.' every field", function()
  complete_obj = setmetatable({ size = 3 }, { __index = { grow = function() end, colour = "red" } })
  T.eq(list(C("complete_obj:")), "complete_obj:grow")
  T.eq(list(C("complete_obj.")), "complete_obj.colour complete_obj.grow complete_obj.size")
  complete_obj = nil
end)

T.test("metamethods and other __names only when the prefix asks for them", function()
  complete_mt = setmetatable({ __private = 1, open = 2 }, { __index = { __hidden = 3 } })
  T.eq(list(C("complete_mt.")), "complete_mt.open")
  T.eq(list(C("complete_mt.__")), "complete_mt.__hidden complete_mt.__private")
  complete_mt = nil
end)

T.test("deep paths and strings' methods", function()
  complete_t = { a = { b = { cde = 1 } } }
  T.eq(list(C("complete_t.a.b.c")), "complete_t.a.b.cde")
  complete_s = "text"
  T.eq(list(C("complete_s:upp")), "complete_s:upper")
  complete_t, complete_s = nil, nil
end)

T.test("no code runs: __index functions are not called, cycles end", function()
  local ran = false
  complete_trap = setmetatable({}, { __index = function() ran = true end })
  T.eq(list(C("complete_trap.x")), "")
  T.eq(list(C("complete_trap.x.y")), "")
  T.eq(ran, false, "__index ran")
  local loop = {}
  complete_loop = setmetatable({ here = 1 }, loop)
  loop.__index = complete_loop
  T.eq(list(C("complete_loop.he")), "complete_loop.here")
  complete_trap, complete_loop = nil, nil
end)

T.test("through indexing: layers, rows, table fields, keys in globals", function()
  complete_net = network{ 2, 3, 2 }
  T.eq(list(C("complete_net.layers[2]:de")), "complete_net.layers[2]:delta_of")
  T.eq(list(C("complete_net.lay")), "complete_net.layers", "computed fields complete too")
  T.eq(list(C("complete_net.layers[1].n_")), "complete_net.layers[1].n_in complete_net.layers[1].n_out")
  complete_x = matrix{ { 1, 2, 3 }, { 4, 5, 6 } }
  T.eq(list(C("complete_x[1]:sha")), "complete_x[1]:shape", "a row of a matrix is a matrix")
  T.eq(list(C("complete_x[1][2]:")), "", "an element is a number: nothing")
  complete_d = { train = data.blobs{ n = 6, classes = 2, seed = 1 } }
  T.eq(list(C("complete_d.train:cou")), "complete_d.train:counts")
  T.eq(list(C('complete_d["train"]:cou')), 'complete_d["train"]:counts')
  complete_i = 2
  T.eq(list(C("complete_net.layers[complete_i]:delta_")), "complete_net.layers[complete_i]:delta_of")
  T.eq(list(C("complete_net.layers[9]:")), "", "an index past the end finds nothing")
  complete_net, complete_x, complete_d, complete_i = nil, nil, nil, nil
end)

T.test("indexing never runs a user's __index or a call", function()
  local ran = 0
  complete_trap = setmetatable({}, { __index = function() ran = ran + 1; return matrix.zeros(1, 1) end })
  T.eq(list(C("complete_trap[1]:")), "")
  T.eq(list(C("complete_trap.x:")), "")
  T.eq(list(C("complete_trap[complete_trap]:")), "")
  T.eq(ran, 0, "__index ran")
  complete_f = function() ran = ran + 1; return { x = 1 } end
  T.eq(list(C("complete_f().")), "")
  T.eq(ran, 0, "a call ran")
  complete_trap, complete_f = nil, nil
end)

T.test("what cannot be completed gives nothing", function()
  T.eq(list(C("f().x")), "")
  T.eq(list(C("a[1].b")), "")
  T.eq(list(C("nosuchglobal.x")), "")
  T.eq(list(C("1.5")), "")
  T.checkerror("bad argument #1 to 'candidates' (string expected, got nil)", C)
end)

T.done()
