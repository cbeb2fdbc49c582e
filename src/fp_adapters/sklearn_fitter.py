"""ModelFitter on scikit-learn: L2 logistic regression (lbfgs, deterministic), sklearn's ranking metrics.
scikit-learn is imported on first use: it costs every process that never trains over a second."""

from __future__ import annotations

from collections.abc import Sequence

from fp_core.errors import InvalidInput


class SklearnLogistic:
    family = "logistic-regression (scikit-learn lbfgs, L2, C=1.0)"

    def fit(self, features: Sequence[Sequence[float]], labels: Sequence[int], seed: int) -> tuple[float, list[float]]:
        import numpy as np
        from sklearn.linear_model import LogisticRegression

        if len(set(labels)) < 2:
            raise InvalidInput("the training split holds only one label value: nothing to learn")
        model = LogisticRegression(C=1.0, solver="lbfgs", max_iter=2_000, tol=1e-8, random_state=seed)
        model.fit(np.asarray(features, dtype=np.float64), np.asarray(labels, dtype=np.int64))
        return round(float(model.intercept_[0]), 6), [round(float(w), 6) for w in model.coef_[0]]

    def ranking(self, labels: Sequence[int], scores: Sequence[float]) -> tuple[float, float]:
        from sklearn.metrics import average_precision_score, roc_auc_score

        if len(set(labels)) < 2:
            return 0.0, 0.0
        roc, pr = roc_auc_score(labels, scores), average_precision_score(labels, scores)
        return round(float(roc), 6), round(float(pr), 6)
