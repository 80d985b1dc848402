"""Graph- and weight-space measures of graph series: distances, spectra, motifs, and the
comparison of graph space with weight space.

Names load lazily from their submodules.
"""

from graphtraj._lazy import attach

_EXPORTS = {
    # metrics.py (the registry: one function per distance)
    "METRICS": "metrics",
    "MetricInfo": "metrics",
    "l1_distance": "metrics",
    "l2_distance": "metrics",
    "cosine_distance": "metrics",
    "frobenius_distance": "metrics",
    "sign_hamming_distance": "metrics",
    "weighted_jaccard_distance": "metrics",
    "strength_wasserstein_distance": "metrics",
    "strength_js_distance": "metrics",
    "singular_value_distance": "metrics",
    "laplacian_spectral_distance": "metrics",
    "heat_trace_distance": "metrics",
    "deltacon_distance": "metrics",
    "aligned_l1_distance": "metrics",
    "aligned_l1_layerwise_distance": "metrics",
    "aligned_l1_chained_distance": "metrics",
    # distances.py (pairs, matrices and series of distances)
    "distance": "distances",
    "distance_matrix": "distances",
    "cross_distance_matrix": "distances",
    "successive_distances": "distances",
    "reference_distances": "distances",
    "paired_distances": "distances",
    # alignment.py (hidden-unit permutation symmetry)
    "hidden_permutations": "alignment",
    "align_hidden": "alignment",
    "chain_align": "alignment",
    # spectral.py
    "spectral_stats": "spectral",
    "SpectralStats": "spectral",
    "laplacian_spectrum": "spectral",
    "algebraic_connectivity": "spectral",
    # motifs.py
    "motif_stats": "motifs",
    "MotifStats": "motifs",
    # comparison.py
    "mantel": "comparison",
    "MantelResult": "comparison",
    "compare_to_weight_distance": "comparison",
    "DistanceComparison": "comparison",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
