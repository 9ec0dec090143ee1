"""Saving and loading trained models safely.

:func:`save_model` writes a state dict plus the model's config in one ``.pt`` file;
:func:`load_model` reads it back with ``torch.load(weights_only=True)`` (no code is ever run)
and checks every tensor name and shape, raising :class:`ModelFileError` with a readable message
for anything that is not a matching model.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

__all__ = ["FORMAT", "ModelFileError", "load_model", "save_model"]


class ModelFileError(ValueError):
    """A model file cannot be used; the message says why in plain words."""


FORMAT = "convlab-model/1"


def save_model(
    model: nn.Module,
    model_config: dict[str, Any],
    dest: str | os.PathLike[str] | io.IOBase | None = None,
    meta: dict[str, Any] | None = None,
) -> bytes:
    """Save a state dict and the config that rebuilds the model, as one ``.pt`` file.

    Parameters
    ----------
    model : nn.Module
    model_config : dict
        Plain data (str, int, float, bool, None, lists, dicts) from which the model can be
        rebuilt, e.g. ``dataclasses.asdict(cfg)``.
    dest : path or binary file, optional
        Where to write; the bytes are returned either way.
    meta : dict, optional
        Extra plain data (class names, mean/std, accuracy...), returned by :func:`load_model`.

    Returns
    -------
    bytes
        The file's contents.
    """
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    payload = {"format": FORMAT, "config": model_config, "meta": meta or {}, "state_dict": state}
    buf = io.BytesIO()
    torch.save(payload, buf)
    raw = buf.getvalue()
    if isinstance(dest, (str, os.PathLike)):
        with open(dest, "wb") as f:
            f.write(raw)
    elif dest is not None:
        dest.write(raw)
    return raw


def load_model(
    source: bytes | str | os.PathLike[str], build_fn: Callable[[dict[str, Any]], nn.Module]
) -> tuple[nn.Module, dict[str, Any], dict[str, Any]]:
    """Load a file written by :func:`save_model`, safely.

    The file is read with ``torch.load(weights_only=True)``, so it can hold tensors and plain
    data only, never code. The model is rebuilt with ``build_fn(config)`` and every tensor's
    name and shape is checked before the weights are copied in.

    Parameters
    ----------
    source : bytes or path
    build_fn : callable
        ``config dict -> nn.Module`` (e.g. the models registry's builder).

    Returns
    -------
    model, config, meta

    Raises
    ------
    ModelFileError
        When the file is not a ConvLab model, carries code, is corrupt, or its weights do not
        match the model its config describes.
    """
    if isinstance(source, (bytes, bytearray)):
        if len(source) == 0:
            raise ModelFileError("The model file is empty.")
        fobj: Any = io.BytesIO(source)
    else:
        fobj = source
    try:
        payload = torch.load(fobj, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle.UnpicklingError, RuntimeError (corrupt zip), EOFError...
        text = str(exc)
        if "GLOBAL" in text or "Unsupported global" in text:  # a pickle that names Python objects to run
            raise ModelFileError(
                "This file contains Python objects or code, not just weights; ConvLab refuses to run it."
            ) from None
        raise ModelFileError("This is not a readable PyTorch model file (it may be truncated or corrupt).") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT or "state_dict" not in payload:
        raise ModelFileError(
            "This file is not a ConvLab model: it lacks the model config. Save models from ConvLab's Training page."
        )
    config, meta, state = payload.get("config") or {}, payload.get("meta") or {}, payload["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelFileError("The model file's weights are malformed.")
    try:
        model = build_fn(config)
    except Exception as exc:
        raise ModelFileError(f"The model described in the file cannot be built: {exc}") from None
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    extra = [k for k in state if k not in expected]
    if missing or extra:
        some = ", ".join((missing or extra)[:3])
        raise ModelFileError(
            f"The weights do not match the model: {len(missing)} missing and {len(extra)} unexpected tensors ({some})."
        )
    for k, v in expected.items():
        if tuple(v.shape) != tuple(state[k].shape):
            raise ModelFileError(
                f"The weights do not match the model: {k} has shape {tuple(state[k].shape)} in the file but "
                f"{tuple(v.shape)} in the model."
            )
    model.load_state_dict(state)
    model.eval()
    return model, config, meta
