--- check: the Lua tests' harness.
-- A test file is a list of named tests; each failure names the test and the
-- line; the file ends with T.done(), which prints "N passed, N failed" (and
-- ", N skipped" after it when some could not run) and sets the exit status.
--
--     local T = require "check"
--     T.test("zeros has the shape asked for", function()
--       T.eq(select(2, matrix.zeros(2, 3):shape()), 3)
--       T.checkerror("invalid function 'sigmod'", m.apply, m, "sigmod")
--     end)
--     T.done()
local T = { passed = 0, failed = 0, skipped = 0 }

local function fail(msg, level)
  error(msg, (level or 1) + 1)
end

--- Run fn as one test named name. A test that finds it cannot run here
-- calls T.skip and returns: it is counted as skipped, not as passed.
function T.test(name, fn)
  local skipped_before = T.skipped
  local ok, err = xpcall(fn, debug.traceback)
  if ok and T.skipped > skipped_before then
    return
  elseif ok then
    T.passed = T.passed + 1
    print("ok - " .. name)
  else
    T.failed = T.failed + 1
    print("not ok - " .. name)
    print("  " .. tostring(err):gsub("\n", "\n  "))
  end
end

--- A test that cannot run here (missing data, no gnuplot): counted apart,
-- never as passed, with a "skip" mark so the reason is visible.
function T.skip(name, why)
  T.skipped = T.skipped + 1
  print("ok - " .. name .. " # skip " .. why)
end

function T.eq(got, want, what)
  if got ~= want then
    fail(("%s: got %s, expected %s"):format(what or "value", tostring(got), tostring(want)), 2)
  end
end

--- |got − want| <= tol.
function T.near(got, want, tol, what)
  if type(got) ~= "number" or not (math.abs(got - want) <= tol) then
    fail(("%s: got %s, expected %.9g ± %g"):format(what or "value", tostring(got), want, tol), 2)
  end
end

function T.truthy(v, what)
  if not v then fail((what or "condition") .. " is false", 2) end
end

--- f(...) must raise an error whose message contains pattern (a plain string
-- unless it starts with "^" or contains "%"), and the program must go on.
function T.checkerror(pattern, f, ...)
  local ok, err = pcall(f, ...)
  if ok then fail("expected an error matching '" .. pattern .. "', got none", 2) end
  err = tostring(err)
  local plain = not (pattern:find("%", 1, true) or pattern:sub(1, 1) == "^")
  if not err:find(pattern, 1, plain) then
    fail(("error '%s' does not match '%s'"):format(err, pattern), 2)
  end
  return err
end

function T.done()
  local skipped = T.skipped > 0 and (", %d skipped"):format(T.skipped) or ""
  print(("%d passed, %d failed%s"):format(T.passed, T.failed, skipped))
  os.exit(T.failed == 0 and 0 or 1, true)  -- close the state: finalizers run, leak checkers see no live heap
end

return T
