--- deltalab.sweep: run a function over every cell of a grid of settings.
-- `trainer.sweep` is this module's `sweep`. A grid is a table of lists; the
-- cells are every combination, numbered 1..N in a fixed order (keys sorted,
-- the last key varying fastest), so that cell k means the same settings on
-- every machine. A script that calls sweep can run all cells, one cell
-- (`--cell k`), print the number of cells (`--count`) or one command per cell
-- for GNU parallel or a Slurm job array (`--commands`), write one record file
-- per cell (`--record-dir DIR`), and merge the records afterwards (`--merge`).
--
--     > r = trainer.sweep{grid = {lr = {0.1, 1}, lambda = {0, 1}},
--     >                   run = function(cfg) return {acc = cfg.lr * 0.5} end}
--     cell  lambda  lr   acc   seconds
--        1       0  0.1  0.05  0.00
--     ...
--
-- `--count` and `--commands` must print their answer and nothing else, yet the
-- script runs (and may print) before it calls sweep. So when this module is
-- loaded (at start-up, before the script) and the process's command line has
-- one of them, descriptor 1 is pointed at /dev/null and the answer is written
-- to a saved copy of the real standard output.
local records = require "deltalab.records"
local cli = require "deltalab.cli"
local sys = require "deltalab.sys"
local util = require "deltalab.util"

local sweep = {}

local FN = "trainer.sweep"
local OPTIONS = { "grid", "run", "fixed", "order", "record", "record_dir", "name", "args",
                  "keep_going", "quiet" }

