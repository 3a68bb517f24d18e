"""Analytic posteriors for the NUTS tests, as Cobaya likelihood classes with exact gradients.

Importable by name (``likelihood: {nuts_likelihoods.Gaussian10: {python_path: <tests>}}``)
so that ``cobaya-run`` subprocesses (MPI) find them. Each supplies its gradient the way
`cobaya_szlite.posterior_gradient.PosteriorGradient` reads it: ``get_gradient_requirements``
(no extra products) and ``logp_gradient(**params) -> {param: d ln L / d param}``.
"""

import numpy as np
from cobaya.likelihood import Likelihood

__all__ = ["BANANA_B", "BANANA_S", "Banana", "GAUSS_COV", "GAUSS_MEAN", "GAUSS_NAMES", "Gaussian10",
           "NoGradient", "SHELL_SIGMA", "ThinShell", "gaussian_params", "shell_mean"]

#: The correlated 10-d Gaussian: mean, covariance (correlations up to ~0.9), names.
GAUSS_NAMES = [f"g{i}" for i in range(10)]
GAUSS_MEAN = np.linspace(-1.0, 2.0, 10)
_A = np.random.default_rng(12).normal(size=(10, 10))
_SCALES = np.geomspace(0.01, 3.0, 10)
GAUSS_COV = np.outer(_SCALES, _SCALES) * (_A @ _A.T / 10 + 0.05 * np.eye(10))
_GAUSS_INV = np.linalg.inv(GAUSS_COV)

#: Banana: x ~ N(0, 1), y | x ~ N(BANANA_B (x^2 - 1), BANANA_S^2); so E[x] = E[y] = 0,
#: Var x = 1, Var y = 2 B^2 + S^2, Cov(x, y) = 0, E[x^2 y] = 2 B.
BANANA_B = 1.0
BANANA_S = 1.0


def gaussian_params(width_sigmas: float = 6.0) -> dict:
    """Cobaya ``params`` of the Gaussian: flat priors of +- width_sigmas marginal sigmas,
    a random `ref` of 0.3 sigma around the mean, `proposal` the marginal sigma."""
    sigma = np.sqrt(np.diag(GAUSS_COV))
    return {
        name: {"prior": {"min": float(m - width_sigmas * s), "max": float(m + width_sigmas * s)},
               "ref": {"dist": "norm", "loc": float(m), "scale": float(0.3 * s)}, "proposal": float(s)}
        for name, m, s in zip(GAUSS_NAMES, GAUSS_MEAN, sigma)
    }


class Gaussian10(Likelihood):
    """ln L = -(x - mean)^T Cov^-1 (x - mean) / 2 in the 10 parameters g0 ... g9."""

    params = {name: None for name in GAUSS_NAMES}

    def _residual(self, params_values: dict) -> np.ndarray:
        return np.array([params_values[name] for name in GAUSS_NAMES]) - GAUSS_MEAN

    def logp(self, **params_values: float) -> float:
        r = self._residual(params_values)
        return float(-0.5 * r @ _GAUSS_INV @ r)

    def get_gradient_requirements(self) -> dict:
        return {}

    def logp_gradient(self, **params_values: float) -> dict:
        return dict(zip(GAUSS_NAMES, (-_GAUSS_INV @ self._residual(params_values)).tolist()))


class Banana(Likelihood):
    """ln L = -x^2/2 - (y - B (x^2 - 1))^2 / (2 S^2) in the parameters x, y."""

    params = {"x": None, "y": None}

    def logp(self, **params_values: float) -> float:
        x, y = params_values["x"], params_values["y"]
        return float(-0.5 * x**2 - 0.5 * ((y - BANANA_B * (x**2 - 1)) / BANANA_S) ** 2)

    def get_gradient_requirements(self) -> dict:
        return {}

    def logp_gradient(self, x: float, y: float) -> dict:
        r = (y - BANANA_B * (x**2 - 1)) / BANANA_S**2
        return {"x": float(-x + r * 2 * BANANA_B * x), "y": float(-r)}


#: Thin shell: p uniform, ln s | p ~ N(shell_mean(ln p), SHELL_SIGMA^2) in the likelihood.
SHELL_SIGMA = 0.01


def shell_mean(log_p):
    """The shell's centre ln s as a function of ln p (dimensionless): curved, spanning ~2."""
    return 0.5 - 1.5 * log_p + 0.6 * log_p**2


class ThinShell(Likelihood):
    """ln L = -(ln s - shell_mean(ln p))^2 / (2 SHELL_SIGMA^2) in the parameters p, s: a
    posterior 100 times thinner than it is long, along a curve (what
    ``degeneracy_param: s`` straightens). With flat priors wide enough not to cut it, the
    marginal density of p is proportional to exp(shell_mean(ln p)), and ln s | p is Gaussian
    with mean shell_mean(ln p) + SHELL_SIGMA^2 and variance SHELL_SIGMA^2."""

    params = {"p": None, "s": None}

    def logp(self, **params_values: float) -> float:
        p, s = params_values["p"], params_values["s"]
        return float(-0.5 * ((np.log(s) - shell_mean(np.log(p))) / SHELL_SIGMA) ** 2)

    def get_gradient_requirements(self) -> dict:
        return {}

    def logp_gradient(self, p: float, s: float) -> dict:
        r = (np.log(s) - shell_mean(np.log(p))) / SHELL_SIGMA**2
        return {"p": float(r * (-1.5 + 1.2 * np.log(p)) / p), "s": float(-r / s)}


class NoGradient(Likelihood):
    """A unit Gaussian in x, y without any gradient method (for the bad-input tests);
    zero likelihood where x > 3 (``zero_above``)."""

    params = {"x": None, "y": None}
    zero_above: float = 3.0

    def logp(self, **params_values: float) -> float:
        x, y = params_values["x"], params_values["y"]
        if x > self.zero_above:
            return -np.inf
        return float(-0.5 * (x**2 + y**2))
