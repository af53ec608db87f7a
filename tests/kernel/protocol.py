"""The deltalab kernel driven by the real jupyter_client: each message type,
rich output, interrupt, and bad input refused while the kernel keeps serving."""
import base64
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import zmq
from jupyter_client.session import Session

sys.path.insert(0, os.path.dirname(__file__))
from common import DELTALAB, Checks, run, start  # noqa: E402

HANDWORKED = """net = network{2, 2, 2, freeze = "b", init = {
  {W = {{0.15, 0.20}, {0.25, 0.30}}, b = {0.35, 0.35}},
  {W = {{0.40, 0.45}, {0.50, 0.55}}, b = {0.60, 0.60}}}}
x, y = {0.05, 0.10}, {0.01, 0.99}"""


def data_of(outs, kind):
    return [c["data"] for t, c in outs if t == kind]


def main():
    t = Checks()
    log = tempfile.NamedTemporaryFile(mode="w+", suffix=".log", delete=False)
    km, kc = start(stderr=log)
    try:
        info = kc.kernel_info(reply=True)["content"]
        li = info.get("language_info", {})
        t.check(li.get("name") == "lua" and li.get("file_extension") == ".lua"
                and li.get("pygments_lexer") == "lua" and info.get("protocol_version") == "5.3",
                "kernel_info: lua, .lua, pygments lua, protocol 5.3", info)

        reply, outs = run(kc, "1 + 1")
        res = data_of(outs, "execute_result")
        t.check(reply["status"] == "ok" and res and res[0].get("text/plain") == "2",
                "1 + 1 gives execute_result 2", outs)
        t.check(reply.get("execution_count") == 1, "execution_count counts cells", reply)

        _, outs = run(kc, "_ * 10")
        res = data_of(outs, "execute_result")
        t.check(res and res[0].get("text/plain") == "20", "_ keeps the last result", outs)

        _, outs = run(kc, "x = 3;")
        t.check(not data_of(outs, "execute_result"), "a cell ending in ; shows nothing", outs)

        _, outs = run(kc, "a = 6\nb = 7\na * b")
        res = data_of(outs, "execute_result")
        t.check(res and res[0].get("text/plain") == "42", "statements then an expression show its value", outs)

        _, outs = run(kc, "print('hello', 42) io.write('there\\n')")
        streams = "".join(c["text"] for ty, c in outs if ty == "stream" and c["name"] == "stdout")
        t.check(streams == "hello\t42\nthere\n", "print and io.write give a stdout stream", outs)

        _, outs = run(kc, "io.read('l')")
        res = data_of(outs, "execute_result")
        t.check(res and res[0].get("text/plain") == "nil", "io.read in a cell reads end of input", outs)

        reply, outs = run(kc, "error('the sky is falling')")
        errs = [c for ty, c in outs if ty == "error"]
        t.check(reply["status"] == "error" and errs and "the sky is falling" in errs[0]["evalue"]
                and any("traceback" in line for line in errs[0]["traceback"]),
                "an error gives an error output with the message and the traceback", outs)

        reply, outs = run(kc, "for i = 1, 3 do")
        t.check(reply["status"] == "error" and "'end' expected" in reply.get("evalue", ""),
                "an unfinished cell says what is missing", reply)

        _, outs = run(kc, "matrix{{1, 2.5}, {3, 4}}")
        res = data_of(outs, "execute_result")
        html = res[0].get("text/html", "") if res else ""
        t.check(res and "[matrix 2x2]" in res[0].get("text/plain", "") and "<table" in html
                and "<td>2.5</td>" in html and html.count("<tr>") == 2,
                "a matrix gives text/plain and an HTML table", res)

        _, outs = run(kc, "matrix.zeros(30, 40)")
        res = data_of(outs, "execute_result")
        html = res[0].get("text/html", "") if res else ""
        t.check("30&times;40" in html and "more rows" in html and html.count("<tr>") < 30,
                "a large matrix's table is summarised", html[:300])

        _, outs = run(kc, HANDWORKED + "\nnet:trace(x, y, {format = 'latex'})")
        res = data_of(outs, "execute_result")
        latex = res[0].get("text/latex", "") if res else ""
        t.check("\\begin{align*}" in latex and "\\end{align*}" in latex and "%" not in latex.split("\n")[0],
                "net:trace latex gives text/latex", res)
        t.check(all(("\\tag{BP%d}" % i) in latex for i in (1, 2, 3, 4)) and latex.count("\\tag{BP1}") == 1
                and latex.count("\\tag{BP3}") == 2, "the latex trace numbers BP1 to BP4 (BP2-BP4 per layer)", latex)

        _, outs = run(kc, "plot.lines{loss = {3, 2, 1.5, 1.2}, title = 'loss'}; tmpfiles = nil")
        imgs = data_of(outs, "display_data")
        png = base64.b64decode(imgs[0]["image/png"]) if imgs and "image/png" in imgs[0] else b""
        t.check(png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000, "plot.lines gives image/png", outs)
        left = [f for f in os.listdir(tempfile.gettempdir()) if f.startswith("lua_") and f.endswith(".png")]
        t.check(not left, "no picture file is left behind", left)

        _, outs = run(kc, "deltalab_kernel = require 'deltalab.kernel'\n"
                          "deltalab_kernel.plot_format = 'svg'\n"
                          "plot.lines{loss = {3, 2, 1}}; deltalab_kernel.plot_format = 'png'")
        imgs = data_of(outs, "display_data")
        svg = imgs[0].get("image/svg+xml", "") if imgs else ""
        t.check("<svg" in svg and "image/png" not in imgs[0], "plot_format = 'svg' gives image/svg+xml", outs)
        _, outs = run(kc, "require('deltalab.kernel').plot_format = 'gif'\nplot.lines{loss = {1, 2}}")
        errs = [c for ty, c in outs if ty == "error"]
        t.check(errs and "must be 'png' or 'svg'" in errs[0]["evalue"], "a bad plot_format is an error", outs)
        run(kc, "require('deltalab.kernel').plot_format = 'png'")

        c = kc.complete("matrix.ze", 9, reply=True)["content"]
        t.check("matrix.zeros" in c["matches"] and c["cursor_start"] == 0 and c["cursor_end"] == 9,
                "complete_request for matrix.ze offers zeros", c)
        c = kc.complete("y = matrix.ze", 13, reply=True)["content"]
        t.check("matrix.zeros" in c["matches"] and c["cursor_start"] == 4, "completion finds the word start", c)

        i = kc.inspect("matrix.zeros(2, 2)", 8, reply=True)["content"]
        text = i["data"].get("text/plain", "")
        t.check(i["found"] and "matrix.zeros" in text and "text/markdown" in i["data"],
                "inspect_request on matrix.zeros gives its help text", i)

        def is_complete(code):
            msg_id = kc.is_complete(code)
            return kc.get_shell_msg(timeout=10)["content"]["status"]
        t.check(is_complete("for i = 1, 3 do") == "incomplete", "is_complete: for ... do is incomplete")
        t.check(is_complete("1 +") == "incomplete", "is_complete: 1 + is incomplete")
        t.check(is_complete("print(1)") == "complete", "is_complete: print(1) is complete")
        t.check(is_complete("x = = 1") == "invalid", "is_complete: x = = 1 is invalid")

        # interrupt_request on the control channel stops a running cell
        msg_id = kc.execute("while true do end")
        time.sleep(1)
        imsg = kc.session.msg("interrupt_request", {})
        kc.control_channel.send(imsg)
        ireply = kc.get_control_msg(timeout=10)
        reply = kc.get_shell_msg(timeout=20)["content"]
        t.check(ireply["msg_type"] == "interrupt_reply" and reply["status"] == "error"
                and reply.get("ename") == "interrupted", "interrupt_request stops while true do end", reply)
        _, outs = run(kc, "2 + 3")
        res = data_of(outs, "execute_result")
        t.check(res and res[0]["text/plain"] == "5", "the next cell runs after an interrupt", outs)

        # SIGINT (jupyter_client's default interrupt) stops a training
        code = ("set = data.xor{n = 2000, noise = 0.1, seed = 1}\n"
                "tnet = network{2, {64, 'tanh'}, {2, 'softmax'}, cost = 'log_likelihood', seed = 1}\n"
                "tr = trainer{net = tnet, train = set, batch = 1, lr = 0.1, epochs = 100000, progress = false}\n"
                "tr:run()")
        msg_id = kc.execute(code)
        time.sleep(2)
        km.interrupt_kernel()
        reply = kc.get_shell_msg(timeout=30)["content"]
        t.check(reply["status"] in ("ok", "error"), "SIGINT stops a running training", reply)
        _, outs = run(kc, "#tr.history.train_loss < 100000")
        res = data_of(outs, "execute_result")
        t.check(res and res[0]["text/plain"] == "true", "the training stopped early and the kernel lives on", outs)

        # a progress bar gives a bounded number of outputs, not one per batch
        _, outs = run(kc, "tr2 = trainer{net = tnet, train = set, batch = 10, lr = 0.1, epochs = 3, progress = true}\n"
                          "tr2:run();")
        t.check(0 < len(outs) <= 5, "a training with a progress bar makes few outputs", len(outs))
        text = "".join(c.get("text", "") for ty, c in outs if ty == "stream")
        lines = text.splitlines()
        t.check(len(lines) == 3 and all(l.startswith("epoch %d/3" % (e + 1)) for e, l in enumerate(lines))
                and "\r" not in text and "\033" not in text,
                "the bar leaves one line per epoch, as on a terminal", text[:800])
        # a longer one: the bar is one display, updated in place while it runs
        _, outs = run(kc, "big = data.xor{n = 600000, noise = 0.1, seed = 1}\n"
                          "tr3 = trainer{net = tnet, train = big, batch = 1, lr = 0.01, epochs = 2, progress = true}\n"
                          "t0 = os.clock() tr3:run()\nos.clock() - t0 > 0.6")
        kinds = [ty for ty, c in outs]
        ids = {c.get("transient", {}).get("display_id") for ty, c in outs if "display_data" in ty}
        res = data_of(outs, "execute_result")
        t.check(res and res[0]["text/plain"] == "true", "the long training ran for more than 0.6 s", res)
        t.check(kinds.count("display_data") == 1 and kinds.count("update_display_data") >= 1 and len(ids) == 1,
                "the running bar is one display, updated in place", kinds)
        t.check(sum(k == "stream" for k in kinds) <= 3, "and the epoch lines come as few streams", kinds)

        _, outs = run(kc, "io.write('abc\\rxy\\n') io.write('done')")
        text = "".join(c.get("text", "") for ty, c in outs if ty == "stream")
        t.check(text == "xy\ndone", "a carriage return starts the line anew", repr(text))

        # bad input: refused with a log line, and the kernel keeps serving
        ctx = zmq.Context()
        conn = km.get_connection_info()
        shell = ctx.socket(zmq.DEALER)
        shell.connect("%s://%s:%d" % (conn["transport"], conn["ip"], conn["shell_port"]))
        bad = Session(key=b"not the key")
        bad.send(shell, "execute_request", {"code": "os.exit(3)", "silent": False})
        shell.send_multipart([b"<IDS|MSG>", b"sig", b"{not json", b"{}", b"{}", b"{}"])
        shell.send_multipart([b"garbage"])
        good = Session(key=conn["key"])
        good.send(shell, "no_such_request", {})
        t.check(shell.poll(2000) == 0, "bad messages get no reply")
        shell.close()
        ctx.term()
        _, outs = run(kc, "'still here'")
        res = data_of(outs, "execute_result")
        t.check(res and res[0]["text/plain"] == "still here", "the kernel keeps serving after bad input", outs)
        time.sleep(0.5)
        log.flush()
        with open(log.name) as f:
            logged = f.read()
        t.check("wrong HMAC signature" in logged, "a bad signature is logged", logged[-500:])
        t.check("malformed" in logged, "a malformed message is logged", logged[-500:])
        t.check("unknown type 'no_such_request'" in logged, "an unknown message type is logged", logged[-500:])
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    t.check(not km.is_alive(), "shutdown_request ends the kernel")
    with open(log.name) as f:
        logged = f.read()
    t.check("Sanitizer" not in logged and "runtime error" not in logged,
            "the kernel's log has no sanitizer report", logged[-2000:])

    # a connection file that is missing or invalid: refused with a message
    p = subprocess.run([DELTALAB, "--kernel", "/nonexistent/kernel.json"], capture_output=True, text=True, timeout=20)
    t.check(p.returncode != 0 and "cannot read connection file" in p.stderr, "a missing connection file", p.stderr)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"transport": "tcp", "ip": "127.0.0.1", "key": "k", "shell_port": "x"}, f)
    p = subprocess.run([DELTALAB, "--kernel", f.name], capture_output=True, text=True, timeout=20)
    os.unlink(f.name)
    t.check(p.returncode != 0 and "shell_port must be a port number" in p.stderr, "an invalid connection file", p.stderr)
    os.unlink(log.name)
    return t.summary()


if __name__ == "__main__":
    sys.exit(main())
