"""Framework-free likelihood maths: one pure JAX ln L per data set.

Each data set is a module with a static description of the data (a NamedTuple of arrays,
a pytree) and pure functions of the theory products and the nuisance parameters:
``ln_like`` (jit-able, differentiable: its gradient is the likelihood's gradient) and,
where the likelihood is Gaussian, ``fisher`` (the Hessian, by autodiff, of the expected
-ln L of the linearised model). The Cobaya likelihoods are thin adapters over them, and
`cobaya_szlite.jax_posterior` composes them with the theory into one JAX ln P.

``bandpowers``  a binned spectrum with foreground templates and a fixed covariance, or a
                Gaussian covariance plus the tSZ trispectrum at the point (with its ln det).
"""

from .bandpowers import (
    BandpowerSet,
    bandpower_fisher,
    bandpower_ln_like,
    bandpower_ln_like_at,
    bandpower_set,
    covariance_at,
)

__all__ = [
    "BandpowerSet",
    "bandpower_fisher",
    "bandpower_ln_like",
    "bandpower_ln_like_at",
    "bandpower_set",
    "covariance_at",
]
