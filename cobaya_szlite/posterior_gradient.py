"""Gradient and Fisher matrix of a Cobaya model's log-posterior in its sampled parameters.

`PosteriorGradient` assembles d ln P / d x (x: Cobaya's sampled parameters) from

- likelihoods with an analytic gradient: a likelihood exposing
  ``get_gradient_requirements([params=...])`` (extra products, e.g. ``Cl_sz_grad``;
  when it accepts ``params``, it gets the input params that vary with the sampled
  ones, so derivatives in fixed inputs are never computed),
  ``logp_gradient(**input_params) -> {input param: d ln L / d param}`` and
  optionally ``logp_fisher(**input_params) -> (names, F)`` (as
  `cobaya_szlite.TSZBandpowers` does), all evaluated at the point of the
  last ``logp`` call; a sampled parameter that moves an input the likelihood
  (or a theory it uses) takes but ``logp_gradient`` does not return gets
  finite differences of that likelihood instead (logged once);
- any other likelihood: central finite differences of its ln L in just the
  sampled parameters it depends on (full-model evaluations, counted);
- the prior: analytic for uniform and Gaussian 1-d priors, finite differences
  of the (cheap) prior density otherwise;
- the chain rule through the parameterization, d input / d x: 1 for a sampled
  input parameter, finite differences of the parameterization's functions
  (4-point stencil, no likelihood evaluation) for inputs defined as
  functions (lambdas) of sampled ones, which covers renamed parameters.

Finite differences use steps ``fd_step`` x (the parameter's scale: its
``proposal`` width, else the reference or prior width). Everything returned
is numpy/Python floats.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np
from cobaya.log import LoggedError
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    from cobaya.model import Model

__all__ = ["HESSIAN_STEP", "PosteriorGradient", "parameter_scales"]

#: Relative step of the second differences used for Hessians, in parameter scales.
HESSIAN_STEP = 1e-3


def parameter_scales(model: Model) -> np.ndarray:
    """Typical width of each sampled parameter: proposal, else reference, else prior std.

    Parameters
    ----------
    model : cobaya.model.Model

    Returns
    -------
    numpy.ndarray, shape (n_sampled,)
        In the units of each sampled parameter (1 where none of the three is known).
    """
    proposals = model.parameterization.get_sampled_params_proposals()
    ref_var = np.asarray(model.prior.reference_variances(), dtype=float)
    prior_std = np.sqrt(np.diag(model.prior.covmat(ignore_external=True)))
    scales = []
    for i, name in enumerate(model.parameterization.sampled_params()):
        options = [proposals.get(name), np.sqrt(ref_var[i]) if ref_var[i] > 0 else None,
                   prior_std[i]]
        scale = next((float(s) for s in options if s is not None and np.isfinite(s) and s > 0),
                     1.0)
        scales.append(scale)
    return np.array(scales)


def _stencil(function: Callable[[np.ndarray], ArrayLike], x: np.ndarray, step: float,
             index: int) -> np.ndarray:
    """4-point central difference (error O(step^4)) of a vector-valued ``function``."""
    offsets = np.zeros_like(x)
    offsets[index] = step
    return (
        -function(x + 2 * offsets) + 8 * function(x + offsets)
        - 8 * function(x - offsets) + function(x - 2 * offsets)
    ) / (12 * step)


class PosteriorGradient:
    """d ln P / d x and the Fisher matrix of a `cobaya.model.Model` (see module docstring).

    Construct it before the model's first evaluation if possible: it adds the
    gradient requirements of the likelihoods to the model.
    Counters: ``n_evals`` posterior evaluations by `__call__`, ``n_grads``
    gradients, ``n_fd_evals`` extra model evaluations for finite differences.

    Parameters
    ----------
    model : cobaya.model.Model
    ignore_prior : bool
        Target ln L (the sum of the likelihoods) instead of ln P.
    fd_step : float
        Finite-difference step in units of each parameter's scale (`parameter_scales`).
    log : logging.Logger, optional
        Where to log (default: the model's logger).
    """

    def __init__(self, model: Model, *, ignore_prior: bool = False, fd_step: float = 1e-4,
                 log: logging.Logger | None = None) -> None:
        self.model = model
        self.ignore_prior = bool(ignore_prior)
        self.fd_step = float(fd_step)
        self.log = log or model.log
        self.names = list(model.parameterization.sampled_params())
        self.scales = parameter_scales(model)
        self.n_evals = self.n_grads = self.n_fd_evals = 0
        self._setup_parameterization()
        self._setup_likelihoods()
        self._setup_prior()

    # ---- set-up -------------------------------------------------------------

    def _setup_likelihoods(self):
        model = self.model
        provided = set(chain(*(t.get_can_provide() for t in model.theory.values())))
        requirements, self.analytic, self.numeric = {}, [], []
        # input params that vary with the sampled ones: the only derivatives needed
        varying = sorted(set(self._direct) | set(self._function_inputs))
        for name, like in model.likelihood.items():
            wanted = None
            if callable(getattr(like, "logp_gradient", None)) and callable(
                getattr(like, "get_gradient_requirements", None)
            ):
                method = like.get_gradient_requirements
                if "params" in inspect.signature(method).parameters:
                    wanted = dict(method(params=varying) or {})
                else:
                    wanted = dict(method() or {})
            if wanted is not None and set(wanted) <= provided:
                requirements.update(wanted)
                self.analytic.append(name)
            else:
                self.numeric.append(name)
        if requirements:
            model.add_requirements(requirements)
        # input params each analytic likelihood takes, itself or through its theories
        # (Cobaya's private dependency map when present, else every theory)
        dependencies = getattr(model, "_dependencies", None)
        self._like_inputs_used = {}
        for name in self.analytic:
            like = model.likelihood[name]
            theories = (dependencies.get(like, ()) if isinstance(dependencies, dict)
                        else model.theory.values())
            self._like_inputs_used[name] = set(like.input_params).union(
                *(set(t.input_params) for t in theories))
        self._fd_columns = {}
        # sampled parameters each likelihood depends on (directly or through theories)
        self.depends = {
            like: [i for i, p in enumerate(self.names)
                   if model.likelihood[like] in model.sampled_dependence[p]]
            for like in model.likelihood
        }
        unused = [p for i, p in enumerate(self.names)
                  if not any(i in dep for dep in self.depends.values())]
        if unused:
            raise LoggedError(
                self.log,
                "Sampled parameter(s) %s: no likelihood depends on them, so the minimum is "
                "not defined by the data. Fix them (value: ...) or remove them from 'params'.",
                unused,
            )
        if self.numeric:
            self.log.info(
                "No analytic gradient for likelihood(s) %s: finite differences in the "
                "sampled parameters each depends on (%s).",
                self.numeric,
                {like: [self.names[i] for i in self.depends[like]] for like in self.numeric},
            )

    def _setup_parameterization(self):
        param = self.model.parameterization
        inputs = set(self.model.input_params)
        dependence = param.sampled_input_dependence()
        self._direct = {p: i for i, p in enumerate(self.names) if p in inputs}
        self._function_inputs = sorted(
            set(chain(*dependence.values())) - set(self.names)
        )
        self._function_of = [i for i, p in enumerate(self.names) if dependence[p]]
        #: input params moved by each sampled param (itself if an input, and functions of it)
        self._moved_inputs = [
            set(dependence[p]) | ({p} if p in inputs else set()) for p in self.names
        ]
        if self._function_inputs:
            self.log.info(
                "Input parameter(s) %s are functions of sampled parameters: their "
                "derivatives are finite differences of those functions (no likelihood "
                "evaluations).",
                self._function_inputs,
            )

    def _setup_prior(self):
        """Analytic log-prior gradient/curvature data: (mean, variance) of Gaussian priors."""
        self._gaussian = {
            i: (float(pdf.mean()), float(pdf.var()))
            for i, pdf in enumerate(self.model.prior.pdf) if pdf.dist.name == "norm"
        }
        self._other_priors = [
            i for i, pdf in enumerate(self.model.prior.pdf)
            if pdf.dist.name not in ("norm", "uniform")
        ]

    # ---- chain rule through the parameterization ----------------------------

    def input_jacobian(self, x: ArrayLike) -> dict[str, np.ndarray]:
        """Derivatives of the input parameters in the sampled ones.

        Parameters
        ----------
        x : array, shape (n_sampled,)
            Sampled parameter values (the parameterization is left at x).

        Returns
        -------
        dict
            {input param: d input / d x (n_sampled array, per unit of each sampled
            param)} for every input that varies.
        """
        param = self.model.parameterization
        jac = {}
        for name, i in self._direct.items():
            jac[name] = np.zeros(len(self.names))
            jac[name][i] = 1.0
        if self._function_inputs:
            def values(point):
                inputs = param.to_input(point)
                return np.array([inputs[p] for p in self._function_inputs], dtype=float)

            columns = np.zeros((len(self._function_inputs), len(self.names)))
            for j in self._function_of:
                columns[:, j] = _stencil(values, np.asarray(x, float),
                                         self.fd_step * self.scales[j], j)
            param.to_input(x)  # leave the parameterization at x
            for k, name in enumerate(self._function_inputs):
                jac[name] = columns[k]
        return jac

    def _like_inputs(self, like, inputs: Mapping[str, float]) -> dict[str, float]:
        return {p: inputs[p] for p in like.input_params}

    # ---- value and gradient -------------------------------------------------

    def __call__(self, x: ArrayLike) -> tuple[float, np.ndarray | None]:
        """ln P and its gradient (with ``ignore_prior``, ln L; the prior still bounds x).

        Parameters
        ----------
        x : array, shape (n_sampled,)
            Sampled parameter values.

        Returns
        -------
        value : float
            ln P (or ln L), dimensionless; -inf where it is not finite.
        gradient : numpy.ndarray, shape (n_sampled,) or None
            d value / d x per unit of each sampled param; None where value is -inf.
        """
        x = np.asarray(x, dtype=float)
        point = self.model.logposterior(x, return_derived=False)
        self.n_evals += 1
        if not np.isfinite(point.logpost):
            return -np.inf, None
        self.n_grads += 1
        value = float(sum(point.loglikes) if self.ignore_prior else point.logpost)
        inputs = dict(self.model.parameterization.to_input(x))
        jac = self.input_jacobian(x)
        grad = np.zeros(len(self.names))
        for name in self.analytic:
            like = self.model.likelihood[name]
            like_grad = like.logp_gradient(**self._like_inputs(like, inputs))
            columns = self.columns_without_gradient(name, like_grad)
            contribution = np.zeros(len(self.names))
            for p, g in like_grad.items():
                if p in jac:
                    contribution += float(g) * jac[p]
            if columns:
                contribution[columns] = self._numeric_like_gradient(name, x, columns)[columns]
            grad += contribution
        for name in self.numeric:
            grad += self._numeric_like_gradient(name, x)
        if not self.ignore_prior:
            grad += self.prior_gradient(x)
        return value, grad

    def _loglike(self, name: str, x: np.ndarray) -> float:
        self.n_fd_evals += 1
        loglikes = self.model.loglikes(x, as_dict=True, return_derived=False)
        return float(loglikes[name])

    def columns_without_gradient(self, name: str, names: Iterable[str]) -> list[int]:
        """Sampled-param indices whose derivative of an analytic likelihood needs finite differences.

        Parameters
        ----------
        name : str
            The likelihood.
        names : iterable of str
            The inputs its ``logp_gradient``/``logp_fisher`` covers.

        Returns
        -------
        list of int
            The sampled params moving an input it uses that is not in ``names``
            (logged once per likelihood and set of names).
        """
        key = (name, frozenset(names))
        if key not in self._fd_columns:
            used = self._like_inputs_used[name]
            columns = [j for j in self.depends[name]
                       if (self._moved_inputs[j] & used) - set(names)]
            if columns:
                self.log.info(
                    "Likelihood '%s' gives no analytic derivative in input(s) %s: finite "
                    "differences of it in sampled parameter(s) %s.", name,
                    sorted(set().union(*(self._moved_inputs[j] & used for j in columns))
                           - set(names)),
                    [self.names[j] for j in columns],
                )
            self._fd_columns[key] = columns
        return self._fd_columns[key]

    def _numeric_like_gradient(self, name: str, x: np.ndarray,
                               columns: Collection[int] | None = None) -> np.ndarray:
        grad = np.zeros(len(self.names))
        for j in self.depends[name] if columns is None else columns:
            h = self.fd_step * self.scales[j]
            step = np.zeros_like(x)
            step[j] = h
            grad[j] = (self._loglike(name, x + step) - self._loglike(name, x - step)) / (2 * h)
        return grad

    def prior_gradient(self, x: np.ndarray) -> np.ndarray:
        """d ln(prior) / d x: analytic for uniform and Gaussian priors, else finite differences.

        Parameters
        ----------
        x : numpy.ndarray, shape (n_sampled,)
            Sampled parameter values.

        Returns
        -------
        numpy.ndarray, shape (n_sampled,)
            Per unit of each sampled param.
        """
        prior = self.model.prior
        grad = np.zeros(len(self.names))
        for i, (mean, var) in self._gaussian.items():
            grad[i] = -(x[i] - mean) / var
        for i in self._other_priors:
            pdf = prior.pdf[i]
            h = self.fd_step * self.scales[i]
            grad[i] = (pdf.logpdf(x[i] + h) - pdf.logpdf(x[i] - h)) / (2 * h)
        if prior.external:
            for j in range(len(self.names)):
                grad[j] += _stencil(self._external_logprior, x, self.fd_step * self.scales[j], j)
            self.model.parameterization.to_input(x)
        return grad

    def _external_logprior(self, x: np.ndarray) -> float:
        prior = self.model.prior
        return float(sum(prior.logps_external(self.model.parameterization.to_input(x))))

    # ---- Fisher matrix ------------------------------------------------------

    def fisher(self, x: ArrayLike, numeric: bool = True) -> np.ndarray:
        """F ~ -d^2 ln P / dx dx at ``x``.

        Likelihoods with ``logp_fisher``: J^T C^-1 J mapped to sampled parameters
        with the input Jacobian (Gauss-Newton: exact for a model linear in x, and
        at a zero-residual minimum). Other likelihoods (and those whose
        ``logp_fisher`` misses an input they use, see `columns_without_gradient`),
        external and non-Gaussian priors: second differences. Uniform priors add nothing, Gaussian 1/sigma^2
        (unless ``ignore_prior``).

        Parameters
        ----------
        x : array, shape (n_sampled,)
            Sampled parameter values (LoggedError where ln P is not finite).
        numeric : bool
            False: skip the likelihoods that need model evaluations (for a cheap
            approximate matrix).

        Returns
        -------
        numpy.ndarray, shape (n_sampled, n_sampled)
            Symmetric, per unit of each pair of sampled params.
        """
        x = np.asarray(x, dtype=float)
        n = len(self.names)
        point = self.model.logposterior(x, return_derived=False)
        if not np.isfinite(point.logpost):
            raise LoggedError(self.log, "Fisher matrix requested where ln P is not finite: %r", x)
        inputs = dict(self.model.parameterization.to_input(x))
        jac = self.input_jacobian(x)
        matrix = np.zeros((n, n))
        by_differences = list(self.numeric)
        for name in self.analytic:
            like = self.model.likelihood[name]
            if not callable(getattr(like, "logp_fisher", None)):
                by_differences.append(name)
                continue
            names, like_fisher = like.logp_fisher(**self._like_inputs(like, inputs))
            if self.columns_without_gradient(name, names) and numeric:
                by_differences.append(name)
                continue
            t = np.array([jac.get(p, np.zeros(n)) for p in names])
            matrix += t.T @ np.asarray(like_fisher, dtype=float) @ t
        for name in by_differences if numeric else []:
            matrix -= self._hessian(lambda y, _n=name: self._loglike(_n, y), x, self.depends[name])
        if not self.ignore_prior:
            for i, (_mean, var) in self._gaussian.items():
                matrix[i, i] += 1 / var
            for i in self._other_priors:
                pdf = self.model.prior.pdf[i]
                matrix[i, i] -= self._hessian(lambda y, _i=i, _p=pdf: float(_p.logpdf(y[_i])),
                                              x, [i])[i, i]
            if self.model.prior.external:
                matrix -= self._hessian(self._external_logprior, x, range(n))
        self.model.logposterior(x, return_derived=False)  # leave the model at x
        return 0.5 * (matrix + matrix.T)

    def _hessian(self, function: Callable[[np.ndarray], float], x: np.ndarray,
                 indices: Iterable[int]) -> np.ndarray:
        """Second-difference Hessian of a scalar ``function`` in the given coordinates."""
        n = len(self.names)
        hess = np.zeros((n, n))
        steps = HESSIAN_STEP * self.scales
        f0 = function(x)

        def at(shifts):
            y = x.copy()
            for j, sign in shifts:
                y[j] += sign * steps[j]
            return function(y)

        indices = list(indices)
        for a, i in enumerate(indices):
            hess[i, i] = (at([(i, 1)]) - 2 * f0 + at([(i, -1)])) / steps[i] ** 2
            for j in indices[a + 1:]:
                hess[i, j] = hess[j, i] = (
                    at([(i, 1), (j, 1)]) - at([(i, 1), (j, -1)])
                    - at([(i, -1), (j, 1)]) + at([(i, -1), (j, -1)])
                ) / (4 * steps[i] * steps[j])
        return hess
