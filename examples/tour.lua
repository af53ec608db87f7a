-- tour.lua — the guided tour run by `make demo` (grown as the features land).
print("deltalab " .. (deltalab_version or "") .. " — a lab for backpropagation")
local m = matrix{ { 1, 2 }, { 3, 4 } }
print(m)
