"""cobaya_szlite: the tSZ power spectrum C_ell^yy in pure JAX, with Cobaya components.

Importing the package enables float64 in JAX (``jax_enable_x64``): the engine
is written for double precision throughout. The Cobaya classes
(`SZTheory`, `TSZBandpowers`, ...) are imported lazily, so using the engine
alone never imports Cobaya.
"""

import jax

jax.config.update("jax_enable_x64", True)

from .engine import *  # noqa: E402,F401,F403
from .engine import __all__ as _engine_all  # noqa: E402

_COBAYA_CLASSES = {
    "SZTheory": "theory",
    "TSZBandpowers": "likelihood",
    "GradMinimize": "minimize",
    "Planck2015TSZ": "planck2015",
}

__all__ = list(_engine_all) + list(_COBAYA_CLASSES)
__version__ = "0.1.0"


def __getattr__(name):
    if name in _COBAYA_CLASSES:
        import importlib

        module = importlib.import_module(f".{_COBAYA_CLASSES[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
