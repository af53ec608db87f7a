--- deltalab.plot.style: the colours every kind draws with.
--
-- Class k (0-based, as labels are everywhere in deltalab) is the k-th colour
-- of Tableau 10, readable on white and by most colour-blind readers; decision
-- regions use pale versions of the same colours; images and heatmaps use one
-- of five gnuplot palettes.

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

-- The colours of each defined palette, evenly spaced from its low end to
-- its high end; gnuplot interpolates between them in RGB, as style.rgb does.
local STOPS = {
  diverging = { "#2166ac", "#f7f7f7", "#b2182b" },        -- blue < 0 < red
  viridis = { "#440154", "#3b528b", "#21908d", "#5dc963", "#fde725" },
  blues = { "#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b" },  -- counts: white to dark blue
}

--- The gnuplot command of each palette name.
style.PALETTES = {
  ink = "set palette gray negative",  -- 0 white paper, 1 black ink
  gray = "set palette gray",
}
for name, stops in pairs(STOPS) do
  local parts = {}
  for i, c in ipairs(stops) do parts[i] = ("%d '%s'"):format(i - 1, c) end
  style.PALETTES[name] = "set palette defined (" .. table.concat(parts, ", ") .. ")"
end

local function rgb_of(hex)
  return tonumber(hex:sub(2, 3), 16), tonumber(hex:sub(4, 5), 16), tonumber(hex:sub(6, 7), 16)
end

--- The colour (r, g, b in 0..255) of palette at t in [0, 1], as gnuplot
-- draws it.
function style.rgb(palette, t)
  t = math.max(0, math.min(1, t))
  if palette == "ink" or palette == "gray" then
    -- gnuplot's gray palettes: grey level t^(1/gamma), gamma 1.5 by default
    -- ("set palette gamma"); negative runs it from white
    local g = (palette == "ink" and 1 - t or t) ^ (1 / 1.5) * 255
    return g, g, g
  end
  local stops = STOPS[palette]
  t = t * (#stops - 1)
  local i = math.min(#stops - 1, math.floor(t))
  local r0, g0, b0 = rgb_of(stops[i + 1])
  local r1, g1, b1 = rgb_of(stops[i + 2] or stops[i + 1])
  local f = t - i
  return r0 + (r1 - r0) * f, g0 + (g1 - g0) * f, b0 + (b1 - b0) * f
end

--- The text colour that reads on a cell of palette at t: black or white,
-- whichever contrasts more with it (WCAG's relative luminance: white when
-- the cell is darker than 0.179).
function style.ink(palette, t)
  local function lin(c)
    c = c / 255
    return c <= 0.04045 and c / 12.92 or ((c + 0.055) / 1.055) ^ 2.4
  end
  local r, g, b = style.rgb(palette, t)
  local L = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
  return L < 0.179 and "#ffffff" or "#000000"
end

return style
