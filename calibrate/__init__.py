"""peaksim's calibration package: last year's tickets → model parameters and diagnostics."""
