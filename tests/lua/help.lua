-- help(): texts come from doc pages (a fixture here, and the real doc/repl.md,
-- doc/help.md), functions are named by identity, unknown names get a useful message.
local T = require "check"

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local fixture = here .. "/helpdoc"
local zeros, shape = matrix.zeros, matrix.zeros(1, 1).shape

local function use_fixture()
  help.docdir = fixture
  help.reload()
end

local function has(text, s, what)
  T.truthy(type(text) == "string" and text:find(s, 1, true),
    (what or "text") .. " contains '" .. s .. "'; got:\n" .. tostring(text))
end

local function lacks(text, s, what)
  T.truthy(not text:find(s, 1, true), (what or "text") .. " does not contain '" .. s .. "'")
end

T.test("a function value gives its entry, up to the next heading", function()
  use_fixture()
  local text = help.text(zeros)
  T.eq(text:match("^[^\n]*"), "matrix.zeros(rows, cols)", "first line (the signature, no backquotes)")
  has(text, "A rows×cols matrix of zeros.")
  has(text, "Last line of zeros.")
  has(text, "#### A sub-heading stays in the entry")
  lacks(text, "Rows and columns.", "zeros' entry")
end)

T.test("code blocks are indented, and a '#' inside one starts no heading", function()
  use_fixture()
  local text = help.text("matrix.zeros")
  has(text, "\n    # not a heading: inside a code block\n    local m = matrix.zeros(2, 3)")
  lacks(text, "```")
end)

T.test("by name: module.function, type:method, and . and : interchangeable", function()
  use_fixture()
  T.eq(help.text("matrix.zeros"), help.text(zeros))
  T.eq(help.text("matrix:shape"):match("^[^\n]*"), "matrix:shape()")
  T.eq(help.text("matrix.shape"), help.text("matrix:shape"))
  T.eq(help.text("  matrix.zeros()  "), help.text(zeros), "spaces and () around the name")
end)

T.test("a method value is found through the type's metatable", function()
  use_fixture()
  T.eq(help.text(shape):match("^[^\n]*"), "matrix:shape()")
end)

T.test("a module: title, overview and the list of entries, not their texts", function()
  use_fixture()
  local text = help.text(matrix)
  T.eq(text:match("^[^\n]*"), "matrix — fixture matrices")
  has(text, "The overview of the fixture matrix page.\nIt has two lines.")
  has(text, "  matrix.zeros(rows, cols)\n  matrix:shape()")
  lacks(text, "A rows×cols matrix")
  lacks(text, "belongs to no entry")
  T.eq(help.text("matrix"), text, "by name")
end)

T.test("a value of a C type lists the type's methods, documented or not", function()
  use_fixture()
  local text = help.text(matrix.zeros(2, 2))
  has(text, "matrix:shape()")
  has(text, "Not documented yet:")
  has(text, "matrix:get")
  lacks(text, "matrix.zeros", "a matrix value's methods (zeros is the module's)")
  T.eq(help.text("matrix"):match("^[^\n]*"), "matrix — fixture matrices")
end)

T.test("help.type registers a Lua type: its methods get names and entries", function()
  use_fixture()
  local widget = {}
  widget.__index = widget
  function widget:spin(n) return n end
  function widget:wobble() end
  T.eq(help.type("widget", widget), widget, "returns the methods")
  has(help.text(widget.spin), "widget:spin(n)\n\nSpin n times.")
  local text = help.text(setmetatable({}, widget))
  has(text, "widget:spin(n)")
  has(text, "widget:wobble")
  T.eq(help.text("widget:spin"), help.text(widget.spin))
  T.checkerror("bad argument #1 to 'type' (string expected, got number)", help.type, 1, {})
  T.checkerror("bad argument #2 to 'type' (table expected, got nil)", help.type, "x")
end)

T.test("pages not linked from README.md are found; a module's page by its entries", function()
  use_fixture()
  local text = help.text(trainer)
  T.eq(text:match("^[^\n]*"), "trainer — fixture training")
  has(text, "  trainer{...}\n  trainer:run([n])")
  has(help.text(), "trainer   fixture training")
  T.eq(help.text("trainer{...}"), "trainer{...}\n\nMakes a trainer.")
end)

T.test("a page that is no module prints whole", function()
  use_fixture()
  local text = help.text("notes")
  has(text, "# notes — a plain page")
  has(text, "The rest of the page.")
end)

T.test("the guide lists the modules with their page titles", function()
  use_fixture()
  local text = help.text()
  has(text, "Modules:")
  has(text, "matrix    fixture matrices")
  has(text, "network   (no page yet)")
  has(text, "notes", "the other pages")
end)

T.test("unknown names: nil and a message, with close names when there are", function()
  use_fixture()
  local text, err = help.text("matrix.zeroes")
  T.eq(text, nil)
  has(err, "nothing is called 'matrix.zeroes' — did you mean matrix.zeros?")
  text, err = help.text("qqqqqqq")
  T.eq(text, nil)
  has(err, "help() lists the modules")
  text, err = help.text(nil)
  T.eq(text, nil)
  has(err, "got nil")
end)

T.test("functions without an entry, Lua's own, and anonymous ones", function()
  use_fixture()
  has(help.text(matrix.from), "matrix.from: no documentation yet")
  has(help.text(print), "https://www.lua.org/manual/5.4/manual.html#pdf-print")
  has(help.text(string.format), "#pdf-string.format")
  local f = function() end
  has(help.text(f), "a Lua function defined at")
  has(help.text(42), "no documentation for a number value")
end)

T.test("a name of the session leads to its value", function()
  use_fixture()
  m_for_help_test = matrix.zeros(1, 1)
  T.eq(help.text("m_for_help_test:shape"):match("^[^\n]*"), "matrix:shape()")
  m_for_help_test = nil
end)

T.test("help(x) prints the text and returns nothing", function()
  use_fixture()
  local printed = {}
  local real = print
  print = function(...) printed[#printed + 1] = table.concat({ ... }, "\t") end
  local n = select("#", help(zeros))
  print = real
  T.eq(n, 0, "values returned")
  T.eq(printed[1], help.text(zeros))
end)

T.test("the real docs: doc/repl.md and doc/help.md, found without help.docdir", function()
  help.docdir = nil
  help.reload()
  has(help.text(deltalab.use), "deltalab.use(isa)\n\nMake `isa`")
  has(help.text("deltalab.isa"), "The compute kernels in use")
  T.eq(help.text("repl"):match("^[^\n]*"), "# repl — the prompt and the command line")
  has(help.text(help.type), "help.type(name, methods)")
  has(help.text(help), "help — documentation at the prompt")
  has(help.text(help), "  help.type(name, methods)")
  has(help.text(), "Modules:")
  has(help.text(deltalab), "  deltalab.use(isa)")
end)

T.done()
