import atexit
import os
import shutil
import tempfile

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MPLBACKEND", "Agg")

# A temporary HOME for the whole session, set before anything imports SasView (which reads
# its config, plugin and log folders at import): no test touches the real user's files.
_HOME = tempfile.mkdtemp(prefix="saxsim-test-home-")
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
for _var, _sub in (("HOME", ""), ("XDG_DATA_HOME", ".local/share"),
                   ("XDG_CONFIG_HOME", ".config"), ("XDG_CACHE_HOME", ".cache")):
    os.environ[_var] = os.path.join(_HOME, _sub)
    os.makedirs(os.environ[_var], exist_ok=True)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
