"""Three learning-rate regimes of the paper's network on Iris, in a few lines.

For each learning rate, train a perturbation ensemble (ε = 1e-8 on every weight),
fit the finite-time Lyapunov exponent of each initial condition, and say whether
training converges and whether the trajectory is stable, at the edge of stability or
chaotic. Then sweep η and draw the exponent against it.

    python examples/iris_regimes.py                  # about a minute
    python examples/iris_regimes.py --smoke          # a few seconds (smaller runs)
    python examples/iris_regimes.py --out results/   # figure in results/ (default: a
                                                     # new temporary directory)
"""

import argparse
import math
import tempfile
from pathlib import Path

from graphtraj.plotting import plot_divergence, plot_ftle_vs_lr
from graphtraj.studies import classify_regime, dynamical_stability, regime_diagram

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--smoke", action="store_true", help="small, fast version")
parser.add_argument("--out", default=None, metavar="DIR",
                    help="directory for iris_regimes.png (default: a new temporary directory)")
args = parser.parse_args()
out_dir = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="graphtraj-iris-"))
out_dir.mkdir(parents=True, exist_ok=True)
inits, copies, scale = (3, 2, 0.1) if args.smoke else (10, 5, 1.0)

for lr, steps in [(0.01, 5000), (1.0, 5000), (5.0, 10000)]:
    res = dynamical_stability(lr, n_inits=inits, n_perturb=copies, eps=1e-8,
                              n_steps=max(200, int(steps * scale)))
    verdict = classify_regime(res)
    print(f"η = {lr:<5g} converges: {verdict.converges!s:5}  {verdict.stability:18}"
          + (f"  FTLE {res.ftle_accepted_mean:.3f}/step" if math.isfinite(res.ftle_accepted_mean)
             else "  FTLE n/a")
          + " accepted for "
          f"{res.acceptance_fraction:.0%} of initial conditions")

diagram = regime_diagram([0.01, 0.1, 0.3, 1, 2, 3, 5, 10], n_steps=300,
                         n_inits=inits, n_perturb=copies)

import matplotlib  # noqa: E402  (after the computation: the figure is optional)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
plot_divergence(dynamical_stability(1.0, n_inits=inits, n_perturb=copies, n_steps=200),
                ax=left)
plot_ftle_vs_lr(diagram, ax=right)
fig.tight_layout()
figure_path = out_dir / "iris_regimes.png"
fig.savefig(figure_path, dpi=90)
print(f"figure written to {figure_path}")
