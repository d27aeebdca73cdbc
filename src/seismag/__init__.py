"""seismag: geomagnetic earthquake-precursor classification."""

__version__ = "0.1.0"
