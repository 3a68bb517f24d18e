"""The whole log-posterior of a Cobaya model as one JAX function, where that is possible.

`pure_jax_logpost` recognises the models made only of this package's pure-JAX pieces:

- one theory, `cobaya_szlite.SZTheory` (D_ell from `cobaya_szlite.parameters.d_ell_spectra`
  at the theory's engine precision);
- likelihoods `cobaya_szlite.TSZBandpowers` (or subclasses such as `Planck2015TSZ`)
  with a fixed covariance (`FixedCovariance`): ln L = -r^T Cov^-1 r / 2 with
  r = data - D^1h - D^2h - sum_k A_k template_k, the same inverse covariance as the
  likelihood's own `logp`; or `Planck2015TSZ` with ``trispectrum: varying``
  (`VaryingCovariance`): Cov = G + T / (4 pi f_sky) with the engine trispectrum T
  (`cobaya_szlite.parameters.d_ell_trispectrum`) at the point, and
  ln L = -[r^T Cov^-1 r + ln det Cov - ln det G] / 2 (Cholesky);
- 1-d uniform and Gaussian priors only, no external priors;
- every input parameter of those components either sampled itself or fixed (no
  input defined as a function of sampled parameters).

For such a model it returns x -> ln P(x) = ln prior + sum ln L, with x the sampled
parameters (Cobaya's order), jit-, grad- and vmap-safe; ln P is -inf outside the prior
box and where the engine refuses the point (non-finite C_ell), with a zero gradient there.
Anything else returns None and the reason, and `cobaya_szlite.NUTS` takes the generic path.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import jax.scipy.linalg
import numpy as np

if TYPE_CHECKING:
    from cobaya.model import Model

__all__ = ["finite_or_minus_inf", "pure_jax_logpost"]

JaxFunction = Callable[[jax.Array], jax.Array]
#: (module, name) of the one theory class with a pure-JAX posterior.
_SZ_THEORY = ("cobaya_szlite.theory", "SZTheory")


def finite_or_minus_inf(function: JaxFunction) -> JaxFunction:
    """``function`` with non-finite values replaced by -inf and their gradient by zero.

    Parameters
    ----------
    function : callable
        JAX scalar function of one array.

    Returns
    -------
    callable
        Same value where finite; its reverse-mode gradient is that of ``function``
        there and zero elsewhere (never NaN).
    """

    @jax.custom_vjp
    def wrapped(x):
        value = function(x)
        return jnp.where(jnp.isfinite(value), value, -jnp.inf)

    def forward(x):
        value, grad = jax.value_and_grad(function)(x)
        ok = jnp.isfinite(value) & jnp.all(jnp.isfinite(grad))
        return jnp.where(ok, value, -jnp.inf), jnp.where(ok, grad, 0.0)

    def backward(grad, cotangent):
        return (cotangent * grad,)

    wrapped.defvjp(forward, backward)
    return wrapped


def _prior_terms(model: Model) -> tuple[JaxFunction | None, str]:
    """ln prior(x) for uniform and Gaussian 1-d priors, else (None, reason)."""
    prior = model.prior
    if prior.external:
        return None, f"external prior(s) {[p for p in prior.external]}"
    lower, upper, mean, std, gauss = [], [], [], [], []
    for name, pdf in zip(model.parameterization.sampled_params(), prior.pdf):
        kind = pdf.dist.name
        if kind == "uniform":
            a, b = (float(v) for v in pdf.support())
            lower.append(a), upper.append(b), mean.append(0.0), std.append(1.0), gauss.append(False)
        elif kind == "norm":
            lower.append(-np.inf), upper.append(np.inf), gauss.append(True)
            mean.append(float(pdf.mean())), std.append(float(pdf.std()))
        else:
            return None, f"prior of '{name}' is '{kind}' (only uniform and Gaussian are pure JAX)"
    lower, upper, mean, std = (np.array(v) for v in (lower, upper, mean, std))
    gauss = np.array(gauss)
    constant = float(np.sum(np.where(gauss, -np.log(std) - 0.5 * math.log(2 * math.pi),
                                     -np.log(np.where(gauss, 1.0, upper - lower)))))

    def logprior(x):
        inside = jnp.all((x >= lower) & (x <= upper))
        quadratic = -0.5 * jnp.sum(jnp.where(gauss, ((x - mean) / std) ** 2, 0.0))
        return jnp.where(inside, constant + quadratic, -jnp.inf)

    return logprior, ""


def pure_jax_logpost(model: Model) -> tuple[JaxFunction | None, str]:
    """ln P(x) of ``model`` as one JAX function, if every component is pure JAX.

    Parameters
    ----------
    model : cobaya.model.Model
        After initialisation (its components' data and precision set).

    Returns
    -------
    logpost : callable or None
        x (n_sampled,) -> ln P (dimensionless scalar; -inf where the posterior is zero).
    reason : str
        Why there is no pure-JAX posterior ("" when there is one).
    """
    from .bandpowers import FixedCovariance, VaryingCovariance
    from .likelihood import TSZBandpowers
    from .parameters import d_ell_spectra, d_ell_spectra_and_trispectrum
    from .planck2015 import Planck2015TSZ

    logprior, reason = _prior_terms(model)
    if logprior is None:
        return None, reason
    theories = list(model.theory.values())
    # the class itself, named (theory.py is imported by nobody in the package)
    if len(theories) != 1 or (type(theories[0]).__module__, type(theories[0]).__name__) != _SZ_THEORY:
        return None, f"theories {list(model.theory)} (needs exactly one SZTheory)"
    theory = theories[0]
    if theory.tabulated:
        return None, "SZTheory takes its cosmology from an upstream Boltzmann code (cosmology: boltzmann)"
    precision, layout = theory.engine_precision, theory.layout
    for name, like in model.likelihood.items():
        is_fixed = type(like.covariance_model) is FixedCovariance
        is_varying = (type(like.covariance_model) is VaryingCovariance
                   and type(like)._trispectrum is Planck2015TSZ._trispectrum)
        if not (isinstance(like, TSZBandpowers) and (is_fixed or is_varying)
                and type(like).logp is TSZBandpowers.logp
                and type(like)._residual is TSZBandpowers._residual
                and type(like).model is TSZBandpowers.model):
            return None, (f"likelihood '{name}' is neither TSZBandpowers with a fixed covariance nor "
                          "Planck2015TSZ with trispectrum: varying")
    names = list(model.parameterization.sampled_params())
    param = model.parameterization
    constants = dict(param.constant_params())
    dependence = param.sampled_input_dependence()
    if any(dependence[p] for p in names):
        return None, "input parameters defined as functions of sampled ones"
    inputs = set(theory.input_params).union(*(set(like.input_params) for like in model.likelihood.values()))
    free = sorted(p for p in inputs if p not in names and p not in constants)
    if free:
        return None, f"input parameter(s) {free} are neither sampled nor fixed"

    def source(name: str) -> tuple[int, float]:
        """(index into x, or -1) and the fixed value."""
        return (names.index(name), 0.0) if name in names else (-1, float(constants[name]))

    theory_index, theory_fixed = zip(*(source(p) for p in layout.names))
    theory_index, theory_fixed = np.array(theory_index), np.array(theory_fixed)
    likes = []
    for like in model.likelihood.values():
        index, fixed = zip(*(source(p) for p in like._amplitudes)) if like._amplitudes else ((), ())
        cov_model = like.covariance_model
        if cov_model.varying:  # (G, 4 pi f_sky, ln det G)
            covariance = (np.asarray(cov_model.gaussian.cov), 4 * math.pi * cov_model.f_sky,
                          cov_model.ln_det_gaussian)
        else:
            covariance = np.asarray(cov_model.chi2.inverse)
        likes.append((np.asarray(like.data.ell, dtype=float), np.asarray(like.data.d, dtype=float),
                      covariance, np.array(index, dtype=int),
                      np.array(fixed, dtype=float), np.asarray(like._templates, dtype=float)))
    all_ell = np.unique(np.concatenate([like[0] for like in likes]))
    positions = [np.searchsorted(all_ell, like[0]) for like in likes]

    def gather(x, index, fixed):
        return jnp.where(index >= 0, x[np.maximum(index, 0)], fixed)

    any_varying = any(isinstance(like[2], tuple) for like in likes)

    def loglike(x):
        values = gather(x, theory_index, theory_fixed)
        if any_varying:  # the trispectrum at a subset of multipoles is that block of it
            d_ell, trispectrum = d_ell_spectra_and_trispectrum(values, jnp.asarray(all_ell), precision, layout)
        else:
            d_ell = d_ell_spectra(values, jnp.asarray(all_ell), precision, layout)
        total = 0.0
        for (_ell, data, covariance, index, fixed, templates), where in zip(likes, positions):
            model_d = d_ell[0, where] + d_ell[1, where]
            if len(index):
                model_d = model_d + gather(x, index, fixed) @ templates
            residual = data - model_d
            if isinstance(covariance, tuple):
                gaussian, norm, ln_det_gaussian = covariance
                cov = gaussian + trispectrum[np.ix_(where, where)] / norm
                lower = jnp.linalg.cholesky(cov)  # NaN if not positive definite: ln P = -inf
                z = jax.scipy.linalg.solve_triangular(lower, residual, lower=True)
                ln_det = 2.0 * jnp.sum(jnp.log(jnp.diag(lower)))
                total = total - 0.5 * (z @ z + ln_det - ln_det_gaussian)
            else:
                total = total - 0.5 * (residual @ covariance @ residual)
        return total

    def logpost(x):
        x = jnp.asarray(x)
        prior = logprior(x)
        return jnp.where(jnp.isfinite(prior), prior + loglike(x), -jnp.inf)

    return finite_or_minus_inf(logpost), ""
