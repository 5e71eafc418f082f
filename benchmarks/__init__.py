"""Pinsphere's benchmarks: the library against the best hand-written SQL on the same data.

Run ``python -m benchmarks --help`` from the repository root. Modules:

* :mod:`benchmarks.datagen`: deterministic synthetic pins, streamed in batches;
* :mod:`benchmarks.timing`: nanosecond samples and percentiles;
* :mod:`benchmarks.baseline_sqlite`, :mod:`benchmarks.baseline_postgres`: the hand-written
  schemas and queries the field notes found best;
* :mod:`benchmarks.targets`: Pinsphere stores and baselines, loaded once and cached;
* :mod:`benchmarks.search_bench`, :mod:`benchmarks.ingest_bench`,
  :mod:`benchmarks.upload_bench`: the three benchmarks;
* :mod:`benchmarks.report`: the tables; :mod:`benchmarks.runner`: the command line.
"""
