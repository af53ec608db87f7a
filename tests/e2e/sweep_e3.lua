-- The toy sweep of the engine tests (tests/e2e/sweep_*.sh), run there as
-- e3.lua: four cells, each a small network trained on XOR for a few dozen
-- epochs (a fraction of a second), returning its trainer, whose final
-- losses and accuracies are the figures compared across engines.
print("the script's own output: ignored by --count and --commands")
trainer.sweep{
  grid = { lr = { 0.5, 2 }, hidden = { 2, 4 } },
  fixed = { epochs = 40, seed = 3 },
  run = function(cfg)
    local net = network{ 2, { cfg.hidden, "sigmoid" }, { 2, "softmax" }, cost = "log_likelihood",
                         seed = cfg.seed }
    local t = trainer{ net = net, train = data.xor(), lr = cfg.lr, epochs = cfg.epochs,
                       seed = cfg.seed, progress = false }
    return t:run()
  end,
}
