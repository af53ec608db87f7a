-- deltalab.sys: the clock, terminals, the process id, the Ctrl-C flag, the
-- display and the machine's description, each against what the system says.
local T = require "check"
local sys = require "deltalab.sys"

T.test("sys.clock is monotonic wall time in seconds", function()
  local t0, c0 = sys.clock(), os.time()
  T.eq(math.type(t0), "float", "type of clock()")
  local t1 = sys.clock()
  T.truthy(t1 >= t0, "clock never goes back")
  -- A shell sleep takes wall time but no CPU time of ours: os.clock would
  -- barely move, sys.clock moves by the sleep.
  os.execute("sleep 0.2")
  local dt = sys.clock() - t1
  T.truthy(dt >= 0.19 and dt < 5, ("slept 0.2 s, clock moved %.3f s"):format(dt))
  T.truthy(os.time() - c0 < 10, "and agrees with os.time to the second")
end)

T.test("sys.isatty takes an io file or a descriptor", function()
  local f = io.tmpfile()
  T.eq(sys.isatty(f), false, "a temporary file")
  f:close()
  T.checkerror("isatty' (attempt to use a closed file)", sys.isatty, f)
  -- What the shell's test -t says of our standard output, through a pipe.
  local p = io.popen((os.getenv("DELTALAB") or "./deltalab") ..
                     " -e 'io.write(tostring(require(\"deltalab.sys\").isatty(1)))'")
  T.eq(p:read("a"), "false", "standard output of a child into a pipe")
  p:close()
  T.eq(sys.isatty(io.stdout), sys.isatty(1), "io.stdout is descriptor 1")
  T.eq(sys.isatty(-1), false, "no such descriptor")
  T.checkerror("isatty' (file or integer expected, got string)", sys.isatty, "1")
  T.checkerror("isatty' (file or integer expected, got no value)", sys.isatty)
end)

T.test("sys.terminal_size: nil off a terminal, the argument checked", function()
  local f = io.tmpfile()
  T.eq(sys.terminal_size(f), nil, "a temporary file")
  f:close()
  T.checkerror("terminal_size' (attempt to use a closed file)", sys.terminal_size, f)
  T.eq(sys.terminal_size(-1), nil, "no such descriptor")
  T.checkerror("terminal_size' (file or integer expected, got string)", sys.terminal_size, "1")
  -- on a terminal: tests/repl/plot.txt, through ptyrun's 250x50 pseudo-terminal
end)

T.test("sys.getpid is this process's id", function()
  local pid = sys.getpid()
  T.eq(math.type(pid), "integer", "type")
  -- /proc/self/stat starts with the pid of whoever opens it.
  local f = io.open("/proc/self/stat")
  if not f then return end
  local stat = f:read("l")
  f:close()
  T.eq(tonumber(stat:match("^(%d+)")), pid, "/proc/self/stat")
end)

T.test("the interrupt flag is raised, seen and cleared", function()
  sys.clear_interrupt()
  T.eq(sys.interrupted(), false, "clear at start")
  sys.interrupt()
  T.eq(sys.interrupted(), true, "after interrupt()")
  T.eq(sys.interrupted(), true, "reading does not clear it")
  sys.clear_interrupt()
  T.eq(sys.interrupted(), false, "after clear_interrupt()")
end)

T.test("sys.display follows DISPLAY and WAYLAND_DISPLAY", function()
  local prog = os.getenv("DELTALAB") or "./deltalab"
  local function display_with(env)
    local p = io.popen("env -u DISPLAY -u WAYLAND_DISPLAY " .. env .. " " .. prog ..
                       " -e 'io.write(tostring(require(\"deltalab.sys\").display()))'")
    local out = p:read("a")
    p:close()
    return out
  end
  T.eq(display_with(""), "false", "neither set")
  T.eq(display_with("DISPLAY="), "false", "DISPLAY empty")
  T.eq(display_with("DISPLAY=:7"), "true", "DISPLAY set")
  T.eq(display_with("WAYLAND_DISPLAY=wayland-0"), "true", "WAYLAND_DISPLAY set")
end)

T.test("sys.info describes this build", function()
  local info = sys.info()
  T.eq(info.version, deltalab.version, "version")
  T.eq(info.isa, deltalab.isa, "isa")
  T.truthy(math.type(info.threads) == "integer" and info.threads >= 1, "threads >= 1")
end)

T.test("every sys function has a help entry, and help names it", function()
  local missing = {}
  for name, f in pairs(sys) do
    local text = help.text(f)
    if not (text and text:find("^sys%." .. name .. "%(")) then missing[#missing + 1] = name end
  end
  table.sort(missing)
  T.eq(table.concat(missing, ", "), "", "undocumented")
end)

T.done()
