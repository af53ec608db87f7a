-- deltalab.cli, the examples' command line: flag forms, types, defaults,
-- dashes as underscores, words kept, `given`; cli.pad counts characters, not
-- bytes. (Refusals exit the program, so tests/e2e/examples.sh checks them.)
local T = require "check"
local cli = require "deltalab.cli"

T.test("flags: --name value, --name=value, booleans, defaults", function()
  local o = cli.parse({ "--lr", "0.5", "--epochs=3", "--quick", "--name", "x y", "word" },
    { lr = 0.1, epochs = 6, quick = false, verbose = false, name = "a", seed = 1 })
  T.eq(o.lr, 0.5); T.eq(o.epochs, 3); T.eq(o.quick, true); T.eq(o.verbose, false)
  T.eq(o.name, "x y"); T.eq(o.seed, 1); T.eq(o[1], "word")
  T.eq(o.given.lr, true); T.eq(o.given.seed, nil)
end)

T.test("--no-plot and --png are there for every script", function()
  local o = cli.parse({}, {})
  T.eq(o.no_plot, false); T.eq(o.png, nil)
  o = cli.parse({ "--no-plot", "--png", "/tmp/p" }, {})
  T.eq(o.no_plot, true); T.eq(o.png, "/tmp/p")
end)

T.test("cli.text: a string flag with no default", function()
  local o = cli.parse({}, { compare = cli.text })
  T.eq(o.compare, nil)
  o = cli.parse({ "--compare", "1,32" }, { compare = cli.text })
  T.eq(o.compare, "1,32")
end)

T.test("dashes in flag names are underscores in the options", function()
  local o = cli.parse({ "--compare-epochs", "2" }, { compare_epochs = 1 })
  T.eq(o.compare_epochs, 2)
end)

T.test("pad: UTF-8 characters count once", function()
  T.eq(cli.pad("λ", 3), "λ  ")
  T.eq(cli.pad("‖W‖", 5, true), "  ‖W‖")
  T.eq(cli.pad("toolong", 3), "toolong")
end)

T.done()
