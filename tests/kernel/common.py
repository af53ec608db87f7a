"""What the kernel tests share: a deltalab kernel started by the real
jupyter_client, and a runner for a cell that collects its iopub messages."""
import os
import sys

from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpec

DELTALAB = os.path.abspath(os.environ.get("DELTALAB", "./deltalab"))


class Checks:
    """ok/not ok lines and the "N passed, N failed" summary tests/run.sh reads."""

    def __init__(self):
        self.passed = self.failed = 0

    def check(self, cond, name, detail=""):
        if cond:
            self.passed += 1
            print("ok - " + name)
        else:
            self.failed += 1
            print("not ok - %s%s" % (name, ": " + str(detail)[:600] if detail else ""))
        sys.stdout.flush()

    def summary(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0


def spec():
    return KernelSpec(argv=[DELTALAB, "--kernel", "{connection_file}"],
                      language="lua", display_name="deltalab")


def start(stderr=None):
    km = KernelManager()
    km._kernel_spec = spec()
    km.start_kernel(stderr=stderr)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=30)
    return km, kc


def run(kc, code, timeout=60):
    """Execute code; the reply's content and the iopub messages (type, content)."""
    out = []
    reply = kc.execute_interactive(code, timeout=timeout,
                                   output_hook=lambda m: out.append((m["msg_type"], m["content"])))
    return reply["content"], [o for o in out if o[0] != "status"]
