"""Data layer: loading and validating windows, dataset analysis, synthetic data."""
