"""Networks as text: JSON-able dicts (saved next to trained weights) and compact links, derived from the fields.

Neither codec knows a layer type by name: a dict is ``{"type": spec.type_name, **fields}`` and a link
token is written and read from the fields' :class:`~cnn_core.models.base.Setting` (see its docstring
for the grammar), so a new layer type needs no change here.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from cnn_core.models.base import AS_FIELD, LAYER_TYPES, REQUIRED, LayerSpec, Setting, settings
from cnn_core.models.network import ModelConfig
from cnn_core.models.presets import PRESETS

__all__ = ["from_dict", "from_query", "layer_from_dict", "layer_to_dict", "parse_token", "to_dict", "to_query"]


# --------------------------------------------------------------------------- dicts


def _encode(value: Any) -> Any:
    if isinstance(value, LayerSpec):
        return layer_to_dict(value)
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any, where: str) -> Any:
    if isinstance(value, dict) and "type" in value:
        return layer_from_dict(value, where)
    if isinstance(value, list):
        return tuple(_decode(v, where) for v in value)
    return value


def layer_to_dict(spec: LayerSpec) -> dict[str, Any]:
    """``{"type": "conv", "filters": 32, ...}``: the type name, then every field."""
    return {"type": spec.type_name, **{f.name: _encode(getattr(spec, f.name)) for f in dataclasses.fields(spec)}}


def layer_from_dict(item: dict[str, Any], where: str = "a layer") -> LayerSpec:
    """Inverse of :func:`layer_to_dict`; ``ValueError`` for an unknown type, ``TypeError`` for unknown fields."""
    item = dict(item)
    kind = item.pop("type")
    if kind not in LAYER_TYPES:
        raise ValueError(f"{where} has unknown type {kind!r}.")
    return LAYER_TYPES[kind](**{k: _decode(v, where) for k, v in item.items()})


def to_dict(config: ModelConfig) -> dict[str, Any]:
    """Plain JSON-able dict: ``{"name", "input_shape", "layers": [{"type": "conv", ...}, ...]}``."""
    return {
        "name": config.name,
        "input_shape": list(config.input_shape),
        "layers": [layer_to_dict(s) for s in config.layers],
    }


def from_dict(data: dict[str, Any]) -> ModelConfig:
    """Inverse of :func:`to_dict`; raises ``ValueError`` with a readable message on a malformed dict."""
    try:
        layers = tuple(layer_from_dict(item, f"layer {i + 1}") for i, item in enumerate(data["layers"]))
        shape = tuple(int(v) for v in data["input_shape"])
        if len(shape) != 3:
            raise ValueError("the input shape must have three numbers (channels, height, width).")
        return ModelConfig(name=str(data.get("name", "Custom network")), input_shape=shape, layers=layers)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"Not a ConvLab model config: {exc}") from None


# --------------------------------------------------------------------------- link tokens


def _link_default(f: dataclasses.Field, s: Setting) -> Any:
    return f.default if s.link_default is AS_FIELD else s.link_default


def _bare(s: Setting, value: Any) -> bool:
    """Written without its tag: a field without a tag, or a string among its choices ("same")."""
    return not s.tag or (isinstance(value, str) and value in (s.choices or ()))


def fields_to_token(spec: LayerSpec) -> str:
    """``[before]prefix[head]-option...``, e.g. ``conv32-k3-s2-same-relu``, ``maxpool3-s2``, ``act-elu``."""
    before = head = ""
    options = []
    for f, s in settings(spec):
        value = getattr(spec, f.name)
        if s.place == "before":
            before = str(value)
        elif s.place == "head":
            head = f"{value:g}" if isinstance(value, float) else str(value)
        else:
            default = _link_default(f, s)
            if not s.always and default is not REQUIRED and (value == default or value in s.omit):
                continue
            options.append(str(value) if _bare(s, value) else f"{s.tag}{value}")
    return "-".join([before + spec.token_prefix + head, *options])


def _read_head(text: str, default: Any, token: str, prefix: str) -> Any:
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"in {token!r}, expected a number after {prefix!r}.") from None
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"in {token!r}, expected a whole number after {prefix!r}.")
    return int(text)


def _read_option(fields: list[tuple[dataclasses.Field, Setting]], option: str) -> tuple[str, Any] | None:
    for f, s in fields:
        if s.place == "option" and option in (s.choices or ()):
            return f.name, option
    for f, s in fields:
        rest = option[len(s.tag) :]
        if s.place == "option" and s.tag and option.startswith(s.tag) and rest.isascii() and rest.isdigit():
            return f.name, int(rest)
    return None


def fields_from_token(
    cls: type[LayerSpec], token: str, fixed: dict[str, Any], head: str | None, options: list[str]
) -> LayerSpec:
    """Inverse of :func:`fields_to_token` once :func:`parse_token` has found the type."""
    fields = settings(cls)
    kw = dict(fixed)
    for f, s in fields:
        if s.place == "head":
            kw[f.name] = _read_head(head or "", f.default, token, cls.token_prefix)
    given: set[str] = set()
    for option in options:
        found = _read_option(fields, option)
        if found is None:
            article = "an" if cls.noun[:1] in "aeiou" else "a"
            raise ValueError(f"in {token!r}, {option!r} is not {article} {cls.noun} setting.")
        if found[0] in given:
            raise ValueError(f"in {token!r}, {option!r} gives the {found[0]} a second time.")
        given.add(found[0])
        kw[found[0]] = found[1]
    for f, s in fields:
        if f.name not in kw:
            if (default := _link_default(f, s)) is REQUIRED:
                raise ValueError(f"in {token!r}, the {s.label.lower()} is missing.")
            kw[f.name] = default
    return cls(**kw)


def _heads(cls: type[LayerSpec]) -> list[tuple[str, dict[str, Any]]]:
    """The ways a token of ``cls`` can start: ``("conv", {})``, ``("maxpool", {"kind": "max"})``, ..."""
    for f, s in settings(cls):
        if s.place == "before":
            return [(f"{c}{cls.token_prefix}", {f.name: c}) for c in s.choices or ()]
    return [(cls.token_prefix, {})]


def parse_token(token: str) -> LayerSpec:
    """One layer of a link, e.g. ``"conv32-k3-relu"``; ``ValueError`` saying what it cannot read."""
    head, *options = token.split("-")
    best: tuple[type[LayerSpec], str, dict[str, Any], bool] | None = None
    for cls in LAYER_TYPES.values():
        has_head = any(s.place == "head" for _, s in settings(cls))
        for prefix, fixed in _heads(cls):
            fits = head.startswith(prefix) if has_head else head == prefix
            if fits and (best is None or len(prefix) > len(best[1])):
                best = (cls, prefix, fixed, has_head)
    if best is None:
        raise ValueError(f"{token!r} is not a layer ConvLab knows.")
    cls, prefix, fixed, has_head = best
    return cls.from_parts(token, fixed, head[len(prefix) :] if has_head else None, options)


def to_query(config: ModelConfig) -> dict[str, str]:
    """Compact strings for a link, e.g. ``{"in": "1x28x28", "net": "conv32-k3-relu_maxpool2_..."}``."""
    return {
        "in": "x".join(str(v) for v in config.input_shape),
        "net": "_".join(s.to_token() for s in config.layers),
    }


def from_query(params: dict[str, str], *, name: str | None = None) -> ModelConfig:
    """Inverse of :func:`to_query`; raises ``ValueError`` naming the part of the link it cannot read.

    If the result equals a preset, it gets the preset's name.
    """
    raw_in = str(params.get("in", "1x28x28"))
    try:
        shape = tuple(int(v) for v in raw_in.lower().split("x"))
    except ValueError:
        raise ValueError(f"The input shape {raw_in!r} in the link should look like 1x28x28.") from None
    if len(shape) != 3:
        raise ValueError(f"The input shape {raw_in!r} in the link should look like 1x28x28.")
    raw_net = str(params.get("net", "")).strip()
    try:
        layers = tuple(parse_token(t) for t in raw_net.split("_") if t)
    except ValueError as exc:
        raise ValueError(f"The network in the link cannot be read: {exc}") from None
    config = ModelConfig(name=name or "Custom network", input_shape=shape, layers=layers)
    for preset in PRESETS.values():
        if preset.input_shape == config.input_shape and preset.layers == config.layers:
            return preset
    return config
