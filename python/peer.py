#!/usr/bin/env python3
"""moebench's peer worker: the same layers, from the same seeded weights, through a Python engine.

    python3 peer.py numpy|torch|ort

numpy and torch compute the layer here, as moebench's ONNX graphs do; ort runs the very .onnx file
moebench built, through onnxruntime's Python binding. The Node harness starts one worker per case
process and speaks one JSON object per line:

  {"op": "probe"}                        -> {"ok": true, "engine": "numpy", "version": "2.4.6", ...}
  {"op": "load", "case": {...}, "tensors": {name: {"path", "dims"}}, "inputs": [names],
   "model": path (ort), "threads": n (torch, ort; absent: the engine's default)}
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


def softmax(v):
    e = np.exp(v - v.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def experts(x, gates, w, count, dense_all):
    """Routed: each expert gathers the tokens whose gate is non-zero, as the routed ONNX graph does;
    dense-all: every expert on every token, weighted by its (mostly zero) gate."""
    y = np.zeros_like(x)
    for e in range(count):
        prefix = "expert%d." % e
        if dense_all:
            y += swiglu(x, w, prefix) * gates[:, e : e + 1]
            continue
        rows = np.nonzero(gates[:, e] > 0)[0]
        if rows.size:
            y[rows] += swiglu(x[rows], w, prefix) * gates[rows, e : e + 1]
    return y


def moe(case, w):
    m = case["layer"]
    dense_all = case.get("moeImpl") == "dense-all"
    local = case.get("expertsPerCard")
    if local is not None:
        # an expert-parallel slice: the received tokens arrive with their gate weights
        return lambda t: experts(t["x"], t["route_weights"], w, local, dense_all)

    def full(t):
        x = t["x"]
        probs = softmax(x @ w["router"] + t["router_bias"])
        top = np.argpartition(-probs, m["topK"] - 1, axis=1)[:, : m["topK"]]
        chosen = np.take_along_axis(probs, top, axis=1)
        if m["renormalize"]:
            chosen = chosen / chosen.sum(axis=1, keepdims=True)
        gates = np.zeros_like(probs)
        np.put_along_axis(gates, top, chosen, axis=1)
        y = experts(x, gates, w, m["numExperts"], dense_all)
        for s in range(m["numSharedExperts"]):
            y = y + swiglu(x, w, "shared%d." % s)
        return y

    return full


def products(case, w):
    """The roofline probe: x through its chain of square products (numpy arrays or torch tensors alike)."""
    chain = [w["w%d" % i] for i in range(case["layer"]["depth"])]

    def run(t):
        x = t["x"]
        for m in chain:
            x = x @ m
        return x

    return run


def torch_layer(case, w):
    """The same layers in torch, on the CPU, float32: gathers per expert as the routed graph does."""
    import torch

    w = {k: torch.from_numpy(v) for k, v in w.items()}

    def tswiglu(x, prefix=""):
        g = x @ w[prefix + "w_gate"]
        return (g * torch.sigmoid(g) * (x @ w[prefix + "w_up"])) @ w[prefix + "w_down"]

    def texperts(x, gates, count, dense_all):
        y = torch.zeros_like(x)
        for e in range(count):
            prefix = "expert%d." % e
            if dense_all:
                y += tswiglu(x, prefix) * gates[:, e : e + 1]
                continue
            rows = torch.nonzero(gates[:, e] > 0).flatten()
            if rows.numel():
                y.index_add_(0, rows, tswiglu(x[rows], prefix) * gates[rows, e : e + 1])
        return y

    kind = case["layer"]["kind"]
    if case.get("identity"):
        return lambda t: t["x"]
    if kind == "dense":
        return lambda t: tswiglu(t["x"])
    if kind == "matmul":
        return products(case, w)
    if kind == "moe":
        m = case["layer"]
        dense_all = case.get("moeImpl") == "dense-all"
        local = case.get("expertsPerCard")
        if local is not None:
            return lambda t: texperts(t["x"], t["route_weights"], local, dense_all)

        def full(t):
            x = t["x"]
            probs = torch.softmax(x @ w["router"] + t["router_bias"], dim=-1)
            chosen, top = torch.topk(probs, m["topK"], dim=-1)
            if m["renormalize"]:
                chosen = chosen / chosen.sum(dim=-1, keepdim=True)
            gates = torch.zeros_like(probs).scatter_(1, top, chosen)
            y = texperts(x, gates, m["numExperts"], dense_all)
            for s in range(m["numSharedExperts"]):
                y = y + tswiglu(x, "shared%d." % s)
            return y

        return full
    raise ValueError("the torch peer has no %s layer yet" % kind)


def ort_session(msg):
    """The very .onnx file moebench built, on onnxruntime's CPU execution provider; inputs cast to what it declares."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if msg.get("threads"):
        options.intra_op_num_threads = msg["threads"]
    session = ort.InferenceSession(msg["model"], options, providers=["CPUExecutionProvider"])
    types = {i.name: (np.float16 if i.type == "tensor(float16)" else np.float32) for i in session.get_inputs()}
    output = session.get_outputs()[0].name
    return lambda t: session.run([output], {name: v.astype(types[name]) for name, v in t.items()})[0]


def layer(case, w):
    """The case's layer as a function of its inputs, in float32, as moebench's ONNX graphs compute it."""
    kind = case["layer"]["kind"]
    if case.get("identity"):
        # the overhead model: one call's fixed cost, no layer work
        return lambda t: t["x"]
    if kind == "dense":
        return lambda t: swiglu(t["x"], w)
    if kind == "moe":
        return moe(case, w)
    if kind == "matmul":
        return products(case, w)
    raise ValueError("the numpy peer has no %s layer yet" % kind)


def probe(engine):
    reply = {"engine": engine, "python": sys.version.split()[0], "numpy": np.__version__}
    if engine == "numpy":
        reply["version"] = np.__version__
    elif engine == "torch":
        import torch

        reply.update(version=torch.__version__, threads=torch.get_num_threads())
    elif engine == "ort":
        import onnxruntime

        reply["version"] = onnxruntime.__version__
    else:
        raise ValueError("unknown engine %r" % engine)
    return reply


def load(engine, msg):
    tensors = {name: read(spec) for name, spec in msg["tensors"].items()}
    inputs = {name: tensors.pop(name) for name in msg["inputs"]}
    if engine == "ort":
        return ort_session(msg), inputs
    if engine == "torch":
        import torch

        if msg.get("threads"):
            torch.set_num_threads(msg["threads"])
        return torch_layer(msg["case"], tensors), {k: torch.from_numpy(v) for k, v in inputs.items()}
    return layer(msg["case"], tensors), inputs


def main():
    engine = sys.argv[1] if len(sys.argv) > 1 else "numpy"
    loaded = None
    for line in sys.stdin:
        msg = json.loads(line)
        op = msg["op"]
        if op == "exit":
            break
        try:
            if op == "probe":
                reply = probe(engine)
            elif op == "load":
                loaded = load(engine, msg)
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
                y = f(x)
                np.ascontiguousarray(y.numpy() if hasattr(y, "numpy") else y, dtype="<f4").tofile(msg["path"])
                reply = {}
            else:
                raise ValueError("unknown op %r" % op)
            print(json.dumps(dict(ok=True, **reply)), flush=True)
        except Exception as err:  # the harness records it as the case's error
            print(json.dumps({"ok": False, "error": "%s: %s" % (type(err).__name__, err)}), flush=True)


if __name__ == "__main__":
    main()
