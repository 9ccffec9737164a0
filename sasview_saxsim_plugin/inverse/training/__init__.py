"""Everything that makes the shape-estimation networks and nothing inference needs: the
simulated instruments (``measurement``), the cached training sets (``dataset``), the
training loops (``train``), their calibration (``calibrate``) and evaluation (``evaluate``).
Inference (``inverse.estimate`` and what it imports) never imports this package."""
