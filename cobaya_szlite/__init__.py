"""cobaya_szlite: the tSZ power spectrum C_ell^yy in pure JAX, with Cobaya components.

The engine needs float64: run ``jax.config.update("jax_enable_x64", True)`` once before
the first engine call (importing the package does not change JAX's configuration; the
engine entry points raise a clear error when float64 is off, and `SZTheory` switches it
on when Cobaya loads it). The Cobaya classes (`SZTheory`, `TSZBandpowers`, ...) are
imported lazily, so using the engine alone never imports Cobaya.
"""

from .engine import *  # noqa: F401,F403
from .engine import __all__ as _engine_all
from .engine.linear_power import linear_power

_COBAYA_CLASSES = {
    "SZTheory": "theory",
    "TSZBandpowers": "likelihood",
    "GradMinimize": "minimize",
    "NUTS": "nuts",
    "Planck2015TSZ": "planck2015",
}

__all__ = list(_engine_all) + ["linear_power"] + list(_COBAYA_CLASSES)
__version__ = "0.1.0"


def __getattr__(name: str) -> type:
    """The Cobaya classes, imported on first access (PEP 562).

    Parameters
    ----------
    name : str
        A key of `_COBAYA_CLASSES`; anything else raises AttributeError.

    Returns
    -------
    type
        The class, from its module.
    """
    if name in _COBAYA_CLASSES:
        import importlib

        module = importlib.import_module(f".{_COBAYA_CLASSES[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