-- The script's arguments on this process's command line (/proc/self/cmdline:
-- the program, its options as deltalab and lua take them, the script, then
-- these), or nil when there is no script.
local function script_words()
  local f = io.open("/proc/self/cmdline", "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  local words = {}
  for w in s:gmatch("([^%z]*)%z") do words[#words + 1] = w end
  local i = 2
  while words[i] do
    local w = words[i]
    if w == "--" then i = i + 1; break end
    if w == "-" or w:sub(1, 1) ~= "-" then break end
    i = i + ((w == "-e" or w == "-l") and 2 or 1)
  end
  if not words[i] then return nil end
  return table.move(words, i + 1, #words, 1, {})
end

-- Where the answers of --count and --commands go (see the top of this file),
-- and whether one was written.
local answer, answered
do
  local words = script_words()
  for _, w in ipairs(words or {}) do
    if w == "--" then break end
    if w == "--count" or w == "--commands" then
      answer = sys.hush_stdout()
      -- At exit, a hushed script that never reached a sweep says so.
      sweep._hushed = setmetatable({}, { __gc = function()
        if not answered then
          io.stderr:write(("deltalab: %s was given, but the script ran no trainer.sweep "
            .. "(its standard output was dropped)\n"):format(w))
        end
      end })
      break
    end
  end
end

-- The grid's keys in cell order: opts.order if given, else sorted.
local function grid_keys(grid, order, level)
  local keys = {}
  if order then
    for i, k in ipairs(order) do
      if grid[k] == nil then
        error((FN .. ": order[%d] names '%s', which is not in the grid"):format(i, tostring(k)), level)
      end
      keys[i] = k
    end
    for k in pairs(grid) do
      local found = false
      for _, o in ipairs(order) do found = found or o == k end
      if not found then error((FN .. ": grid key '%s' is missing from order"):format(tostring(k)), level) end
    end
  else
    for k in pairs(grid) do
      if type(k) ~= "string" then
        error((FN .. ": grid keys must be names, got a %s"):format(type(k)), level)
      end
      keys[#keys + 1] = k
    end
    table.sort(keys)
  end
  for _, k in ipairs(keys) do
    local v = grid[k]
    if type(v) ~= "table" or #v == 0 then
      error((FN .. ": grid.%s must be a non-empty list of values"):format(k), level)
    end
  end
  return keys
end

--- The settings of every cell: a list of tables {key = value, ...}, each
-- extended with opts.fixed. Cell 1 takes every key's first value; the last
-- key varies fastest.
-- @tparam table grid e.g. {lr = {0.1, 1}, lambda = {0, 1}}
-- @tparam[opt] table fixed settings shared by every cell
-- @tparam[opt] table order the keys in the order they vary (slowest first)
function sweep.cells(grid, fixed, order, level)
  if type(grid) ~= "table" then util.argerror(1, "sweep.cells", "table expected, got " .. type(grid)) end
  local keys = grid_keys(grid, order, (level or 1) + 2)
  local cells, n = {}, 1
  for _, k in ipairs(keys) do n = n * #grid[k] end
  for c = 0, n - 1 do
    local cfg, rest = {}, c
    for k, v in pairs(fixed or {}) do cfg[k] = v end
    for i = #keys, 1, -1 do
      local list = grid[keys[i]]
      cfg[keys[i]] = list[rest % #list + 1]
      rest = rest // #list
    end
    cells[c + 1] = cfg
  end
  return cells, keys
end

local function fmt_cell(v)
  if math.type(v) == "float" then
    if v ~= v then return "nan" end
    return (("%.4g"):format(v))
  end
  if type(v) == "table" then return "{...}" end
  return tostring(v)
end

--- Print results (from sweep or sweep.merge) as an aligned table: the cell,
-- the grid's keys, then every scalar the run returned, then the seconds.
-- @tparam table results
-- @tparam[opt] table keys grid keys in column order (default: sorted)
-- @tparam[opt] file out (default io.stdout)
function sweep.table(results, keys, out)
  if type(results) ~= "table" then
    util.argerror(1, "trainer.sweep_table", ("table of results expected, got %s"):format(type(results)))
  end
  for i, r in ipairs(results) do
    if type(r) ~= "table" then
      util.argerror(1, "trainer.sweep_table", ("result %d is a %s, not a table"):format(i, type(r)))
    end
  end
  if keys ~= nil and type(keys) ~= "table" then
    util.argerror(2, "trainer.sweep_table", ("table of keys expected, got %s"):format(type(keys)))
  end
  for i, k in ipairs(keys or {}) do
    if type(k) ~= "string" then
      util.argerror(2, "trainer.sweep_table", ("key %d is a %s, not a string"):format(i, type(k)))
    end
  end
  if out ~= nil and io.type(out) ~= "file" then
    util.argerror(3, "trainer.sweep_table", ("open file expected, got %s"):format(
      io.type(out) or type(out)))
  end
  out = out or io.stdout
  if not keys then
    local seen = {}
    keys = {}
    for _, r in ipairs(results) do
      for k in pairs(r.grid or r.settings or {}) do
        if not seen[k] then seen[k] = true; keys[#keys + 1] = k end
      end
    end
    table.sort(keys)
  end
  local rkeys, seen = {}, {}
  for _, r in ipairs(results) do
    for k, v in pairs(r.result or {}) do
      local t = type(v)
      if not seen[k] and (t == "number" or t == "string" or t == "boolean") then
        seen[k] = true; rkeys[#rkeys + 1] = k
      end
    end
  end
  table.sort(rkeys)
  local header = { "cell" }
  for _, k in ipairs(keys) do header[#header + 1] = k end
  for _, k in ipairs(rkeys) do header[#header + 1] = k end
  header[#header + 1] = "seconds"
  local rows = { header }
  for _, r in ipairs(results) do
    local row = { tostring(r.cell) }
    for _, k in ipairs(keys) do row[#row + 1] = fmt_cell((r.settings or {})[k]) end
    for _, k in ipairs(rkeys) do
      local v = (r.result or {})[k]
      row[#row + 1] = v == nil and (r.error and "error" or "-") or fmt_cell(v)
    end
    row[#row + 1] = r.seconds and ("%.2f"):format(r.seconds) or "-"
    rows[#rows + 1] = row
  end
  local width = {}
  for _, row in ipairs(rows) do
    for j, s in ipairs(row) do width[j] = math.max(width[j] or 0, utf8.len(s) or #s) end
  end
  for _, row in ipairs(rows) do
    local parts = {}
    for j, s in ipairs(row) do
      local pad = (" "):rep(width[j] - (utf8.len(s) or #s))
      parts[j] = tonumber(s) and pad .. s or s .. pad   -- numbers right, words left
    end
    out:write(table.concat(parts, "  "):gsub("%s+$", ""), "\n")
  end
  for _, r in ipairs(results) do
    if r.interrupted then out:write(("cell %d was interrupted\n"):format(r.cell))
    elseif r.error then out:write(("cell %d failed: %s\n"):format(r.cell, r.error)) end
  end
end


local FIGURES = { "train_loss", "train_acc", "val_loss", "val_acc" }

-- A trainer is known by its metatable's name; its public fields say the rest.
local function is_trainer(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__name") == "trainer"
end

-- A trainer's final figures (last epoch's losses and accuracies, epochs,
-- why it stopped) into out, and its history lists.
local function trainer_figures(t, out)
  local h = t.history or {}
  local hist = {}
  for _, k in ipairs(FIGURES) do
    local list = h[k]
    if type(list) == "table" and #list > 0 then
      if out[k] == nil then out[k] = list[#list] end
      hist[k] = table.move(list, 1, #list, 1, records.array({}))
    end
  end
  if out.epochs == nil then out.epochs = h.epochs or #(h.train_loss or {}) end
  if t.stopped ~= nil and out.stopped == nil then out.stopped = tostring(t.stopped) end
  return hist
end

-- What a run returned, as a table of figures (and a trainer's history): a
-- number, string or boolean is {value = v}; a trainer gives its final
-- figures; a table keeps its scalar fields and adds those of a trainer in it.
local function as_result(v)
  local t = type(v)
  if t == "number" or t == "string" or t == "boolean" then return { value = v } end
  if is_trainer(v) then
    local out = {}
    return out, trainer_figures(v, out)
  end
  if t == "table" then
    local out, hist = {}, nil
    for k, x in pairs(v) do
      if not is_trainer(x) then out[k] = x end
    end
    for _, x in pairs(v) do
      if is_trainer(x) then hist = trainer_figures(x, out) end
    end
    return out, hist
  end
  return {}
end

-- Quote s for a POSIX shell.
local function shquote(s)
  s = tostring(s)
  if s:match("^[%w@%%+=:,./_-]+$") then return s end
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function absolute(path)
  if path:sub(1, 1) == "/" then return path end
  local cwd = sys.getcwd()
  if not cwd then return path end
  return cwd .. "/" .. path:gsub("^%./", "")
end

-- Whether an error is Ctrl-C's: the interrupt hook raises "interrupted", a
-- trainer "interrupted after batch B of epoch E".
local function is_interrupt(err)
  if type(err) ~= "string" then return false end
  err = err:gsub("^[^\n]-:%d+: ", "")
  return err == "interrupted" or err:match("^interrupted after ") ~= nil
end

local function cell_file(dir, k)
  return ("%s/cell-%04d.jsonl"):format(dir, k)
end

--- The record file of cell k in a record directory: DIR/cell-0007.jsonl.
-- @tparam string dir
-- @tparam integer k
sweep.cell_file = cell_file

-- "3, 9" for a list of numbers.
local function list_text(list)
  local parts = {}
  for i, x in ipairs(list) do parts[i] = tostring(x) end
  return table.concat(parts, ", ")
end

--- Read the records of sweeps (a path or a list; a directory stands for its
-- *.jsonl files) and return them as results sorted by cell, printing the
-- table unless quiet. A cell with several records keeps the last one read
-- (files in the order given, a directory's in name order, lines in order),
-- and says so on stderr; cells of the grid with no record are listed there
-- too ("merge: cells 3, 9 have no record").
-- @param paths a path or a list of paths
-- @tparam[opt] boolean quiet
-- @treturn table results
-- @treturn table {missing = {cells}, duplicated = {cells}}
function sweep.merge(paths, quiet)
  local by_cell, count, cells = {}, {}, 0
  for _, rec in ipairs(records.read(paths, "merge", 2)) do
    local c = math.tointeger(rec.cell)
    if c then
      count[c] = (count[c] or 0) + 1
      by_cell[c] = rec
      cells = math.max(cells, math.tointeger(rec.cells) or 0, c)
    end
  end
  local results, missing, duplicated = {}, {}, {}
  for c = 1, cells do
    if by_cell[c] then results[#results + 1] = by_cell[c] else missing[#missing + 1] = c end
    if (count[c] or 0) > 1 then duplicated[#duplicated + 1] = c end
  end
  if #duplicated > 0 then
    io.stderr:write(("merge: %s %s %s more than one record: the last one read is kept\n"):format(
      #duplicated == 1 and "cell" or "cells", list_text(duplicated), #duplicated == 1 and "has" or "have"))
  end
  if #missing > 0 then
    io.stderr:write(("merge: %s %s %s no record (the grid has %d cells)\n"):format(
      #missing == 1 and "cell" or "cells", list_text(missing), #missing == 1 and "has" or "have", cells))
  end
  if not quiet then sweep.table(results, results[1] and results[1].grid_keys) end
  return results, { missing = missing, duplicated = duplicated }
end

-- Write the answer of --count or --commands, and end the process when the
-- flags came from its own command line (the script is not to go on).
local function give_answer(text, exit)
  local out = (exit and answer) or io.stdout
  out:write(text)
  out:flush()
  if exit then
    answered = true
    os.exit(0, true)
  end
end

local clock = sys.clock  -- wall time; os.clock adds up every thread's CPU time

--- Run every cell of a grid (or the one chosen on the command line).
-- @tparam table opts
--   grid = {key = {values...}, ...} (required);
--   run = function(cfg) ... end (required) returns a table of figures, a
--     number, or a trainer (whose final losses and accuracies are recorded);
--   fixed = settings added to every cell; order = grid keys, slowest first;
--   record = path of a JSON-lines file to append one record per cell to;
--   record_dir = a directory to write cell k's record to, as cell-000k.jsonl;
--   name = a tag written into each record;
--   args = the command line to read the sweep flags from (default: the
--     script's global `arg`);
--   keep_going = true to record a failing cell's error and go on (Ctrl-C
--     still stops the sweep);
--   quiet = true to print nothing.
-- @treturn table results: one {cell=, settings=, result=, seconds=} per cell run
function sweep.sweep(opts)
  if type(opts) ~= "table" then util.argerror(1, FN, "table expected, got " .. type(opts)) end
  util.check_options(opts, FN, OPTIONS)
  if type(opts.grid) ~= "table" then
    error(FN .. ": grid must be a table of lists, e.g. grid = {lr = {0.1, 1}}", 2)
  end
  if type(opts.run) ~= "function" then
    error(FN .. ": run must be a function(cfg) returning the figures of one cell", 2)
  end
  for _, k in ipairs{ "record", "record_dir", "name" } do
    if opts[k] ~= nil and type(opts[k]) ~= "string" then
      error(("%s: %s must be a %s, got %s"):format(FN, k, k == "name" and "string" or "file name",
        type(opts[k])), 2)
    end
  end
  local cells, keys = sweep.cells(opts.grid, opts.fixed, opts.order, 2)
  local args = opts.args
  if args == nil and type(_G.arg) == "table" then args = _G.arg end
  args = args or {}
  local mine = rawequal(args, _G.arg)   -- this process's own command line
  local flags, rest = cli.sweep_args(args)
  if not flags then error(FN .. ": " .. rest, 2) end

  if flags.count then
    if not opts.quiet then give_answer(#cells .. "\n", mine) end
    return {}, "count", #cells
  end
  if flags.commands then
    -- One command per cell: the interpreter and the script by absolute
    -- paths (the same on every machine that shares the files), the script's
    -- other words, the record flags, then --cell k.
    local prog = mine and sys.executable() or args[-1] or "deltalab"
    if prog:find("/", 1, true) then prog = absolute(prog) end
    local base = { shquote(prog), shquote(absolute(args[0] or "script.lua")) }
    for _, a in ipairs(rest) do base[#base + 1] = shquote(a) end
    if flags.record then base[#base + 1] = "--record " .. shquote(flags.record) end
    if flags.record_dir then base[#base + 1] = "--record-dir " .. shquote(flags.record_dir) end
    local lines = {}
    for k = 1, #cells do lines[k] = table.concat(base, " ") .. " --cell " .. k end
    if not opts.quiet then give_answer(table.concat(lines, "\n") .. "\n", mine) end
    return {}, "commands", lines
  end

  local record, record_dir = opts.record, opts.record_dir
  if flags.record or flags.record_dir then record, record_dir = flags.record, flags.record_dir end
  if flags.merge then
    local paths = #flags.merge > 0 and flags.merge or record_dir or record
    if not paths then error(FN .. ": --merge needs record files or directories (or record = in the sweep)", 2) end
    return sweep.merge(paths, opts.quiet), "merge"
  end

  local todo = {}
  if flags.cell then
    if flags.cell < 1 or flags.cell > #cells then
      error(("%s: --cell %d is out of range: the grid has %d cells"):format(FN, flags.cell, #cells), 2)
    end
    todo[1] = flags.cell
  else
    for k = 1, #cells do todo[k] = k end
  end
  if record_dir then
    local ok, err = sys.mkdir(record_dir)
    if not ok then error(FN .. ": cannot make the record directory " .. err, 2) end
  end

  local about
  if record or record_dir then
    local info = package.loaded.deltalab or rawget(_G, "deltalab")
    info = type(info) == "table" and info or {}
    local words = records.array({})
    for i = 1, #args do words[i] = args[i] end
    about = {
      script = args[0] and absolute(args[0]) or nil, args = words,
      deltalab = info.version, isa = info.isa, host = sys.hostname(),
      machine = records.machine(),
    }
  end
  local results = {}
  for n, k in ipairs(todo) do
    local cfg = cells[k]
    local arg_cfg = {}
    for key, v in pairs(cfg) do arg_cfg[key] = v end   -- run may modify its copy
    local start = os.time()
    local t0 = clock()
    local ok, res = true, nil
    if opts.keep_going then
      ok, res = pcall(opts.run, arg_cfg)
    else
      res = opts.run(arg_cfg)
    end
    local secs = clock() - t0
    local grid_cfg = {}
    for _, key in ipairs(keys) do grid_cfg[key] = cfg[key] end
    local r = {
      cell = k, cells = #cells, settings = cfg, grid = grid_cfg, grid_keys = keys,
      seconds = secs, name = opts.name, seed = cfg.seed,
    }
    if ok then
      r.result, r.history = as_result(res)
    else
      r.error = tostring(res)
      r.interrupted = is_interrupt(res) or nil
    end
    if about then
      for key, v in pairs(about) do r[key] = v end
      r.start = os.date("!%Y-%m-%dT%H:%M:%SZ", start)
      r.time = r.start
      if record_dir then
        local ok2, err = sys.write_atomic(cell_file(record_dir, k), records.encode(r) .. "\n")
        if not ok2 then error(FN .. ": cannot write the record " .. err, 2) end
      else
        records.append(record, r, FN, 2)
      end
    end
    results[#results + 1] = r
    if r.interrupted then
      -- Ctrl-C stops the sweep, keep_going or not: the cells after this
      -- one are not run, and the interrupt goes on to the caller.
      if not opts.quiet then sweep.table(results, keys, io.stdout) end
      local left = #todo - n
      io.stderr:write(("%s: interrupted in cell %d%s\n"):format(FN, k,
        left > 0 and (" (%d more not run)"):format(left) or ""))
      error(res, 0)
    end
  end
  if not opts.quiet then sweep.table(results, keys, io.stdout) end
  return results
end

return sweep
