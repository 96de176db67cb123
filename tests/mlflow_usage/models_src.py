# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The source of ``usage_models.py``, the custom pyfuncs a user's training repository holds.

Kept as text: ``builders.py`` commits it into the training repository and logs it with
``code_paths``, so the registered pyfuncs import it the way a user's own module is imported.
"""

SPDX = "# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors\n# SPDX-License-Identifier: Apache-2.0\n"

USAGE_MODELS = SPDX + '''"""Custom pyfunc wrappers around a fitted scikit-learn classifier, one per output shape."""

from __future__ import annotations

import mlflow.pyfunc
import numpy as np
import pandas as pd


class _Wrapped(mlflow.pyfunc.PythonModel):
    def __init__(self, clf, features):
        self.clf = clf
        self.features = list(features)

    def _proba(self, model_input):
        return self.clf.predict_proba(model_input[self.features])


class ProbaVector(_Wrapped):
    """P(class 1), shape (n,)."""

    def predict(self, context, model_input, params=None):
        return self._proba(model_input)[:, 1]


class ProbaColumn(_Wrapped):
    """P(class 1), shape (n, 1)."""

    def predict(self, context, model_input, params=None):
        return self._proba(model_input)[:, 1:2]


class ProbaMatrix(_Wrapped):
    """predict_proba as it is, shape (n, k): (n, 2) for a binary classifier."""

    def predict(self, context, model_input, params=None):
        return np.asarray(self._proba(model_input))


class ProbaFrame(_Wrapped):
    """predict_proba as a DataFrame whose columns are the classes (pd.DataFrame(p, columns=clf.classes_))."""

    def predict(self, context, model_input, params=None):
        return pd.DataFrame(self._proba(model_input), columns=[str(c) for c in self.clf.classes_])


class Labels(_Wrapped):
    """Hard 0/1 labels (clf.predict), not scores."""

    def predict(self, context, model_input, params=None):
        return self.clf.predict(model_input[self.features])
'''

TRAIN_PY = SPDX + '''"""Training code of the usage models (tests/mlflow_usage/builders.py runs the steps)."""

from __future__ import annotations


def describe() -> str:
    """What this repository trains."""
    return "scikit-learn classifiers and regressors on scikit-learn's bundled datasets"
'''
