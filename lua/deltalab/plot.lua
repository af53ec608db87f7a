--- deltalab.plot: pictures through gnuplot (in progress).
local plot = {}
return plot
