# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Where the data checks run: pandas in this process (default) or Spark (policy ``[engine] data``).

``sources`` lists the parts of a Parquet directory or a Delta version for both engines; ``spark``
reads them with Spark and runs data_integrity, pii, leakage and lineage on the executors.
Nothing here imports pandas or pyspark at module import.
"""
