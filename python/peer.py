#!/usr/bin/env python3
"""moebench's peer worker: the same layers, from the same seeded weights, through a Python engine.

The Node harness starts one worker per case process and speaks one JSON object per line:

  {"op": "probe"}                        -> {"ok": true, "engine": "numpy", "version": "2.4.6", ...}
  {"op": "load", "case": {...}, "tensors": {name: {"path", "dims"}}}
                                         -> {"ok": true}   weights and inputs are raw float32 files
                                            the Node side wrote, so both sides hold the same numbers
  {"op": "run", "calls": n}              -> {"ok": true, "ms": [...]}   each call timed here with
                                            time.perf_counter_ns, so the pipe is never in a timing
  {"op": "output", "path": p}            -> {"ok": true}   one call's output written to p as float32
  {"op": "exit"}

A failure answers {"ok": false, "error": "..."} and the worker goes on reading. Nothing else here:
sampling, stopping, statistics and the correctness check are the harness's, as for every engine.
"""
import json
import sys
import time

import numpy as np


def read(spec):
    return np.fromfile(spec["path"], dtype="<f4").reshape(spec["dims"])


def silu(v):
    return v / (1.0 + np.exp(-v))


def swiglu(x, w, prefix=""):
    return (silu(x @ w[prefix + "w_gate"]) * (x @ w[prefix + "w_up"])) @ w[prefix + "w_down"]


def layer(case, w):
    """The case's layer as a function of x, in float32, as moebench's ONNX graphs compute it."""
    kind = case["layer"]["kind"]
    if case.get("identity"):
        # the overhead model: one call's fixed cost, no layer work
        return lambda x: x
    if kind == "dense":
        return lambda x: swiglu(x, w)
    if kind == "matmul":
        chain = [w["w%d" % i] for i in range(case["layer"]["depth"])]

        def products(x):
            for m in chain:
                x = x @ m
            return x

        return products
    raise ValueError("the numpy peer has no %s layer yet" % kind)


def main():
    loaded = None
    for line in sys.stdin:
        msg = json.loads(line)
        op = msg["op"]
        if op == "exit":
            break
        try:
            if op == "probe":
                reply = {"engine": "numpy", "version": np.__version__, "python": sys.version.split()[0]}
            elif op == "load":
                tensors = {name: read(spec) for name, spec in msg["tensors"].items()}
                loaded = (layer(msg["case"], tensors), tensors["x"])
                reply = {}
            elif op == "run":
                f, x = loaded
                ms = []
                for _ in range(msg["calls"]):
                    start = time.perf_counter_ns()
                    f(x)
                    ms.append((time.perf_counter_ns() - start) / 1e6)
                reply = {"ms": ms}
            elif op == "output":
                f, x = loaded
                np.ascontiguousarray(f(x), dtype="<f4").tofile(msg["path"])
                reply = {}
            else:
                raise ValueError("unknown op %r" % op)
            print(json.dumps(dict(ok=True, **reply)), flush=True)
        except Exception as err:  # the harness records it as the case's error
            print(json.dumps({"ok": False, "error": "%s: %s" % (type(err).__name__, err)}), flush=True)


if __name__ == "__main__":
    main()
