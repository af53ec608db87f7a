-- trainer.sweep and the JSON-lines records: cell numbering, one cell from the
-- command line, one command per cell, merging records from several files,
-- and the JSON coder against hand-written texts.
local T = require "check"
local records = require "deltalab.records"
local sys = require "deltalab.sys"
local cli = require "deltalab.cli"

local tmp = os.tmpname()
local function tmpfile(suffix)
  local p = tmp .. suffix
  os.remove(p)
  return p
end

-- Capture what f prints to io.stdout.
local function captured(f)
  local path = tmpfile(".out")
  local file = assert(io.open(path, "w"))
  local old = io.output()
  local real_stdout = io.stdout
  -- sweep writes to io.stdout; swap it for the duration of f.
  io.stdout = file
  local ok, a, b, c = pcall(f)
  io.stdout = real_stdout
  io.output(old)
  file:close()
  local text = assert(io.open(path)):read("a")
  os.remove(path)
  if not ok then error(a, 0) end
  return text, a, b, c
end

T.test("cells: every combination, keys sorted, the last varying fastest", function()
  local sweep = require "deltalab.sweep"
  local cells, keys = sweep.cells({ lr = { 0.1, 0.5, 1 }, lambda = { 0, 1 } }, { epochs = 3 })
  T.eq(#cells, 6)
  T.eq(table.concat(keys, ","), "lambda,lr")
  local want = { { 0, 0.1 }, { 0, 0.5 }, { 0, 1 }, { 1, 0.1 }, { 1, 0.5 }, { 1, 1 } }
  for i, w in ipairs(want) do
    T.eq(cells[i].lambda, w[1], "cell " .. i .. " lambda")
    T.eq(cells[i].lr, w[2], "cell " .. i .. " lr")
    T.eq(cells[i].epochs, 3, "fixed setting")
  end
  local ordered = sweep.cells({ lr = { 1, 2 }, lambda = { 0, 1 } }, nil, { "lr", "lambda" })
  T.eq(ordered[2].lr, 1); T.eq(ordered[2].lambda, 1)
end)

T.test("sweep runs every cell and prints a table", function()
  local seen = {}
  local out, results = captured(function()
    return trainer.sweep{ grid = { a = { 1, 2 }, b = { 10, 20 } }, args = {},
                          run = function(cfg)
                            seen[#seen + 1] = cfg.a * 100 + cfg.b
                            cfg.a = "changed"      -- run gets its own copy
                            return { sum = cfg.b + #seen, tag = "x" }
                          end }
  end)
  T.eq(table.concat(seen, " "), "110 120 210 220")
  T.eq(#results, 4)
  T.eq(results[3].settings.a, 2)
  T.eq(results[3].result.sum, 13)
  local lines = {}
  for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
  T.eq(#lines, 5, "header and 4 rows")
  T.truthy(lines[1]:match("^cell%s+a%s+b%s+sum%s+tag%s+seconds$"), "header: " .. lines[1])
  T.truthy(lines[4]:match("^%s*3%s+2%s+10%s+13%s+x%s+%d"), "row 3: " .. lines[4])
end)

T.test("--cell k runs one cell and appends its record; --merge joins files", function()
  local rec1, rec2 = tmpfile("-1.jsonl"), tmpfile("-2.jsonl")
  local grid = { lr = { 0.1, 0.2, 0.3 } }
  local function run(cfg) return { acc = cfg.lr * 2 } end
  local _, r = captured(function()
    return trainer.sweep{ grid = grid, run = run, record = rec1, args = { "--cell", "2" }, name = "t" }
  end)
  T.eq(#r, 1); T.eq(r[1].cell, 2); T.eq(r[1].settings.lr, 0.2)
  captured(function()
    trainer.sweep{ grid = grid, run = run, record = rec1, args = { "--cell=3", "--record", rec2 } }
    trainer.sweep{ grid = grid, run = run, record = rec1, args = { "--cell", "1", "--record", rec2 } }
  end)
  local all = records.read{ rec1, rec2 }
  T.eq(#all, 3)
  T.eq(all[1].name, "t")
  T.eq(all[1].result.acc, 0.4)
  T.truthy(all[1].machine and all[1].machine.isa, "machine recorded")
  T.truthy(all[1].time:match("^%d%d%d%d%-%d%d%-%d%dT"), "UTC time")
  local out, merged = captured(function()
    return trainer.sweep{ grid = grid, run = run, args = { "--merge", rec1, rec2 } }
  end)
  T.eq(#merged, 3)
  for i = 1, 3 do T.eq(merged[i].cell, i) end
  T.truthy(out:find("acc", 1, true), "merged table printed")
  T.checkerror("--cell 4 is out of range: the grid has 3 cells", trainer.sweep,
    { grid = grid, run = run, args = { "--cell", "4" } })
  T.checkerror("option '--cell' needs a cell number, got x", trainer.sweep,
    { grid = grid, run = run, args = { "--cell", "x" } })
  os.remove(rec1); os.remove(rec2)
end)

T.test("--commands prints one command per cell; --count the number", function()
  local grid = { lr = { 1, 2 }, lambda = { 0, 1, 2 } }
  local args = { [-1] = "deltalab", [0] = "my sweep.lua", "--epochs", "3", "--commands" }
  local out, r, mode, lines = captured(function()
    return trainer.sweep{ grid = grid, run = function() error("not run") end, args = args }
  end)
  T.eq(#r, 0); T.eq(mode, "commands"); T.eq(#lines, 6)
  local here = sys.getcwd()
  T.eq(lines[1], "deltalab '" .. here .. "/my sweep.lua' --epochs 3 --cell 1")
  T.eq(lines[6], "deltalab '" .. here .. "/my sweep.lua' --epochs 3 --cell 6")
  T.eq(select(2, out:gsub("\n", "")), 6)
  local cout, _, cmode, n = captured(function()
    return trainer.sweep{ grid = grid, run = error, args = { "--count" } }
  end)
  T.eq(cmode, "count"); T.eq(n, 6); T.eq(cout, "6\n")
end)

T.test("keep_going records a failing cell and goes on", function()
  local out, r = captured(function()
    return trainer.sweep{ grid = { x = { 1, 2 } }, args = {}, keep_going = true,
                          run = function(cfg) if cfg.x == 1 then error("bad cell") end return 5 end }
  end)
  T.truthy(r[1].error:find("bad cell", 1, true))
  T.eq(r[2].result.value, 5)
  T.truthy(out:find("cell 1 failed: ", 1, true))
end)

T.test("sweep argument errors", function()
  T.checkerror("bad argument #1 to 'trainer.sweep' (table expected, got number)", trainer.sweep, 5)
  T.checkerror("sweep: grid must be a table of lists", trainer.sweep, { run = print })
  T.checkerror("sweep: run must be a function(cfg)", trainer.sweep, { grid = { a = { 1 } } })
  T.checkerror("sweep: grid.a must be a non-empty list of values", trainer.sweep,
    { grid = { a = {} }, run = print })
  T.checkerror("sweep: record must be a file name, got number", trainer.sweep,
    { grid = { a = { 1 } }, run = print, record = 3 })
  T.checkerror("sweep: order[1] names 'c', which is not in the grid", trainer.sweep,
    { grid = { a = { 1 } }, run = print, order = { "c" } })
end)

T.test("a trainer's record: settings, seed, history, final figures", function()
  local X, y = matrix.zeros(4, 2), matrix.zeros(4, 1)
  for i = 1, 4 do X:set(i, 1, i % 2); X:set(i, 2, i // 2 % 2); y:set(i, 1, (i % 2 + i // 2) % 2) end
  local net = network{ 2, { 2, "softmax" }, cost = "log_likelihood" }
  local t = trainer{ net = net, train = { X = X, y = y }, epochs = 3, lr = 0.25, seed = 7 }
  t:run()
  local path = tmpfile(".jsonl")
  t:record(path, { note = "first" })
  local r = records.read(path)[1]
  T.eq(r.settings.lr, 0.25); T.eq(r.settings.batch, 4); T.eq(r.seed, 7)
  T.eq(#r.history.train_loss, 3)
  T.near(r.final.train_loss, t.history.train_loss[3], 0)
  T.eq(r.final.epochs, 3)
  T.eq(r.note, "first")
  T.eq(r.machine.version, require("deltalab.sys").info().version)
  -- A sweep whose run returns the trainer records its summary.
  local _, res = captured(function()
    return trainer.sweep{ grid = { lr = { 0.5 } }, args = {}, run = function(cfg)
      local u = trainer{ net = net, train = { X = X, y = y }, lr = cfg.lr }
      return u:run()
    end }
  end)
  -- (its final losses and accuracies, as columns of the table)
  T.eq(res[1].result.epochs, 1)
  T.eq(res[1].result.train_loss, res[1].history.train_loss[1])
  T.eq(math.type(res[1].result.train_acc), "float")
  T.eq(#res[1].history.train_loss, 1)
  T.checkerror("bad argument #1 to 'record' (file name expected, got nil)", t.record, t)
  T.checkerror("cannot write record file /nonexistent/dir/x.jsonl", t.record, t, "/nonexistent/dir/x.jsonl")
  os.remove(path)
end)

T.test("JSON: encode and decode against hand-written text", function()
  T.eq(records.encode{ b = 1, a = { 1, 2.5, "x" }, c = true }, '{"a":[1,2.5,"x"],"b":1,"c":true}')
  T.eq(records.encode("q\"\\\n\1"), '"q\\"\\\\\\n\\u0001"')
  T.eq(records.encode(0 / 0), "null")
  T.eq(records.encode(0.1), "0.1")
  T.eq(records.encode(1 / 3), "0.33333333333333331")
  T.eq(records.encode({}), "{}")
  T.eq(records.encode(records.array{}), "[]")
  local v = records.decode(' {"a" : [1, -2.5e3, "\\u00e9\\n"], "b": {"c": null, "d": false}} ')
  T.eq(v.a[2], -2500); T.eq(v.a[3], "é\n"); T.eq(v.b.d, false); T.eq(v.b.c, nil)
  T.eq(records.decode("1e2"), 100)
  local x = 0.1 + 0.2
  T.eq(records.decode(records.encode(x)), x, "doubles round-trip")
  T.checkerror("records: trailing text at character 3", records.decode, "1 2")
  T.checkerror("records: unterminated string", records.decode, '"abc')
  T.checkerror("records: cannot encode a function value at $.f", records.encode, { f = print })
  local cyc = {}; cyc.self = cyc
  T.checkerror("records: cannot encode a cycle at $.self", records.encode, cyc)
  local path = tmpfile(".bad")
  local f = assert(io.open(path, "w")); f:write('{"a":1}\n{"a":\n{"a":3}\n'); f:close()
  T.checkerror(path .. ":2: not a record", records.read, path)
  os.remove(path)
end)

-- What f writes to io.stderr (the warnings of merge and read).
local function stderr_of(f)
  local path = tmpfile(".err")
  local file = assert(io.open(path, "w"))
  local real = io.stderr
  io.stderr = file
  local ok, a, b = pcall(f)
  io.stderr = real
  file:close()
  local text = assert(io.open(path)):read("a")
  os.remove(path)
  if not ok then error(a, 0) end
  return text, a, b
end

local function write_file(path, text)
  local f = assert(io.open(path, "w")); f:write(text); f:close()
end

T.test("an unknown option names trainer.sweep and the valid ones", function()
  local ok, err = pcall(trainer.sweep, { grid = { lr = { 1 } }, run = print, fixd = {}, args = {} })
  T.eq(ok, false)
  T.truthy(err:find("unknown option 'fixd'", 1, true), err)
  T.truthy(err:find("trainer.sweep", 1, true), err)
  T.truthy(err:find("did you mean 'fixed'", 1, true), err)
  T.truthy(err:find("grid, run, fixed, order, record, record_dir", 1, true), err)
end)

T.test("a misspelt sweep flag is an error, not the whole grid", function()
  local ran = 0
  local function run() ran = ran + 1; return 1 end
  T.checkerror("trainer.sweep: unknown option '--cel' (did you mean '--cell'?)", trainer.sweep,
    { grid = { a = { 1, 2, 3 } }, run = run, args = { "--cel", "1" } })
  T.checkerror("unknown option '--comands' (did you mean '--commands'?)", trainer.sweep,
    { grid = { a = { 1, 2, 3 } }, run = run, args = { "--comands" } })
  T.checkerror("unknown option '--record_dri'", trainer.sweep,
    { grid = { a = { 1, 2, 3 } }, run = run, args = { "--record_dri", "x" } })
  T.eq(ran, 0, "no cell ran")
  -- Flags far from every sweep flag are the script's own.
  local _, r = captured(function()
    return trainer.sweep{ grid = { a = { 1, 2 } }, run = run, args = { "--epochs", "3", "--cell", "2" } }
  end)
  T.eq(#r, 1); T.eq(r[1].cell, 2)
end)

T.test("--record-dir: one file per cell, written whole; merge takes the directory", function()
  local dir = tmpfile("-dir")
  local grid = { lr = { 0.1, 0.2, 0.3 }, lambda = { 0, 1 } }
  local function run(cfg) return { acc = cfg.lr + cfg.lambda } end
  captured(function()
    for _, k in ipairs{ 1, 2, 4, 6 } do
      trainer.sweep{ grid = grid, run = run, args = { [0] = "grid.lua", "--seed", "3", "--cell", tostring(k),
                                                     "--record-dir", dir } }
    end
  end)
  local names = sys.listdir(dir)
  T.eq(table.concat(names, " "), "cell-0001.jsonl cell-0002.jsonl cell-0004.jsonl cell-0006.jsonl")
  local rec = records.read(dir .. "/cell-0004.jsonl")
  T.eq(#rec, 1)
  rec = rec[1]
  T.eq(rec.cell, 4); T.eq(rec.cells, 6); T.eq(rec.settings.lambda, 1); T.eq(rec.settings.lr, 0.1)
  -- What produced it: script, arguments, deltalab, kernels, host, start, seconds.
  T.eq(rec.script, sys.getcwd() .. "/grid.lua")
  T.eq(table.concat(rec.args, " "), "--seed 3 --cell 4 --record-dir " .. dir)
  T.eq(rec.deltalab, deltalab.version)
  T.eq(rec.isa, deltalab.isa)
  T.eq(rec.host, sys.hostname())
  T.truthy(rec.start:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"), "start time " .. rec.start)
  T.eq(math.type(rec.seconds), "float")
  -- A cell run again replaces its file: still one record.
  captured(function()
    trainer.sweep{ grid = grid, run = run, args = { "--cell", "4", "--record-dir", dir } }
  end)
  T.eq(#records.read(dir .. "/cell-0004.jsonl"), 1)
  -- Merge: the directory and a file, cells missing, one duplicated.
  local extra = tmpfile("-extra.jsonl")
  captured(function()
    trainer.sweep{ grid = grid, run = function() return { acc = 99 } end, args = { "--cell", "2", "--record", extra } }
  end)
  local err, results, info
  local out = captured(function()
    err, results, info = stderr_of(function() return trainer.merge{ dir, extra } end)
  end)
  T.truthy(err:find("merge: cells 3, 5 have no record (the grid has 6 cells)", 1, true), err)
  T.truthy(err:find("merge: cell 2 has more than one record: the last one read is kept", 1, true), err)
  T.eq(#results, 4)
  T.eq(results[2].cell, 2); T.eq(results[2].result.acc, 99, "the last record read wins")
  T.eq(table.concat(info.missing, ","), "3,5")
  T.truthy(out:find("acc", 1, true), "table printed")
  -- Leftover temporary files are not records.
  write_file(dir .. "/cell-0003.jsonl.tmp-abcdef", '{"cell":')
  T.eq(#records.read(dir), 4)
  for _, name in ipairs(sys.listdir(dir)) do os.remove(dir .. "/" .. name) end
  os.remove(dir); os.remove(extra)
end)

T.test("a torn last line is skipped with a warning naming file and line", function()
  local path = tmpfile("-torn.jsonl")
  write_file(path, '{"cell":1,"cells":2,"result":{"acc":1}}\n{"cell":2,"cel')
  local err, results = stderr_of(function() return trainer.merge(path, true) end)
  T.eq(#results, 1)
  T.truthy(err:find("merge: " .. path .. ":2: skipped a torn last line", 1, true), err)
  T.truthy(err:find("merge: cell 2 has no record (the grid has 2 cells)", 1, true), err)
  os.remove(path)
end)

T.test("Ctrl-C during a keep_going sweep stops it; the cell is recorded as interrupted", function()
  local path = tmpfile("-int.jsonl")
  local ran = {}
  local ok, err
  captured(function()
    local e = stderr_of(function()
      ok, err = pcall(trainer.sweep, { grid = { x = { 1, 2, 3, 4 } }, keep_going = true, record = path,
        args = {}, run = function(cfg)
          ran[#ran + 1] = cfg.x
          if cfg.x == 1 then error("an ordinary failure") end
          if cfg.x == 2 then
            -- A real SIGINT to this process, as Ctrl-C sends it.
            local p = io.popen("kill -INT $PPID"); p:close()
            local deadline = os.time() + 10
            while os.time() < deadline do end
            error("the interrupt did not arrive")
          end
          return cfg.x
        end })
    end)
    T.truthy(e:find("interrupted in cell 2 (2 more not run)", 1, true), e)
  end)
  T.eq(ok, false)
  T.eq(err, "interrupted")
  T.eq(table.concat(ran, ","), "1,2", "cells 3 and 4 did not run")
  local recs = records.read(path)
  T.eq(#recs, 2)
  T.eq(recs[1].interrupted, nil); T.truthy(recs[1].error:find("an ordinary failure", 1, true))
  T.eq(recs[2].cell, 2); T.eq(recs[2].interrupted, true)
  os.remove(path)
end)

T.test("cli knows the sweep flags, --no-flag, --flag=false, and makes --help", function()
  local spec = { lr = { 0.1, "learning rate" }, quick = false, verbose = true, epochs = 3 }
  local o = cli.check({ "--cell", "2", "--lr=0.5", "--record-dir", "out", "--no-verbose", "--count",
                        "--merge", "a.jsonl", "b", "--quick=true", "word" }, spec)
  T.eq(o.lr, 0.5); T.eq(o.verbose, false); T.eq(o.quick, true); T.eq(o.epochs, 3)
  T.eq(o[1], "word"); T.eq(o[2], nil, "sweep flags' values are not words")
  o = cli.check({ "--verbose=false", "--quick=no" }, spec)
  T.eq(o.verbose, false); T.eq(o.quick, false)
  local _, msg = cli.check({ "--cel", "2" }, spec)
  T.eq(msg, "unknown option '--cel' (did you mean '--cell'?)")
  _, msg = cli.check({ "--quick=maybe" }, spec)
  T.eq(msg, "option '--quick' takes true or false, got 'maybe'")
  _, msg = cli.check({}, { cell = 1 })
  T.eq(msg, "option '--cell' is a sweep flag: the script cannot declare it")
  T.eq(cli.check({ "--help" }, spec), "help")
  local text = cli.help(spec, "usage: deltalab t.lua [options]")
  T.truthy(text:find("\n  %-%-lr X +learning rate %(default: 0%.1%)\n"), text)
  T.truthy(text:find("\n  %-%-quick, %-%-no%-quick *\n"), text)
  T.truthy(text:find("\n  %-%-epochs N +%(default: 3%)\n"), text)
  T.truthy(text:find("\n  %-%-cell K +run only cell K of the sweep\n"), text)
  -- A flag the script declared is not taken for a misspelt sweep flag.
  cli.check({}, { cells = 2 })
  local flags, rest = cli.sweep_args({ "--cells", "3", "--cell", "1" })
  T.eq(flags.cell, 1); T.eq(table.concat(rest, " "), "--cells 3")
end)

T.test("deltalab.cli is documented: help \"cli\" and an entry for each of its fields", function()
  local page = help.text("cli")
  T.truthy(page and page:find("cli — the command line of a script", 1, true), "the page")
  for k, v in pairs(cli) do
    local text, err = help.text(v)
    if type(v) == "table" and not text then text, err = help.text("cli." .. k) end
    T.truthy(text and text:find("cli." .. k, 1, true), "cli." .. k .. ": " .. tostring(err))
  end
end)

os.remove(tmp)
T.done()
