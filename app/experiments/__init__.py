"""The Experiments page's glue, one module per section.

:mod:`~app.experiments.runner` (a ready-made experiment's arms trained one after another as one job of
the server's registry, each kept in the workspace as a run, the results kept as an ``experiment`` item),
:mod:`~app.experiments.ready` (pick, run with one click, watch, read the comparison),
:mod:`~app.experiments.compare` (any kept runs: curves overlaid, settings against results) and
:mod:`~app.experiments.explain` (batch norm, dropout and an augmented batch). The experiments
themselves are data in :mod:`cnn_core.training.experiments`.
"""
