--- deltalab.plot: pictures through gnuplot.
--
-- Loss curves, digits, weights as images, decision regions and the path of
-- gradient descent, drawn by the real `gnuplot` program: in a window when
-- there is a display, in the terminal otherwise (text, or sixels), or in a
-- PNG, SVG or PDF file when asked. One gnuplot process per figure, kept open
-- between plots; gnuplot's complaints come back as Lua errors.
--
--     > plot.lines{train = {0.9, 0.5, 0.3}, val = {1.0, 0.7, 0.6}, title = "loss"}
--     > plot.lines(t.history, "acc")
--     > plot.output("digits.png", {size = {600, 500}})
--     > plot.grid(d.test.X, {cols = 5, rows = 4, titles = t})
--
-- This file is the public face; the work is done in lua/deltalab/plot/:
-- gnuplot.lua (quoting, the text of a plot, the gnuplot process), term.lua
-- (destinations, terminals, text art), figure.lua (the figure object),
-- kinds.lua with charts.lua, images.lua, functions.lua (the plot kinds),
-- axes.lua and legend.lua (ticks; where the legend goes), live.lua (training
-- curves), values.lua and style.lua (arguments, colours).
-- See doc/plot.md for the reference and a picture of each kind.
--
-- @module deltalab.plot

local gnuplot = require "deltalab.plot.gnuplot"
local figure = require "deltalab.plot.figure"
local kinds = require "deltalab.plot.kinds"
local live = require "deltalab.plot.live"

local plot = {}

--- Settings used when a call and its figure say nothing else: `size` of
-- files and windows in pixels, `timeout` in seconds for one plot, `program`
-- (the gnuplot to run; DELTALAB_GNUPLOT overrides "gnuplot").
plot.defaults = gnuplot.defaults

--- The quoting every string gets on its way to gnuplot.
plot.quote = gnuplot.quote

--- A new figure, which becomes the current one (see figure.new).
plot.figure = figure.new

--- The methods of a figure (what help lists for one).
plot.figure_methods = figure.methods

-- plot.X draws in the current figure, fig:X in fig; both build the plot
-- with kinds.build.X and send it with figure.emit.
for _, name in ipairs(kinds.ORDER) do
  local build = kinds.build[name]
  figure.methods[name] = function(fig, ...)
    figure.check(fig, name)
    local ctx = gnuplot.script(name, "figure:" .. name)
    local o = build(ctx, ...) or {}
    return figure.emit(fig, name, ctx, o)
  end
  plot[name] = function(...)
    local fig = figure.current()
    local ctx = gnuplot.script(name, "plot." .. name)
    local o = build(ctx, ...) or {}
    return figure.emit(fig, name, ctx, o)
  end
end

--- The current figure's output (see `figure:output`).
-- @usage plot.output("loss.png", {size = {640, 480}})
function plot.output(dest, opts) return figure.current():output(dest, opts) end

--- Write the current figure's plots to a gnuplot script (see `figure:script`).
function plot.script(path) return figure.current():script(path) end

--- Wait for the current figure's window to close.
function plot.show()
  local f = figure.current_or_nil()
  if f then f:show() end
end

--- Close the current figure.
function plot.close()
  local f = figure.current_or_nil()
  if f then f:close() end
end

--- Close every figure: every gnuplot this program started is ended and reaped.
plot.closeall = figure.closeall

--- Live training curves (see deltalab.plot.live).
plot.live = live.new

return plot
