"""peaksim's simulation package: scenario → SimPy model → KPI tables."""

__version__ = "0.1.0"
