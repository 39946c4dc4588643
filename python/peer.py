#!/usr/bin/env python3
"""moebench's peer worker: the same layers, from the same seeded weights, through a Python engine.

    python3 peer.py numpy|torch|ort

numpy and torch compute the layer here, as moebench's ONNX graphs do; ort runs the very .onnx file
moebench built, through onnxruntime's Python binding. The Node harness starts one worker per case
process, which holds the case's layer and its overhead model side by side (one import of the
engine and one CUDA start per process), and speaks one JSON object per line:

  {"op": "probe"}                        -> {"ok": true, "engine": "torch", "version": "2.13.0+cpu", "cuda": ..., ...}
  {"op": "load", "case": {...}, "tensors": {name: {"path", "dims", "scale" (fp8's e4m3 tensors)}},
   "inputs": [names], "device": "cpu" | "cuda:N", "model": path (ort),
   "threads": n (torch, ort; numpy takes OPENBLAS_NUM_THREADS; absent: the engine's default)}
                                         -> {"ok": true, "handle": h, "recorded": {"threads": n, ...}}
                                            weights and inputs are raw float32 files the Node side
                                            wrote, so both sides hold the same numbers
  {"op": "run", "handle": h, "calls": n} -> {"ok": true, "ms": [...]}   each call timed here with
                                            time.perf_counter_ns (after torch.cuda.synchronize on a
                                            card), so the pipe is never in a timing
  {"op": "output", "handle": h, "path": p}  -> {"ok": true}   one call's output written to p as float32
  {"op": "unload", "handle": h}          -> {"ok": true}
  {"op": "exit"}

A failure answers {"ok": false, "error": "..."}, what the device cannot run {"ok": false,
"unsupported": "why"}, and the worker goes on reading. Nothing else here: sampling, stopping,
statistics and the correctness check are the harness's, as for every engine.
"""
import json
import os
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


