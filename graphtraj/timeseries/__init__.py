"""Nonlinear time-series analysis: embedding, divergence exponents, recurrence and RQA,
visibility graphs, Lyapunov exponents from data and the network MLE.

Names load lazily from their submodules.
"""

from graphtraj._lazy import attach

_EXPORTS = {
    # embedding.py
    "delay_embed": "embedding",
    "embedding_span": "embedding",
    # divergence.py (finite-time exponents from perturbation experiments)
    "ftle_from_divergence": "divergence",
    "FTLEResult": "divergence",
    # recurrence_spec.py, recurrence.py, rqa_measures.py, rqa_windowed.py,
    # recurrence_networks.py (H6)
    "RecurrenceSpec": "recurrence_spec",
    "FixedThreshold": "recurrence_spec",
    "ScaledThreshold": "recurrence_spec",
    "GlobalRecurrenceRate": "recurrence_spec",
    "LocalRecurrenceRate": "recurrence_spec",
    "RecurrenceMatrix": "recurrence",
    "recurrence_matrix": "recurrence",
    "cross_recurrence_matrix": "recurrence",
    "joint_recurrence_matrix": "recurrence",
    "rqa": "rqa_measures",
    "RQAResult": "rqa_measures",
    "RQAHistograms": "rqa_measures",
    "windowed_rqa": "rqa_windowed",
    "WindowedRQAResult": "rqa_windowed",
    "recurrence_network": "recurrence_networks",
    "RecurrenceNetworkResult": "recurrence_networks",
    # visibility.py, visibility_measures.py, time_irreversibility.py, multiplex.py (H5)
    "visibility_graph": "visibility",
    "VisibilityGraph": "visibility",
    "degree_tail_fit": "visibility_measures",
    "DegreeTailFit": "visibility_measures",
    "windowed_visibility": "visibility_measures",
    "WindowedVisibility": "visibility_measures",
    "irreversibility": "time_irreversibility",
    "IrreversibilityResult": "time_irreversibility",
    "multiplex_visibility": "multiplex",
    "MultiplexVisibility": "multiplex",
    # lyapunov.py, nmle.py, embedding_params.py, min_length.py, correlation.py,
    # entropy.py, nolds_measures.py (H7)
    "lyapunov_rosenstein": "lyapunov",
    "lyapunov_kantz": "lyapunov",
    "LyapunovResult": "lyapunov",
    "network_mle": "nmle",
    "autocorrelation": "embedding_params",
    "mutual_information": "embedding_params",
    "lag_by_autocorrelation": "embedding_params",
    "lag_by_mutual_information": "embedding_params",
    "false_nearest_neighbors": "embedding_params",
    "cao_embedding": "embedding_params",
    "theiler_window": "embedding_params",
    "LagResult": "embedding_params",
    "DimensionResult": "embedding_params",
    "min_length_rosenstein": "min_length",
    "min_length_kantz": "min_length",
    "min_length_network_mle": "min_length",
    "min_length_correlation_sum": "min_length",
    "min_length_sample_entropy": "min_length",
    "min_length_false_nearest_neighbors": "min_length",
    "min_length_cao": "min_length",
    "min_length_lag_search": "min_length",
    "min_length_lyapunov_eckmann": "min_length",
    "min_length_hurst_rs": "min_length",
    "min_length_dfa": "min_length",
    "correlation_sum": "correlation",
    "correlation_dimension": "correlation",
    "CorrelationSum": "correlation",
    "sample_entropy": "entropy",
    "SampleEntropyResult": "entropy",
    "hurst_rs": "nolds_measures",
    "dfa": "nolds_measures",
    "lyapunov_eckmann": "nolds_measures",
    "ScalingResult": "nolds_measures",
    "EckmannResult": "nolds_measures",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
