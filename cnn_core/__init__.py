"""ConvLab's core: the PyTorch/numpy library behind every number the app shows.

Import it in a notebook to get the same results as the pages:

>>> from cnn_core import geometry, ops, kernels
>>> geometry.output_size(28, 3, padding=1)
28

Modules: ``geometry`` (shape, padding, parameter and FLOP formulas), ``ops`` (reference
convolution and pooling with step-by-step traces), ``kernels`` (preset kernels), ``filters``
(fast filtering of whole photos), ``pixel`` (the dot product behind one output pixel),
``images`` (safe decoding of uploads), ``data`` (datasets), ``models`` (typed network configs),
``summary`` (shapes and parameter counts), ``training`` (training as a generator of events)
and ``inspection`` (looking inside a trained model). No module here imports streamlit or plotly.
"""
