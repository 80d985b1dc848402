"""Benchmark: Lyapunov spectra of the training map (graphtraj.dynamics).

Run ``python benchmarks/tangent.py`` (about two minutes) or ``--quick`` (under 30 s).

1. Full 83-exponent spectrum of the paper's 4-10-3 network on Iris (η = 1), a batch of
   initial conditions, time per initial condition and step, against
   (a) one plain gradient-descent step of one network (nn.Module + torch.optim.SGD) and
   (b) a naive loop: torch.func.hessian (of functional_call on the nn.Module) + QR each
   step, one initial condition at a time.
   Targets: <= 30x (a) and >= 50x faster than (b). Also the floor every full-spectrum
   step pays whatever the Hessian costs (one batched 83 x 83 tangent GEMM and one
   stacked QR per initial condition) and the ceiling it puts on the speed-up over (b).
2. Hessian-vector products of the general path: forward-over-reverse against double
   backward.
3. Top-10 exponents and the sharpness of the 784-64-10 tanh network (50 890 parameters)
   on 10^4 synthetic samples: seconds per step and peak memory (in a child process).

Timings use ``--threads`` torch threads (default 1: on a shared 2-core machine torch's
parallel regions cost more than they save for these tensor sizes); all rows of a table
run in the same setting.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np


def _best(fn, repeat: int) -> float:
    """Best wall time of ``repeat`` calls (after one warm-up call)."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def full_spectrum(n_ics: int, n_steps: int, naive_ics: int, naive_steps: int, repeat: int) -> dict:
    import torch
    from torch.func import functional_call, grad, hessian

    from graphtraj.capture.functional import batched_mlp_loss
    from graphtraj.capture.models import init_states, paper_mlp
    from graphtraj.datasets import load_iris
    from graphtraj.dynamics import lyapunov_spectrum, training_map

    X, y = load_iris()
    spec = {"kind": "mlp", "sizes": [4, 10, 3], "activation": "sigmoid", "loss": "cross_entropy",
            "bias": True}
    lr = 1.0
    inits = init_states(spec, n_ics, rng=0)
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)

    fast = training_map(spec, X, y, lr=lr, fast=True)
    t_fast = _best(lambda: lyapunov_spectrum(fast, inits, n_steps, k="all", rng=0), repeat)
    per_fast = t_fast / (n_ics * n_steps)
    t_q5 = _best(lambda: lyapunov_spectrum(fast, inits, n_steps, k="all", qr_every=5, rng=0), repeat)
    per_q5 = t_q5 / (n_ics * n_steps)
    general = training_map(spec, X, y, lr=lr)
    g_ics = min(n_ics, 20)
    t_gen = _best(lambda: lyapunov_spectrum(general, inits[:g_ics], n_steps, k="all", rng=0), 1)
    per_gen = t_gen / (g_ics * n_steps)

    net = paper_mlp(seed=0)
    opt = torch.optim.SGD(net.parameters(), lr=lr)

    def gd_steps() -> None:
        for _ in range(50):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(Xt), yt).backward()
            opt.step()

    per_gd = _best(gd_steps, repeat) / 50

    names = [k for k, _ in net.named_parameters()]
    shapes = [p.shape for _, p in net.named_parameters()]
    sizes = [p.numel() for _, p in net.named_parameters()]

    def f_module(w):  # the torch.func recipe for an nn.Module
        params = {k: t.view(sh) for k, t, sh in zip(names, torch.split(w, sizes), shapes, strict=True)}
        return torch.nn.functional.cross_entropy(functional_call(net, params, (Xt,)), yt)

    def f_batched(w):  # graphtraj's functional MLP loss
        return batched_mlp_loss(w, Xt, yt, spec)

    hess, gradf = hessian(f_module), grad(f_module)

    def naive() -> None:
        for i in range(naive_ics):
            w = torch.as_tensor(inits[i])
            Q = torch.linalg.qr(torch.randn(83, 83, dtype=torch.float64))[0]
            logs = torch.zeros(83, dtype=torch.float64)
            for _ in range(naive_steps):
                J = torch.eye(83, dtype=torch.float64) - lr * hess(w)
                Q, R = torch.linalg.qr(J @ Q)
                logs += torch.log(torch.diagonal(R).abs())
                w = w - lr * gradf(w)

    per_naive = _best(naive, 1) / (naive_ics * naive_steps)

    # Floor: the two operations every full-spectrum step needs whatever the Hessian costs,
    # the batched 83 x 83 tangent GEMM and the stacked Householder QR (numpy/LAPACK).
    from graphtraj.dynamics.qr_spectrum import _qr

    Hs = torch.as_tensor(np.random.default_rng(1).standard_normal((n_ics, 83, 83)))
    Qs = torch.linalg.qr(torch.as_tensor(np.random.default_rng(2).standard_normal((n_ics, 83, 83))))[0]
    per_gemm = _best(lambda: torch.baddbmm(Qs, Qs, Hs, alpha=-lr), 10 * repeat) / n_ics
    per_qr = _best(lambda: _qr(Qs), 10 * repeat) / n_ics
    per_hess = _best(lambda: fast.objective._kernel(torch.as_tensor(inits), None, hessian=True),
                     10 * repeat) / n_ics
    hess, gradf = hessian(f_batched), grad(f_batched)
    per_naive_b = _best(naive, 1) / (naive_ics * naive_steps)
    return {
        "n_ics": n_ics, "n_steps": n_steps, "naive_ics": naive_ics, "naive_steps": naive_steps,
        "per_ic_step_fast_ms": per_fast * 1e3, "per_ic_step_general_ms": per_gen * 1e3,
        "per_ic_step_fast_qr5_ms": per_q5 * 1e3, "ratio_fast_qr5_vs_gd": per_q5 / per_gd,
        "speedup_fast_qr5_vs_naive": per_naive / per_q5,
        "gd_step_ms": per_gd * 1e3, "naive_per_ic_step_ms": per_naive * 1e3,
        "naive_batched_loss_per_ic_step_ms": per_naive_b * 1e3,
        "ratio_fast_vs_gd": per_fast / per_gd, "speedup_fast_vs_naive": per_naive / per_fast,
        "ratio_general_vs_gd": per_gen / per_gd, "speedup_general_vs_naive": per_naive / per_gen,
        "gemm_ms": per_gemm * 1e3, "qr_ms": per_qr * 1e3, "hessian_kernel_ms": per_hess * 1e3,
        "ceiling_free_hessian_qr1": per_naive / (per_gemm + per_qr),
        "ceiling_free_hessian_qr5": per_naive / (per_gemm + per_qr / 5),
        "ceiling_our_hessian_qr5": per_naive / (per_gemm + per_qr / 5 + per_hess),
    }


