"""The whole log-posterior of a Cobaya model as one JAX function, where that is possible.

`pure_jax_logpost` composes the pure-JAX pieces of a model through two small interfaces
(docs/architecture.md), never through class names:

- its one theory has ``jax_products(ell, trispectrum) -> (input names, function)``: the
  products ``Cl_sz`` (and ``Tll_sz``) as a JAX function of its input values (None when it
  has none, e.g. `SZTheory` in the Boltzmann mode);
- each likelihood has ``jax_loglike() -> JaxLogLike`` (`cobaya_szlite.likelihood`): the
  products it reads, its own input parameters and its ln L as a JAX function of both
  (None when it has none);
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
import numpy as np

if TYPE_CHECKING:
    from cobaya.model import Model

__all__ = ["finite_or_minus_inf", "pure_jax_logpost"]

JaxFunction = Callable[[jax.Array], jax.Array]


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
    logprior, reason = _prior_terms(model)
    if logprior is None:
        return None, reason
    theories = list(model.theory.values())
    jax_products = getattr(theories[0], "jax_products", None) if len(theories) == 1 else None
    if jax_products is None:
        return None, f"theories {list(model.theory)} (needs exactly one theory with jax_products)"
    likes = {}
    for name, like in model.likelihood.items():
        jax_loglike = getattr(like, "jax_loglike", None)
        likes[name] = jax_loglike() if callable(jax_loglike) else None
        if likes[name] is None:
            return None, f"likelihood '{name}' has no pure-JAX ln L (jax_loglike)"
        unknown = sorted(set(likes[name].requirements) - {"Cl_sz", "Tll_sz"})
        if unknown:
            return None, f"likelihood '{name}' reads {unknown}, which the fast path does not compose"
    spectra_ell = np.unique(np.concatenate([np.asarray(j.requirements[key]["ell"], dtype=float)
                                            for j in likes.values() for key in j.requirements]))
    with_trispectrum = any("Tll_sz" in j.requirements for j in likes.values())
    products = jax_products(spectra_ell, with_trispectrum)
    if products is None:
        return None, f"{theories[0].get_name()} has no pure-JAX products here (e.g. cosmology: boltzmann)"
    theory_names, theory_function = products

    names = list(model.parameterization.sampled_params())
    param = model.parameterization
    constants = dict(param.constant_params())
    dependence = param.sampled_input_dependence()
    if any(dependence[p] for p in names):
        return None, "input parameters defined as functions of sampled ones"
    inputs = set(theories[0].input_params).union(*(set(like.input_params) for like in model.likelihood.values()))
    free = sorted(p for p in inputs if p not in names and p not in constants)
    if free:
        return None, f"input parameter(s) {free} are neither sampled nor fixed"

    def source(params) -> tuple[np.ndarray, np.ndarray]:
        """(index into x, or -1; the fixed value) of each name."""
        index = [names.index(p) if p in names else -1 for p in params]
        fixed = [0.0 if p in names else float(constants[p]) for p in params]
        return np.array(index, dtype=int), np.array(fixed, dtype=float)

    def gather(x, where):
        index, fixed = where
        return jnp.where(index >= 0, x[np.maximum(index, 0)], fixed)

    theory_source = source(theory_names)
    parts = []
    for jax_like in likes.values():
        positions = {key: np.searchsorted(spectra_ell, np.asarray(options["ell"], dtype=float))
                     for key, options in jax_like.requirements.items()}
        parts.append((jax_like.function, positions, source(jax_like.params)))

    def loglike(x):
        d_ell, trispectrum = theory_function(gather(x, theory_source))
        total = 0.0
        for function, positions, where in parts:
            given = {"Cl_sz": d_ell[:, positions["Cl_sz"]]}
            if "Tll_sz" in positions:
                given["Tll_sz"] = trispectrum[np.ix_(positions["Tll_sz"], positions["Tll_sz"])]
            total = total + function(given, gather(x, where))
        return total

    def logpost(x):
        x = jnp.asarray(x)
        prior = logprior(x)
        return jnp.where(jnp.isfinite(prior), prior + loglike(x), -jnp.inf)

    return finite_or_minus_inf(logpost), ""
