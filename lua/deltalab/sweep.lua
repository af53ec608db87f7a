--- deltalab.sweep: run a function over every cell of a grid of settings.
-- `trainer.sweep` is this module's `sweep`. A grid is a table of lists; the
-- cells are every combination, numbered 1..N in a fixed order (keys sorted,
-- the last key varying fastest), so that cell k means the same settings on
-- every machine. A script that calls sweep can run all cells, one cell
-- (`--cell k`), or print one command per cell for GNU parallel or a Slurm
-- job array (`--commands`), and merge the records afterwards (`--merge`).
--
--     > r = trainer.sweep{grid = {lr = {0.1, 1}, lambda = {0, 1}},
--     >                   run = function(cfg) return {acc = cfg.lr * 0.5} end}
--     cell  lambda  lr   acc   seconds
--        1       0  0.1  0.05  0.00
--     ...
local records = require "deltalab.records"

local sweep = {}

local function argerror(n, fname, msg)
  error(("bad argument #%d to '%s' (%s)"):format(n, fname, msg), 3)
end

-- The grid's keys in cell order: opts.order if given, else sorted.
local function grid_keys(grid, order)
  local keys = {}
  if order then
    for i, k in ipairs(order) do
      if grid[k] == nil then
        error(("sweep: order[%d] names '%s', which is not in the grid"):format(i, tostring(k)), 3)
      end
      keys[i] = k
    end
    for k in pairs(grid) do
      local found = false
      for _, o in ipairs(order) do found = found or o == k end
      if not found then error(("sweep: grid key '%s' is missing from order"):format(tostring(k)), 3) end
    end
  else
    for k in pairs(grid) do
      if type(k) ~= "string" then
        error(("sweep: grid keys must be names, got a %s"):format(type(k)), 3)
      end
      keys[#keys + 1] = k
    end
    table.sort(keys)
  end
  for _, k in ipairs(keys) do
    local v = grid[k]
    if type(v) ~= "table" or #v == 0 then
      error(("sweep: grid.%s must be a non-empty list of values"):format(k), 3)
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
function sweep.cells(grid, fixed, order)
  if type(grid) ~= "table" then
    error(("bad argument #1 to 'cells' (table expected, got %s)"):format(type(grid)), 2)
  end
  local keys = grid_keys(grid, order)
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
    error(("bad argument #1 to 'sweep_table' (table of results expected, got %s)"):format(type(results)), 2)
  end
  for i, r in ipairs(results) do
    if type(r) ~= "table" then
      error(("bad argument #1 to 'sweep_table' (result %d is a %s, not a table)"):format(i, type(r)), 2)
    end
  end
  if keys ~= nil and type(keys) ~= "table" then
    error(("bad argument #2 to 'sweep_table' (table of keys expected, got %s)"):format(type(keys)), 2)
  end
  for i, k in ipairs(keys or {}) do
    if type(k) ~= "string" then
      error(("bad argument #2 to 'sweep_table' (key %d is a %s, not a string)"):format(i, type(k)), 2)
    end
  end
  if out ~= nil and io.type(out) ~= "file" then
    error(("bad argument #3 to 'sweep_table' (open file expected, got %s)"):format(
      io.type(out) or type(out)), 2)
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
    if r.error then out:write(("cell %d failed: %s\n"):format(r.cell, r.error)) end
  end
end

-- What a run returned, as a table of figures: a trainer gives its summary.
local function as_result(v)
  if type(v) == "number" or type(v) == "string" or type(v) == "boolean" then
    return { value = v }
  end
  local mt = getmetatable(v)
  if mt and mt.__name == "trainer" then return v:summary() end
  if type(v) == "table" then
    local out = {}
    for k, x in pairs(v) do
      local mx = getmetatable(x)
      out[k] = (mx and mx.__name == "trainer") and x:summary() or x
    end
    return out
  end
  return {}
end

-- The flags sweep reads from a script's command line, the rest left alone.
local function parse_args(args)
  local flags = { rest = {} }
  local i = 1
  while args and args[i] ~= nil do
    local a = args[i]
    if a == "--cell" then
      local k = math.tointeger(tonumber(args[i + 1]))
      if not k then error("sweep: --cell needs a cell number, got " .. tostring(args[i + 1]), 0) end
      flags.cell = k; i = i + 2
    elseif a:match("^%-%-cell=") then
      flags.cell = math.tointeger(tonumber(a:sub(8)))
      if not flags.cell then error("sweep: --cell needs a cell number, got " .. a:sub(8), 0) end
      i = i + 1
    elseif a == "--commands" then flags.commands = true; i = i + 1
    elseif a == "--record" then
      if args[i + 1] == nil then error("sweep: --record needs a file name", 0) end
      flags.record = args[i + 1]; i = i + 2
    elseif a == "--count" then flags.count = true; i = i + 1
    elseif a == "--merge" then
      flags.merge = {}
      i = i + 1
      while args[i] ~= nil and not args[i]:match("^%-%-") do
        flags.merge[#flags.merge + 1] = args[i]; i = i + 1
      end
    else
      flags.rest[#flags.rest + 1] = a; i = i + 1
    end
  end
  return flags
end

-- Quote s for a POSIX shell.
local function shquote(s)
  if s:match("^[%w@%%+=:,./_-]+$") then return s end
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

--- Read records (one path or a list) written by sweeps and return them as
-- results sorted by cell, printing the table unless quiet. When a cell was
-- run more than once the last record wins.
-- @param paths a path or a list of paths
-- @tparam[opt] boolean quiet
function sweep.merge(paths, quiet)
  local by_cell, order = {}, {}
  for _, rec in ipairs(records.read(paths, "merge", 2)) do
    if rec.cell then
      if not by_cell[rec.cell] then order[#order + 1] = rec.cell end
      by_cell[rec.cell] = rec
    end
  end
  table.sort(order)
  local results = {}
  for i, c in ipairs(order) do results[i] = by_cell[c] end
  if not quiet then sweep.table(results, results[1] and results[1].grid_keys) end
  return results
end

--- Run every cell of a grid (or the one chosen on the command line).
-- @tparam table opts
--   grid = {key = {values...}, ...} (required);
--   run = function(cfg) ... end (required) returns a table of figures, a
--     number, or a trainer (whose summary is recorded);
--   fixed = settings added to every cell; order = grid keys, slowest first;
--   record = path of a JSON-lines file to append one record per cell to;
--   name = a tag written into each record;
--   args = the command line to read --cell/--commands/--count/--merge/--record from
--     (default: the script's global `arg`);
--   keep_going = true to record a failing cell's error and go on;
--   quiet = true to print nothing.
-- @treturn table results: one {cell=, settings=, result=, seconds=} per cell run
function sweep.sweep(opts)
  if type(opts) ~= "table" then argerror(1, "sweep", "table expected, got " .. type(opts)) end
  local known = { grid = 1, run = 1, fixed = 1, order = 1, record = 1, args = 1, quiet = 1,
                  keep_going = 1, name = 1 }
  for k in pairs(opts) do
    if not known[k] then
      error(("sweep: unknown option '%s' (expected args, fixed, grid, keep_going, name, order, quiet, record, run)")
        :format(tostring(k)), 2)
    end
  end
  if type(opts.grid) ~= "table" then
    error("sweep: grid must be a table of lists, e.g. grid = {lr = {0.1, 1}}", 2)
  end
  if type(opts.run) ~= "function" then
    error("sweep: run must be a function(cfg) returning the figures of one cell", 2)
  end
  if opts.record ~= nil and type(opts.record) ~= "string" then
    error("sweep: record must be a file name, got " .. type(opts.record), 2)
  end
  local cells, keys = sweep.cells(opts.grid, opts.fixed, opts.order)
  local args = opts.args
  if args == nil and type(_G.arg) == "table" then args = _G.arg end
  local flags = parse_args(args)
  local out = io.stdout
  local record = flags.record or opts.record

  if flags.count then
    if not opts.quiet then out:write(#cells, "\n") end
    return {}, "count", #cells
  end
  if flags.commands then
    -- deltalab script.lua <script args> --cell k: arg[-1] is the program,
    -- arg[0] the script (the stock lua interpreter numbers them the same way).
    local prog = args and args[-1] or "deltalab"
    local script = args and args[0] or "script.lua"
    local base = { shquote(prog), shquote(script) }
    for _, a in ipairs(flags.rest) do base[#base + 1] = shquote(a) end
    if flags.record then base[#base + 1] = "--record " .. shquote(flags.record) end
    local lines = {}
    for k = 1, #cells do
      lines[k] = table.concat(base, " ") .. " --cell " .. k
      if not opts.quiet then out:write(lines[k], "\n") end
    end
    return {}, "commands", lines
  end
  if flags.merge then
    local paths = #flags.merge > 0 and flags.merge or record
    if not paths then error("sweep: --merge needs record files (or record = in the sweep)", 2) end
    return sweep.merge(paths, opts.quiet), "merge"
  end

  local todo = {}
  if flags.cell then
    if flags.cell < 1 or flags.cell > #cells then
      error(("sweep: --cell %d is out of range: the grid has %d cells"):format(flags.cell, #cells), 2)
    end
    todo[1] = flags.cell
  else
    for k = 1, #cells do todo[k] = k end
  end

  local machine = record and records.machine()
  -- Wall-clock seconds (os.clock counts CPU time of every thread).
  local clock = require("deltalab.sys").clock
  local results = {}
  for _, k in ipairs(todo) do
    local cfg = cells[k]
    local arg_cfg = {}
    for key, v in pairs(cfg) do arg_cfg[key] = v end   -- run may modify its copy
    local t0 = clock()
    local w0 = os.time()
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
    if ok then r.result = as_result(res) else r.error = tostring(res) end
    if record then
      r.machine = machine
      r.time = os.date("!%Y-%m-%dT%H:%M:%SZ", w0)
      records.append(record, r)
    end
    results[#results + 1] = r
  end
  if not opts.quiet then sweep.table(results, keys, out) end
  return results
end

return sweep
