# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The Spark engine for the data checks (policy ``[engine] data = "spark"``).

A dataset whose source is a directory of Parquet parts or a Delta table (``engines.sources``) is
read by Spark, exactly the parts both engines read, and every row carries its position in the
pandas engine's frame (the part's offset + ``_metadata.row_index``), so findings, positions and
digests are the same on both engines (``tests/test_spark_engine.py``).

What runs where:

* executors: the part digests (``binaryFile``), the PII scan (the column-to-text conversion, the
  gates and presidio of ``scanners.pii`` inside ``mapInPandas``, one engine per Python worker),
  the leakage keys and row hashes (``scanners.leakage``'s semantics) and their joins, the lineage
  facts (row count, distinct ids, date range);
* driver: aggregates only, and masked samples: a raw value never leaves the executors. The one
  frame collected (``toPandas``) is the evaluation data the models score, refused above
  ``[engine] max_driver_rows``; MLflow's pandas digest reads the first 10,000 rows it covers.

The session: ``SPARK_MASTER`` or ``[engine] master``; ``[engine] conf`` then
``RELEASE_AUDIT_SPARK_CONF_<key with . as __>`` from the environment. The audit's own package and
presidio must be importable on the executors (local mode: they are).
"""

from pytest_release_audit.engines.spark.core import SparkData, SparkEngine, SparkUnavailable, session_settings

__all__ = ["SparkData", "SparkEngine", "SparkUnavailable", "session_settings"]
