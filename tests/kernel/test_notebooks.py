"""Notebooks executed by nbclient through the deltalab kernelspec: the
tutorial (examples/notebooks/tutorial.ipynb) and a notebook of test cells."""
import base64
import json
import os
import sys
import tempfile

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

sys.path.insert(0, os.path.dirname(__file__))
from common import DELTALAB, Checks  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def kernelspec_dir():
    """A Jupyter path with a deltalab kernelspec for the program under test,
    as make kernel writes one (the user's own kernels stay untouched)."""
    d = tempfile.mkdtemp(prefix="deltalab-jupyter-")
    os.makedirs(os.path.join(d, "kernels", "deltalab"))
    with open(os.path.join(d, "kernels", "deltalab", "kernel.json"), "w") as f:
        json.dump({"argv": [DELTALAB, "--kernel", "{connection_file}"],
                   "display_name": "deltalab", "language": "lua", "interrupt_mode": "signal"}, f)
    return d


def execute(nb, cwd):
    NotebookClient(nb, kernel_name="deltalab", timeout=300, allow_errors=True,
                   resources={"metadata": {"path": cwd}}).execute()
    return nb


def outputs(cell):
    return cell.get("outputs", [])


def mimes(cell):
    m = set()
    for o in outputs(cell):
        m.update(o.get("data", {}).keys())
    return m


def png_ok(cell):
    for o in outputs(cell):
        p = o.get("data", {}).get("image/png")
        if p and base64.b64decode(p)[:8] == b"\x89PNG\r\n\x1a\n":
            return True
    return False


def main():
    t = Checks()
    jp = kernelspec_dir()
    os.environ["JUPYTER_PATH"] = jp + os.pathsep + os.environ.get("JUPYTER_PATH", "")
    work = tempfile.mkdtemp(prefix="deltalab-nb-")

    # the tutorial, stored without outputs
    path = os.path.join(ROOT, "examples", "notebooks", "tutorial.ipynb")
    stored = nbformat.read(path, as_version=4)
    t.check(all(not c.get("outputs") and not c.get("execution_count")
                for c in stored.cells if c.cell_type == "code"),
            "the tutorial is stored without outputs")
    nb = execute(stored, work)
    code = [c for c in nb.cells if c.cell_type == "code"]
    errors = [(c.source[:60], o.get("evalue")) for c in code for o in outputs(c) if o.output_type == "error"]
    t.check(not errors, "the tutorial runs without errors", errors)
    trace = [c for c in code if "net:trace" in c.source]
    t.check(trace and "text/latex" in mimes(trace[0]) and "text/plain" in mimes(trace[0]),
            "the tutorial's trace displays as text/latex beside text/plain",
            trace and outputs(trace[0]))
    boundary = [c for c in code if "plot.boundary" in c.source]
    t.check(boundary and png_ok(boundary[0]), "the tutorial's decision boundary is an inline PNG")
    acc = [c for c in code if "training accuracy" in c.source]
    text = "".join(o.get("data", {}).get("text/plain", "") for o in outputs(acc[0])) if acc else ""
    t.check(text.startswith("training accuracy") and float(text.split()[-1].rstrip("%")) > 90,
            "the spirals network learns (training accuracy above 90%)", text)
    mnist = [c for c in code if "data.mnist" in c.source][0]
    said = "".join(o.get("text", "") for o in outputs(mnist))
    if "MNIST is not here" in said:
        print("skipped: MNIST mistakes (no MNIST here)")
    else:
        t.check(png_ok(mnist) and "test accuracy" in said, "MNIST's most confident mistakes are shown", said)
    left = [f for f in os.listdir(work)]
    t.check(not left, "the tutorial leaves no file behind", left)

    # a notebook of test cells
    cells = ["1 + 1", "print('to the stream')", "error('this cell fails')",
             "plot.lines{y = {1, 4, 9, 16}}",
             "trn = trainer{net = network{2, {8, 'tanh'}, {2, 'softmax'}, cost = 'log_likelihood', seed = 1},\n"
             "  train = data.xor{n = 400, seed = 1}, batch = 4, lr = 0.1, epochs = 5, progress = true}\n"
             "trn:run();",
             "'after the error'"]
    nb = execute(new_notebook(cells=[new_code_cell(c) for c in cells],
                              metadata={"kernelspec": {"name": "deltalab", "display_name": "deltalab"}}), work)
    c = nb.cells
    r = [o for o in outputs(c[0]) if o.output_type == "execute_result"]
    t.check(r and r[0]["data"]["text/plain"] == "2", "nbclient: 1 + 1 gives 2", outputs(c[0]))
    s = [o for o in outputs(c[1]) if o.output_type == "stream"]
    t.check(s and s[0]["text"] == "to the stream\n", "nbclient: print gives a stream", outputs(c[1]))
    e = [o for o in outputs(c[2]) if o.output_type == "error"]
    t.check(e and "this cell fails" in e[0]["evalue"], "nbclient: an error names its message", outputs(c[2]))
    t.check(png_ok(c[3]), "nbclient: plot.lines gives image/png")
    n = len(outputs(c[4]))
    t.check(0 < n <= 3, "nbclient: a progress bar gives a bounded number of outputs (%d)" % n, outputs(c[4]))
    r = [o for o in outputs(c[5]) if o.output_type == "execute_result"]
    t.check(r and r[0]["data"]["text/plain"] == "after the error", "nbclient: cells run after an error")
    return t.summary()


if __name__ == "__main__":
    sys.exit(main())
