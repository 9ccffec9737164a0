"""Everything that makes the family network and nothing inference needs: the simulated
acquisitions (``acquisition``), the cached family sets (``dataset``), the resumable training
loop (``train``) and its calibration (``calibrate``). Inference (``inverse.estimate`` and what
it imports) never imports this package; the thesis baseline lives apart in
``inverse.thesis``."""