def attention(case, w):
    """numpy's attention, the standard formulation of torch_attention below (same shapes, RoPE, masks)."""
    a = case["layer"]
    mla = a["form"] == "mla"
    rope = a["qkRopeHeadDim"] if mla else a["headDim"]
    inv_freq = a["ropeTheta"] ** (-2.0 * np.arange(rope // 2) / rope)
    decode = case["phase"] == "decode"
    B, S, H = case["batch"], case["seqLen"], a["numHeads"]
    contexts = case["contexts"]
    positions = np.array(contexts if decode else list(range(S)) * B, dtype=np.float64)
    angles = positions[:, None] * inv_freq[None, :]
    cos = np.concatenate([np.cos(angles)] * 2, axis=-1).astype(np.float32)[:, None, :]
    sin = np.concatenate([np.sin(angles)] * 2, axis=-1).astype(np.float32)[:, None, :]

    def rotate(v):
        half = v.shape[-1] // 2
        return v * cos + np.concatenate([-v[..., half:], v[..., :half]], axis=-1) * sin

    def attend(q, k, v, scale, mask):
        scores = np.where(mask, (q @ np.swapaxes(k, -1, -2)) * scale, -np.inf)
        return softmax(scores) @ v

    def cache_mask(L):
        seen = np.arange(L + 1)[None, :]
        return ((seen < np.array(contexts)[:, None]) | (seen == L)).reshape(B, 1, 1, L + 1)

    causal = np.tril(np.ones((S, S), dtype=bool))
    L = max(contexts) if decode and contexts else 0
    if not mla:
        K, hd = a["numKvHeads"], a["headDim"]
        g = H // K

        def gqa(t):
            x = t["x"]
            T = x.shape[0]
            q = rotate((x @ w["wq"]).reshape(T, H, hd))
            k = rotate((x @ w["wk"]).reshape(T, K, hd))
            v = (x @ w["wv"]).reshape(T, K, hd)
            if decode:
                keys = np.concatenate([w["k_cache"][:, :, :L], k.reshape(B, K, 1, hd)], axis=2)
                vals = np.concatenate([w["v_cache"][:, :, :L], v.reshape(B, K, 1, hd)], axis=2)
                o = attend(q.reshape(B, H, 1, hd), keys.repeat(g, axis=1), vals.repeat(g, axis=1), hd**-0.5, cache_mask(L))
                return o.reshape(B, H * hd) @ w["wo"]
            heads = lambda u, n: np.swapaxes(u.reshape(B, S, n, hd), 1, 2)
            o = attend(heads(q, H), heads(k, K).repeat(g, axis=1), heads(v, K).repeat(g, axis=1), hd**-0.5, causal)
            return np.swapaxes(o, 1, 2).reshape(T, H * hd) @ w["wo"]

        return gqa

    rkv, n, r, dv = a["kvLoraRank"], a["qkNopeHeadDim"], a["qkRopeHeadDim"], a["vHeadDim"]
    wkv_b = w["wkv_b"].reshape(rkv, H, n + dv)
    scale = (n + r) ** -0.5

    def mla_layer(t):
        x = t["x"]
        T = x.shape[0]
        q = ((x @ w["wq_a"]) @ w["wq_b"]).reshape(T, H, n + r)
        q = np.concatenate([q[..., :n], rotate(q[..., n:])], axis=-1)
        kva = x @ w["wkv_a"]
        latent = np.concatenate([kva[:, :rkv], rotate(kva[:, None, rkv:])[:, 0]], axis=-1)
        if decode:
            keys = np.concatenate([w["kv_cache"][:, :L], latent.reshape(B, 1, rkv + r)], axis=1)[:, None]
            q_lat = np.einsum("bhn,jhn->bhj", q[..., :n], wkv_b[..., :n])
            q_all = np.concatenate([q_lat, q[..., n:]], axis=-1)[:, :, None]
            o_lat = attend(q_all, keys, keys[..., :rkv], scale, cache_mask(L))
            return np.einsum("bhj,jhv->bhv", o_lat[:, :, 0], wkv_b[..., n:]).reshape(B, H * dv) @ w["wo"]
        full = (latent[:, :rkv] @ w["wkv_b"]).reshape(T, H, n + dv)
        k = np.concatenate([full[..., :n], np.broadcast_to(latent[:, None, rkv:], (T, H, r))], axis=-1)
        heads = lambda u: np.swapaxes(u.reshape(B, S, H, u.shape[-1]), 1, 2)
        o = attend(heads(q), heads(k), heads(full[..., n:]), scale, causal)
        return np.swapaxes(o, 1, 2).reshape(T, H * dv) @ w["wo"]

    return mla_layer


def products(case, w):
    """The roofline probe: x through its chain of square products."""
    chain = [w["w%d" % i] for i in range(case["layer"]["depth"])]

    def run(t):
        x = t["x"]
        for m in chain:
            x = x @ m
        return x

    return run


E4M3_MAX = 448.0
TORCH_DTYPES = {"fp32": "float32", "tf32": "float32", "fp16": "float16", "bf16": "bfloat16", "fp8": "bfloat16"}


class Unsupported(Exception):
    """What this device cannot run (a card without FP8): the harness records the case as skipped."""


def torch_device(name):
    """Where the torch peer puts its tensors: "cpu" or "cuda:N" (tests of the CUDA paths on a CPU override this)."""
    import torch

    return torch.device(name)


def torch_math(dtype, device):
    """Sets the math mode on "cuda:N": fp32 is strict float32 (TF32 off), tf32 lets cuBLAS and cuDNN use TF32 on purpose."""
    import torch

    if dtype == "fp8":
        # an older torch (Debian's 1.13) has no float8; a build may lack _scaled_mm on this device
        if not hasattr(torch, "float8_e4m3fn") or not hasattr(torch, "_scaled_mm"):
            raise Unsupported("torch %s has no float8_e4m3fn or _scaled_mm (torch 2.1 or later has)" % torch.__version__)
        try:
            one = torch.ones(16, 16, device=torch_device(device)).to(torch.float8_e4m3fn)
            s = torch.tensor(1.0, device=one.device)
            torch._scaled_mm(one, one.t(), s, s, out_dtype=torch.bfloat16)
        except (RuntimeError, NotImplementedError) as err:
            if not device.startswith("cuda"):
                raise Unsupported("torch %s has no scaled FP8 matmul on the CPU: %s" % (torch.__version__, str(err).splitlines()[0]))
    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = dtype == "tf32"
        torch.backends.cudnn.allow_tf32 = dtype == "tf32"
        if dtype == "fp8":
            major, minor = torch.cuda.get_device_capability(device)
            if (major, minor) < (8, 9):
                raise Unsupported(
                    "%s (compute capability %d.%d) has no FP8 tensor cores; torch._scaled_mm needs 8.9 (Ada) or 9.0 (Hopper) and later"
                    % (torch.cuda.get_device_name(device), major, minor)
                )
        return {"tf32": bool(torch.backends.cuda.matmul.allow_tf32)}
    return {}


def torch_layer(case, w, scales, device):
    """The same layers in torch, as the routed ONNX graph computes them (gathers per expert).

    fp32/tf32/fp16/bf16 hold weights and activations in that type. fp8 holds the products' weights
    and the layer's input as e4m3 with the per-tensor scales the Node side quantised them with
    (static), quantises each intermediate with a scale from its largest value (dynamic), multiplies
    through torch._scaled_mm with float32 accumulation and bf16 outputs, and keeps the router in
    float32 and the gates in bf16.
    """
    import torch

    dtype = case["dtype"]
    fp8 = dtype == "fp8"
    compute = getattr(torch, TORCH_DTYPES[dtype])
    W, Q = {}, {}
    for k, v in w.items():
        t = torch.from_numpy(v).to(device)
        if k in scales:
            s = torch.tensor(scales[k], dtype=torch.float32, device=device)
            # _scaled_mm takes its second operand column-major: the transpose of a row-major [out, in] tensor
            Q[k] = ((t / s).to(torch.float8_e4m3fn).t().contiguous().t(), s)
        else:
            W[k] = t if (fp8 and k == "router") else t.to(compute)

    def mm(x, name, x_scale=None):
        if name not in Q:
            return x @ W[name]
        b, b_scale = Q[name]
        if x_scale is None:
            # an intermediate: scaled per call so its largest value maps to e4m3's largest
            x_scale = (x.abs().max().float() / E4M3_MAX).clamp(min=1e-12)
        a = (x.float() / x_scale).clamp(-E4M3_MAX, E4M3_MAX).to(torch.float8_e4m3fn)
        return torch._scaled_mm(a, b, x_scale, b_scale, out_dtype=torch.bfloat16)

    sx = torch.tensor(scales["x"], dtype=torch.float32, device=device) if "x" in scales else None

    def swiglu(x, prefix=""):
        g = mm(x, prefix + "w_gate", sx)
        return mm(g * torch.sigmoid(g) * mm(x, prefix + "w_up", sx), prefix + "w_down")

    def experts(x, gates, count, dense_all):
        y = torch.zeros(x.shape, dtype=compute, device=device)
        for e in range(count):
            prefix = "expert%d." % e
            if dense_all:
                y += swiglu(x, prefix) * gates[:, e : e + 1]
                continue
            rows = torch.nonzero(gates[:, e] > 0).flatten()
            if rows.numel():
                y.index_add_(0, rows, swiglu(x[rows], prefix) * gates[rows, e : e + 1])
        return y

    kind = case["layer"]["kind"]
    if case.get("identity"):
        return lambda t: t["x"]
    if kind == "dense":
        return lambda t: swiglu(t["x"])
    if kind == "attention":
        return torch_attention(case, W, compute, device)
    if kind == "matmul":
        depth = case["layer"]["depth"]

        def chain(t):
            x = mm(t["x"], "w0", sx)
            for i in range(1, depth):
                x = mm(x, "w%d" % i)
            return x

        return chain
    if kind == "moe":
        m = case["layer"]
        dense_all = case.get("moeImpl") == "dense-all"
        local = case.get("expertsPerCard")
        if local is not None:
            return lambda t: experts(t["x"], t["route_weights"], local, dense_all)

        def full(t):
            x = t["x"]
            probs = torch.softmax(x @ W["router"] + t["router_bias"], dim=-1)
            chosen, top = torch.topk(probs, m["topK"], dim=-1)
            if m["renormalize"]:
                chosen = chosen / chosen.sum(dim=-1, keepdim=True)
            gates = torch.zeros_like(probs).scatter_(1, top, chosen).to(compute)
            y = experts(x, gates, m["numExperts"], dense_all)
            for s in range(m["numSharedExperts"]):
                y = y + swiglu(x, "shared%d." % s)
            return y

        return full
    raise ValueError("the torch peer has no %s layer yet" % kind)


def torch_attention(case, W, compute, device):
    """GQA or DeepSeek's MLA as moebench's reference computes it (src/workloads/reference.ts).

    Rotate-half RoPE on the queries and new keys (MLA: on their rope part), 1/sqrt(head width)
    scaling. Prefill: each sequence of seqLen tokens attends causally to itself (MLA decompresses
    its latents into per-head keys and values). Decode: one token per sequence over the first
    contexts[b] positions of its seeded cache (stored as given: GQA [B, K, L, hd], MLA's latents
    [B, L, rkv + rope]) and itself; MLA absorbs wkv_b into the query and output, as engines do.
    standard: explicit products and softmax; fused: torch's scaled_dot_product_attention (GQA).
    """
    import torch
    import torch.nn.functional as F

    a = case["layer"]
    mla = a["form"] == "mla"
    rope = a["qkRopeHeadDim"] if mla else a["headDim"]
    inv_freq = torch.tensor([a["ropeTheta"] ** (-2.0 * i / rope) for i in range(rope // 2)], dtype=torch.float64)
    decode = case["phase"] == "decode"
    B, S = case["batch"], case["seqLen"]
    contexts = case["contexts"]
    positions = torch.tensor(contexts if decode else list(range(S)) * B, dtype=torch.float64)
    angles = positions[:, None] * inv_freq[None, :]
    cos = torch.cat([angles.cos()] * 2, dim=-1).to(device=device, dtype=compute)
    sin = torch.cat([angles.sin()] * 2, dim=-1).to(device=device, dtype=compute)

    def rotate(v):
        """v [T, heads, rope] at each row's position."""
        half = v.shape[-1] // 2
        turned = torch.cat([-v[..., half:], v[..., :half]], dim=-1)
        return v * cos[:, None, :] + turned * sin[:, None, :]

    H = a["numHeads"]
    causal = torch.ones(S, S, dtype=torch.bool, device=device).tril()
    fused = case.get("attnImpl") == "fused"

    def attend(q, k, v, scale, mask):
        """q [n, H, sq, e], k and v [n, H, sk, e] (kv heads already repeated), mask [sq, sk] or per-sequence [n, 1, 1, sk]."""
        if fused:
            return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=scale)
        scores = (q @ k.transpose(-1, -2)) * scale
        scores = scores.masked_fill(~mask, float("-inf"))
        return torch.softmax(scores.float(), dim=-1).to(q.dtype) @ v

    if not mla:
        K, hd = a["numKvHeads"], a["headDim"]
        g = H // K

        def gqa(t):
            x = t["x"]
            T = x.shape[0]
            q = rotate((x @ W["wq"]).view(T, H, hd))
            k = rotate((x @ W["wk"]).view(T, K, hd))
            v = (x @ W["wv"]).view(T, K, hd)
            if decode:
                L = max(contexts) if contexts else 0
                # the cache's positions, then the token's own key and value
                keys = torch.cat([W["k_cache"][:, :, :L], k.view(B, K, 1, hd)], dim=2) if L else k.view(B, K, 1, hd)
                vals = torch.cat([W["v_cache"][:, :, :L], v.view(B, K, 1, hd)], dim=2) if L else v.view(B, K, 1, hd)
                seen = torch.arange(L + 1, device=device)[None, :]
                lengths = torch.tensor(contexts, device=device)[:, None]
                mask = ((seen < lengths) | (seen == L)).view(B, 1, 1, L + 1)
                o = attend(q.view(B, H, 1, hd), keys.repeat_interleave(g, dim=1), vals.repeat_interleave(g, dim=1), hd**-0.5, mask)
                return o.reshape(B, H * hd) @ W["wo"]
            q = q.view(B, S, H, hd).transpose(1, 2)
            k = k.view(B, S, K, hd).transpose(1, 2).repeat_interleave(g, dim=1)
            v = v.view(B, S, K, hd).transpose(1, 2).repeat_interleave(g, dim=1)
            o = attend(q, k, v, hd**-0.5, causal)
            return o.transpose(1, 2).reshape(T, H * hd) @ W["wo"]

        return gqa

    rkv, n, r, dv = a["kvLoraRank"], a["qkNopeHeadDim"], a["qkRopeHeadDim"], a["vHeadDim"]
    wkv_b = W["wkv_b"].view(rkv, H, n + dv)
    scale = (n + r) ** -0.5

    def mla_layer(t):
        x = t["x"]
        T = x.shape[0]
        q = ((x @ W["wq_a"]) @ W["wq_b"]).view(T, H, n + r)
        q = torch.cat([q[..., :n], rotate(q[..., n:])], dim=-1)
        kva = x @ W["wkv_a"]
        latent = torch.cat([kva[:, :rkv], rotate(kva[:, None, rkv:])[:, 0]], dim=-1)
        if decode:
            L = max(contexts) if contexts else 0
            entries = torch.cat([W["kv_cache"][:, :L], latent.view(B, 1, rkv + r)], dim=1) if L else latent.view(B, 1, rkv + r)
            # absorbed: each head's query in latent space, scores against the latents as stored
            q_lat = torch.einsum("bhn,jhn->bhj", q[..., :n], wkv_b[..., :n])
            keys = entries[:, None]  # [B, 1, L + 1, rkv + r], shared by every head
            q_all = torch.cat([q_lat, q[..., n:]], dim=-1)[:, :, None]  # [B, H, 1, rkv + r]
            seen = torch.arange(L + 1, device=device)[None, :]
            mask = ((seen < torch.tensor(contexts, device=device)[:, None]) | (seen == L)).view(B, 1, 1, L + 1)
            scores = ((q_all @ keys.transpose(-1, -2)) * scale).masked_fill(~mask, float("-inf"))
            o_lat = torch.softmax(scores.float(), dim=-1).to(q.dtype) @ keys[..., :rkv]  # [B, H, 1, rkv]
            o = torch.einsum("bhj,jhv->bhv", o_lat[:, :, 0], wkv_b[..., n:])
            return o.reshape(B, H * dv) @ W["wo"]
        full = (latent[:, :rkv] @ W["wkv_b"]).view(T, H, n + dv)
        k = torch.cat([full[..., :n], latent[:, None, rkv:].expand(T, H, r)], dim=-1)
        v = full[..., n:]
        o = attend(q.view(B, S, H, n + r).transpose(1, 2), k.view(B, S, H, n + r).transpose(1, 2), v.view(B, S, H, dv).transpose(1, 2), scale, causal)
        return o.transpose(1, 2).reshape(T, H * dv) @ W["wo"]

    return mla_layer


def torch_inputs(case, inputs, device):
    """Inputs on the device in the case's type; fp8's input stays float32 (its values are already e4m3 × scale) and its router bias too."""
    import torch

    keep = case["dtype"] == "fp8"
    compute = getattr(torch, TORCH_DTYPES[case["dtype"]])
    return {k: torch.from_numpy(v).to(device).to(torch.float32 if keep and k in ("x", "router_bias") else compute) for k, v in inputs.items()}


def ort_session(msg):
    """The very .onnx file moebench built, on onnxruntime's CPU or CUDA execution provider; inputs cast to what it declares."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if msg.get("threads"):
        options.intra_op_num_threads = msg["threads"]
    if msg.get("device", "cpu") == "cpu":
        providers = ["CPUExecutionProvider"]
    else:
        # unlike onnxruntime-node, the Python binding sets the CUDA provider's options: TF32 only where asked for
        cuda = {"device_id": int(msg["device"].split(":")[1]), "use_tf32": int(msg["case"]["dtype"] == "tf32")}
        providers = [("CUDAExecutionProvider", cuda)]
    session = ort.InferenceSession(msg["model"], options, providers=providers)
    if providers[0] != "CPUExecutionProvider" and session.get_providers()[0] != "CUDAExecutionProvider":
        raise RuntimeError("onnxruntime %s did not take the CUDA execution provider (it has %s)" % (ort.__version__, session.get_providers()))
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
    if kind == "attention":
        return attention(case, w)
    raise ValueError("the numpy peer has no %s layer yet" % kind)


def probe(engine):
    """The engine's version and what it can reach; its versions are recorded in the result file's environment."""
    reply = {"engine": engine, "python": sys.version.split()[0], "numpy": np.__version__}
    if engine == "numpy":
        reply["version"] = np.__version__
    elif engine == "torch":
        import torch

        reply.update(version=torch.__version__, threads=torch.get_num_threads(), cuda=torch.version.cuda)
        if torch.cuda.is_available():
            reply["devices"] = [
                {"name": torch.cuda.get_device_name(i), "capability": list(torch.cuda.get_device_capability(i))}
                for i in range(torch.cuda.device_count())
            ]
            if torch.backends.cudnn.is_available():
                reply["cudnn"] = str(torch.backends.cudnn.version())
    elif engine == "ort":
        import onnxruntime

        reply.update(version=onnxruntime.__version__, providers=onnxruntime.get_available_providers())
    else:
        raise ValueError("unknown engine %r" % engine)
    return reply


def load(engine, msg):
    """The case's layer as a function of its inputs, the inputs staged, and what is worth recording of how."""
    tensors = {name: read(spec) for name, spec in msg["tensors"].items()}
    scales = {name: spec["scale"] for name, spec in msg["tensors"].items() if "scale" in spec}
    inputs = {name: tensors.pop(name) for name in msg["inputs"]}
    device = msg.get("device", "cpu")
    if engine == "ort":
        return ort_session(msg), inputs, None, {"threads": msg.get("threads") or "onnxruntime's default"}
    if engine == "torch":
        import torch

        if msg.get("threads"):
            torch.set_num_threads(msg["threads"])
        where = torch_device(device)
        recorded = dict(threads=torch.get_num_threads(), **torch_math(msg["case"]["dtype"], device))
        sync = torch.cuda.synchronize if device.startswith("cuda") else None
        return torch_layer(msg["case"], tensors, scales, where), torch_inputs(msg["case"], inputs, where), sync, recorded
    return layer(msg["case"], tensors), inputs, None, {"threads": int(os.environ.get("OPENBLAS_NUM_THREADS") or os.cpu_count())}


def timed(f, x, sync):
    """One call's time in ms; on CUDA it ends when the card has finished (torch.cuda.synchronize), the output left on the card."""
    start = time.perf_counter_ns()
    f(x)
    if sync:
        sync()
    return (time.perf_counter_ns() - start) / 1e6


def main():
    engine = sys.argv[1] if len(sys.argv) > 1 else "numpy"
    loaded = {}
    handles = 0
    for line in sys.stdin:
        msg = json.loads(line)
        op = msg["op"]
        if op == "exit":
            break
        try:
            if op == "probe":
                reply = probe(engine)
            elif op == "load":
                f, x, sync, recorded = load(engine, msg)
                handles += 1
                loaded[handles] = f, x, sync
                reply = {"handle": handles, "recorded": recorded}
            elif op == "unload":
                loaded.pop(msg["handle"], None)
                reply = {}
            elif op == "run":
                f, x, sync = loaded[msg["handle"]]
                reply = {"ms": [timed(f, x, sync) for _ in range(msg["calls"])]}
            elif op == "output":
                f, x, _ = loaded[msg["handle"]]
                y = f(x)
                y = y.float().cpu().numpy() if hasattr(y, "cpu") else y
                np.ascontiguousarray(y, dtype="<f4").tofile(msg["path"])
                reply = {}
            else:
                raise ValueError("unknown op %r" % op)
            print(json.dumps(dict(ok=True, **reply)), flush=True)
        except Unsupported as why:
            print(json.dumps({"ok": False, "unsupported": str(why)}), flush=True)
        except Exception as err:  # the harness records it as the case's error
            print(json.dumps({"ok": False, "error": "%s: %s" % (type(err).__name__, err)}), flush=True)


if __name__ == "__main__":
    main()
