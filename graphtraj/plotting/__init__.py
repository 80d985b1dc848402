"""Figures. Every function returns a matplotlib Figure or Axes and never shows it.

Matplotlib is imported only when a plotting function is used.
"""

from graphtraj._lazy import attach

_EXPORTS: dict[str, str] = {
    # training.py (H3)
    "plot_loss_curves": "training",
    "plot_divergence": "training",
    "plot_ftle_vs_lr": "training",
    "plot_weight_norms": "training",
    "plot_network_snapshot": "training",
    # visibility.py (H5)
    "plot_degree_distribution": "visibility",
    "plot_visibility_graph": "visibility",
    "plot_windowed_visibility": "visibility",
    # recurrence.py (H6)
    "plot_recurrence": "recurrence",
    "plot_windowed_rqa": "recurrence",
    "plot_rqa_histograms": "recurrence",
    # lyapunov.py (H7)
    "plot_lyapunov": "lyapunov",
    "plot_lag_selection": "lyapunov",
    "plot_dimension_selection": "lyapunov",
    "plot_scaling": "lyapunov",
    # graphs.py (H4)
    "plot_distance_matrices": "graphs",
    "plot_spectral_stats": "graphs",
    "plot_motif_stats": "graphs",
    # dynamics.py (H8)
    "plot_lyapunov_spectrum": "dynamics",
    "plot_running_exponents": "dynamics",
    "plot_sharpness": "dynamics",
    "plot_spectral_density": "dynamics",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
