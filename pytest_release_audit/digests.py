# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Dataset digests: MLflow's (partial) digest and full-content digests we can trust.

MLflow's ``compute_pandas_digest`` hashes only the first 10,000 rows, the row count and column
names, and only all-str or numeric columns, so an edit at row 15,000 keeps it. The full-content
digests here cover every byte: ``files.sha256_file`` (the source file, as seed 001's ``data_sha256``
tag) and ``frame_sha256`` (a canonical serialisation of the frame, for data not kept as a file).
"""

from __future__ import annotations

import hashlib
import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["frame_sha256", "mlflow_digest", "mlflow_digest_variants"]

#: Input (or run) tags holding a full-content digest of the source file.
FILE_DIGEST_TAGS = ("data_sha256", "sha256", "file_sha256")
FRAME_DIGEST_TAG = "frame_sha256"


def frame_sha256(df: pd.DataFrame) -> str:
    """sha256 over column names, dtypes and every cell (``pandas.util.hash_pandas_object``).

    Log it at training time with ``mlflow.log_input(ds, context=..., tags={"frame_sha256": ...})``.
    """
    import pandas as pd

    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, df.columns)).encode("utf-8"))
    digest.update("\x1f".join(str(t) for t in df.dtypes).encode("utf-8"))
    digest.update(str(len(df)).encode())
    if len(df.columns):
        hashed = pd.util.hash_pandas_object(df, index=False, categorize=False)
        digest.update(hashed.to_numpy().tobytes())
    return digest.hexdigest()


def mlflow_digest(df: pd.DataFrame) -> str:
    """The digest ``mlflow.data.from_pandas(df)`` would log."""
    from mlflow.data.pandas_dataset import from_pandas

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return str(from_pandas(df).digest)


def mlflow_digest_variants(df: pd.DataFrame) -> list[tuple[str, str]]:
    """MLflow digests of ``df`` as read and with date-like text columns parsed as datetimes.

    A frame logged with datetime columns and read back from CSV has those columns as text, which
    MLflow's digest includes; parsing them back reproduces the logged digest. Either variant is
    computed from the file's content, so an edited file changes both.
    """
    import pandas as pd

    variants = [("as read", mlflow_digest(df))]
    parsed = df.copy()
    changed = False
    for col in df.columns:
        series = df[col]
        if series.dtype == object or str(series.dtype).startswith("str"):
            sample = series.dropna().astype(str).head(50)
            if sample.empty or not sample.str.match(r"^\d{4}-\d{2}-\d{2}").all():
                continue
            try:
                parsed[col] = pd.to_datetime(series, format="ISO8601")
                changed = True
            except (ValueError, TypeError):
                continue
    if changed:
        variants.append(("dates parsed", mlflow_digest(parsed)))
    return variants
