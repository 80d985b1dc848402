"""Record your own training loop and measure it.

A plain PyTorch model and optimizer loop, as you would write it anyway; three lines
(marked ``# graphtraj``) record the trajectory of the weights. The run is written to a
trajectory store, read back, and measured: how far the weights move per step (the
successive L1 distance) next to the loss.

Run ``python examples/record_your_training_loop.py`` (seconds, most of it importing torch) or with
``--smoke`` for an even shorter run; ``--out DIR`` chooses where the store goes.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

import graphtraj
from graphtraj.capture import IndexSampler, Recorder
from graphtraj.datasets import data_ref, load_iris
from graphtraj.measures import successive_distances


class Net(torch.nn.Module):
    """Your model: any nn.Module (here a small tanh network with BatchNorm)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Linear(4, 16), torch.nn.BatchNorm1d(16), torch.nn.Tanh(),
            torch.nn.Linear(16, 3),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a very short run")
    parser.add_argument("--out", type=Path, default=None, help="directory for the store")
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args(argv)
    epochs = args.epochs or (3 if args.smoke else 30)
    out = args.out or Path(tempfile.mkdtemp(prefix="graphtraj-example-"))

    torch.manual_seed(0)  # your own seeding, as usual
    torch.set_num_threads(1)  # a model this small runs fastest on one thread
    X_np, y_np = load_iris(standardize=True)
    X, y = torch.from_numpy(X_np).float(), torch.from_numpy(y_np)
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sampler = IndexSampler(len(y), batch_size=16, seed=0)  # yields index arrays

    rec = Recorder(model, optimizer=opt, sampler=sampler, every=5,       # graphtraj
                   data_ref=data_ref("iris", standardize=True))
    step = 0
    for _ in range(epochs):
        for idx in sampler:
            loss = torch.nn.functional.cross_entropy(model(X[idx]), y[idx])
            rec.record(step, loss=loss)                                  # graphtraj
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
    rec.record(step, final=True)  # the state after the last step          # graphtraj
    traj = rec.to_trajectory()                                           # graphtraj

    # store it, read it back lazily, and measure
    with graphtraj.open_store(out / "runs.gtz", "a") as store:
        store.write("my_run", traj, overwrite=True)
        back = store.read("my_run")
    speed = successive_distances(back, "l1")
    print(f"recorded {len(back)} states of {back.n_params} parameters "
          f"(steps {back.times[0]}..{back.times[-1]}) into {out / 'runs.gtz'}")
    print(f"replayable: {back.replayable} ({back.metadata.get('replayable_reason', '')})")
    print(f"{'step':>6} {'batch loss':>10} {'L1 step':>9}")
    rows = np.linspace(0, len(speed) - 1, min(8, len(speed))).round().astype(int)
    for i in rows:
        print(f"{back.times[i]:>6} {back.loss[i]:>10.4f} {speed[i]:>9.4f}")
    q = len(speed) // 4 + 1
    print(f"first quarter: the weights moved {speed[:q].mean():.3f} (L1 per 5 steps) at a "
          f"mean batch loss of {np.nanmean(back.loss[:q]):.3f}; last quarter: "
          f"{speed[-q:].mean():.3f} at {np.nanmean(back.loss[-q:]):.3f}")
    # (the final record, made after the loop, has no batch loss: NaN, skipped by nanmean)

if __name__ == "__main__":
    main()