def hvp_methods(n_ics: int, k: int, repeat: int) -> dict:
    import torch

    from graphtraj.capture.models import init_states, mlp_from_spec
    from graphtraj.datasets import load_iris
    from graphtraj.dynamics import make_objective

    X, y = load_iris()
    spec = {"sizes": [4, 10, 3]}
    net = mlp_from_spec(spec, seed=0)
    W = torch.as_tensor(init_states(spec, n_ics, rng=0))
    V = torch.as_tensor(np.random.default_rng(0).standard_normal((n_ics, k, 83)))
    out = {"n_ics": n_ics, "k": k}
    for method in ("forward_over_reverse", "double_backward"):
        obj = make_objective(net, X, y, hvp=method)
        out[method + "_s"] = _best(lambda o=obj: o.grad_hvp(W, V), repeat)
    fast = make_objective(net, X, y, fast=True)
    out["fast_path_s"] = _best(lambda: fast.grad_hvp(W, V), repeat)
    out["double_backward_over_forward_over_reverse"] = (
        out["double_backward_s"] / out["forward_over_reverse_s"])
    return out


def _memory_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB (Linux /proc; else ru_maxrss)."""
    try:
        with open("/proc/self/status") as fh:
            fields = dict(line.split(":", 1) for line in fh if ":" in line)
        return float(fields["VmRSS"].split()[0]) / 1024, float(fields["VmHWM"].split()[0]) / 1024
    except (OSError, KeyError, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return peak, peak


def big_network(n_samples: int, n_steps: int, chunk: int) -> dict:
    """784-64-10 tanh MLP on synthetic data: top-10 exponents and sharpness (child process)."""

    from graphtraj.capture.models import init_states, mlp_from_spec
    from graphtraj.dynamics import (
        HessianOperator,
        lyapunov_spectrum,
        make_objective,
        sharpness,
        training_map,
    )

    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_samples, 784))
    y = np.argmax(X @ rng.standard_normal((784, 10)), axis=1)
    spec = {"kind": "mlp", "sizes": [784, 64, 10], "activation": "tanh", "loss": "cross_entropy",
            "bias": True}
    net = mlp_from_spec(spec, seed=0)
    w0 = init_states(spec, 1, rng=0, weight_std=1.0 / np.sqrt(784))[0]
    rss_setup, _ = _memory_mb()
    out = {"n_params": int(w0.size), "n_samples": n_samples, "chunk_size": chunk, "n_steps": n_steps,
           "rss_after_setup_mb": rss_setup}
    for method in ("forward_over_reverse", "double_backward"):
        obj = make_objective(net, X, y, chunk_size=chunk, hvp=method)
        tm = training_map(obj, lr=0.1)
        t = time.perf_counter()
        res = lyapunov_spectrum(tm, w0, n_steps, k=10, rng=0)
        out[f"top10_s_per_step_{method}"] = (time.perf_counter() - t) / n_steps
        out[f"top10_exponents_{method}"] = [float(v) for v in res.exponents[0]]
    obj = make_objective(net, X, y, chunk_size=chunk)
    H = HessianOperator(obj, params=w0)
    t = time.perf_counter()
    sh = sharpness(H, k=1, tol=1e-6, rng=0)
    out["sharpness_s"] = time.perf_counter() - t
    out["sharpness"] = sh.value
    out["sharpness_products"] = sh.n_products
    out["peak_rss_mb"] = _memory_mb()[1]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, under 30 s")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    ap.add_argument("--_big", nargs=3, type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    if args._big:
        print(json.dumps(big_network(*args._big)))
        return 0
    q = args.quick
    t0 = time.perf_counter()
    fs = full_spectrum(n_ics=20 if q else 100, n_steps=5 if q else 10, naive_ics=1 if q else 2,
                       naive_steps=2 if q else 4, repeat=1 if q else 3)
    print("\n1. Full 83-exponent spectrum, paper network on Iris (η = 1), "
          f"{fs['n_ics']} initial conditions x {fs['n_steps']} steps, torch threads = {args.threads}")
    print(f"{'method':<48}{'ms per IC and step':>20}{'ratio':>12}")
    print(f"{'(a) plain GD step (nn.Module + optim.SGD)':<48}{fs['gd_step_ms']:>20.3f}{1.0:>12.1f}")
    print(f"{'graphtraj, MLP fast path (vs a)':<48}{fs['per_ic_step_fast_ms']:>20.3f}{fs['ratio_fast_vs_gd']:>12.1f}")
    print(f"{'graphtraj, fast path, QR every 5 steps (vs a)':<48}{fs['per_ic_step_fast_qr5_ms']:>20.3f}{fs['ratio_fast_qr5_vs_gd']:>12.1f}")
    print(f"{'graphtraj, general path (vs a)':<48}{fs['per_ic_step_general_ms']:>20.3f}{fs['ratio_general_vs_gd']:>12.1f}")
    print(f"{'(b) naive torch.func.hessian + QR, one IC':<48}{fs['naive_per_ic_step_ms']:>20.3f}{'':>12}")
    print(f"{'    same, on the functional batched MLP loss':<48}{fs['naive_batched_loss_per_ic_step_ms']:>20.3f}{'':>12}")
    print(f"{'speed-up of the fast path over (b)':<48}{'':>20}{fs['speedup_fast_vs_naive']:>12.1f}")
    print(f"{'speed-up of the fast path, QR every 5, over (b)':<48}{'':>20}{fs['speedup_fast_qr5_vs_naive']:>12.1f}")
    print(f"{'speed-up of the general path over (b)':<48}{'':>20}{fs['speedup_general_vs_naive']:>12.1f}")
    print(f"{'floor: batched 83x83 tangent GEMM, one IC':<48}{fs['gemm_ms']:>20.3f}{'':>12}")
    print(f"{'floor: stacked 83x83 Householder QR, one IC':<48}{fs['qr_ms']:>20.3f}{'':>12}")
    print(f"{'    our Hessian kernel (gradient + Hessian)':<48}{fs['hessian_kernel_ms']:>20.3f}{'':>12}")
    print(f"{'ceiling over (b): free Hessian, QR every step':<48}{'':>20}{fs['ceiling_free_hessian_qr1']:>12.1f}")
    print(f"{'ceiling over (b): free Hessian, QR every 5':<48}{'':>20}{fs['ceiling_free_hessian_qr5']:>12.1f}")
    print(f"{'ceiling over (b): our Hessian, QR every 5':<48}{'':>20}{fs['ceiling_our_hessian_qr5']:>12.1f}")
    ok_a = fs["ratio_fast_vs_gd"] <= 30
    ok_b = fs["speedup_fast_vs_naive"] >= 50
    print(f"targets: <= 30x (a): {'met' if ok_a else 'MISSED'}; >= 50x faster than (b): "
          f"{'met' if ok_b else 'MISSED'}")

    hv = hvp_methods(n_ics=20 if q else 100, k=83, repeat=1 if q else 3)
    print(f"\n2. Hessian-vector products, paper network, {hv['n_ics']} parameter vectors x {hv['k']} vectors")
    print(f"{'method':<48}{'seconds':>20}{'ratio':>12}")
    print(f"{'forward-over-reverse (jvp of grad)':<48}{hv['forward_over_reverse_s']:>20.3f}{1.0:>12.2f}")
    print(f"{'double backward (default)':<48}{hv['double_backward_s']:>20.3f}{hv['double_backward_over_forward_over_reverse']:>12.2f}")
    print(f"{'MLP fast path (dense Hessian, then matmul)':<48}{hv['fast_path_s']:>20.3f}"
          f"{hv['fast_path_s'] / hv['forward_over_reverse_s']:>12.2f}")

    big_args = ["2000", "1", "2000"] if q else ["10000", "3", "2500"]
    child = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--threads", str(args.threads), "--_big", *big_args],
        capture_output=True, text=True, check=True)
    big = json.loads(child.stdout.strip().splitlines()[-1])
    print(f"\n3. 784-64-10 tanh MLP ({big['n_params']} parameters), {big['n_samples']} synthetic "
          f"samples, chunks of {big['chunk_size']}, GD η = 0.1, {big['n_steps']} steps")
    print(f"{'quantity':<48}{'value':>20}")
    print(f"{'top-10 exponents, s/step (forward-over-reverse)':<48}{big['top10_s_per_step_forward_over_reverse']:>20.2f}")
    print(f"{'top-10 exponents, s/step (double backward)':<48}{big['top10_s_per_step_double_backward']:>20.2f}")
    print(f"{'sharpness (Lanczos, tol 1e-6), s':<48}{big['sharpness_s']:>20.2f}")
    print(f"{'sharpness value / Hessian-vector products':<48}{big['sharpness']:>13.4g} / {big['sharpness_products']:<5d}")
    print(f"{'process RSS after imports, data and model, MB':<48}{big['rss_after_setup_mb']:>20.0f}")
    print(f"{'peak process RSS, MB':<48}{big['peak_rss_mb']:>20.0f}")
    print(f"{'peak minus set-up (working memory), MB':<48}{big['peak_rss_mb'] - big['rss_after_setup_mb']:>20.0f}")
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"full_spectrum": fs, "hvp": hv, "big": big, "threads": args.threads,
                       "quick": q}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
