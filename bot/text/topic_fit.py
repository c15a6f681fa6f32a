"""Fit one topic's logistic regression with every feature weight held at zero or above (offline).

The loss is scikit-learn's LogisticRegression's (lbfgs, L2, intercept unpenalised): the
sample-weighted log loss plus ||w||² / 2C, both divided by the weights' sum, minimised by the
same L-BFGS-B with the same tolerances. The only change is the bound: a word may argue for a
topic or not at all, never against it (round 12 of issue 12, see BENCHMARKS.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def fit_logistic(
    matrix, target: Sequence[bool], *, c: float, balanced: bool, nonnegative: bool, tol=1e-4
) -> tuple[float, np.ndarray]:
    """Return (bias, coefficients) of the L2 logistic regression, weights >= 0 if nonnegative."""
    from scipy.optimize import minimize
    from scipy.special import expit

    y = np.asarray(target, dtype=float)
    weights = _class_weights(y) if balanced else np.ones_like(y)
    total = weights.sum()
    size = matrix.shape[1]

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        coef, bias = params[:size], params[size]
        z = matrix @ coef + bias
        # log(1 + e^z) - y z is the log loss of label y at logit z, stable for any z
        value = weights @ (np.logaddexp(0.0, z) - y * z) + coef @ coef / (2 * c)
        residual = weights * (expit(z) - y)
        grad = np.append(matrix.T @ residual + coef / c, residual.sum())
        return value / total, grad / total

    bounds = [(0.0, None)] * size + [(None, None)] if nonnegative else None
    found = minimize(
        loss,
        np.zeros(size + 1),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        # scikit-learn's lbfgs settings, so the bound is the only difference from its fit
        options={"maxiter": 5000, "gtol": tol, "ftol": 64 * np.finfo(float).eps},
    )
    return float(found.x[size]), found.x[:size]


def _class_weights(y: np.ndarray) -> np.ndarray:
    """Weigh each row by n / (2 * its class's count), as class_weight="balanced" does."""
    positives = y.sum()
    counts = np.where(y > 0, positives, len(y) - positives)
    return len(y) / (2 * counts)
