--- deltalab.plot.style: the colours every kind draws with.
--
-- Class k (0-based, as labels are everywhere in deltalab) is the k-th colour
-- of Tableau 10, readable on white and by most colour-blind readers; decision
-- regions use pale versions of the same colours; images and heatmaps use one
-- of four gnuplot palettes.

local style = {}

style.COLOURS = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf" }

--- The colour of 0-based class label (label k uses COLOURS[k % 10 + 1]).
function style.colour(label)
  return style.COLOURS[math.floor(label) % #style.COLOURS + 1]
end

--- hex ("#rrggbb") mixed 70 % of the way to white.
function style.pale(hex)
  local r, g, b = tonumber(hex:sub(2, 3), 16), tonumber(hex:sub(4, 5), 16), tonumber(hex:sub(6, 7), 16)
  local function mix(c) return math.floor(c + (255 - c) * 0.7 + 0.5) end
  return ("#%02x%02x%02x"):format(mix(r), mix(g), mix(b))
end

--- The gnuplot command of each palette name.
style.PALETTES = {
  ink = "set palette gray negative",                      -- 0 white paper, 1 black ink
  gray = "set palette gray",
  diverging = "set palette defined (0 '#2166ac', 1 '#f7f7f7', 2 '#b2182b')",  -- blue < 0 < red
  viridis = "set palette defined (0 '#440154', 1 '#3b528b', 2 '#21908d', 3 '#5dc963', 4 '#fde725')",
}

return style
