"""`ParamLayout`: the map between a flat parameter vector and named tensors."""

from __future__ import annotations

import numbers
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphtraj.exceptions import ValidationError

__all__ = ["ParamLayout"]


@dataclass(frozen=True)
class ParamLayout:
    """Names, shapes and kinds of the parameter tensors packed into a flat state vector.

    A training state is one vector of length :attr:`size`; parameter ``names[i]``
    occupies ``state[offsets[i]:offsets[i] + prod(shapes[i])]`` in C order (the order
    of ``torch.nn.Module.named_parameters``).

    Parameters
    ----------
    names : sequence of str
        Parameter names, e.g. ``"layers.0.weight"``.
    shapes : sequence of tuple of int
        Tensor shapes, e.g. ``(10, 4)`` (PyTorch's ``(out, in)`` for linear weights).
    kinds : sequence of str, optional
        ``"weight"`` or ``"bias"`` (or ``"other"``) per parameter. By default a name
        ending in ``bias`` is a bias and everything else a weight.

    Examples
    --------
    >>> import numpy as np
    >>> lay = ParamLayout(["w", "b"], [(2, 3), (2,)])
    >>> lay.size
    8
    >>> parts = lay.unflatten(np.arange(8.0))
    >>> parts["w"].shape, parts["b"].tolist()
    ((2, 3), [6.0, 7.0])
    >>> np.array_equal(lay.flatten(parts), np.arange(8.0))
    True
    """

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    kinds: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        names = tuple(str(n) for n in self.names)
        try:
            shapes = tuple(tuple(operator.index(d) for d in s) for s in self.shapes)
        except TypeError:
            raise ValidationError(
                f"`shapes` must be a sequence of integer tuples; got {self.shapes!r}"
            ) from None
        if len(names) != len(shapes):
            raise ValidationError(
                f"`names` and `shapes` must have the same length; got {len(names)} "
                f"and {len(shapes)}"
            )
        if len(set(names)) != len(names):
            raise ValidationError(f"`names` must be unique; got {names}")
        if any(d < 0 for s in shapes for d in s):
            raise ValidationError(f"`shapes` must be non-negative; got {shapes}")
        kinds = tuple(self.kinds) or tuple(
            "bias" if n.endswith("bias") else "weight" for n in names
        )
        if len(kinds) != len(names):
            raise ValidationError(
                f"`kinds` must have one entry per parameter ({len(names)}); got {len(kinds)}"
            )
        for k in kinds:
            if k not in ("weight", "bias", "other"):
                raise ValidationError(
                    f"`kinds` entries must be 'weight', 'bias' or 'other'; got {k!r}"
                )
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "shapes", shapes)
        object.__setattr__(self, "kinds", kinds)

    # ------------------------------------------------------------------ sizes
    @property
    def sizes(self) -> tuple[int, ...]:
        """Number of scalars in each parameter."""
        return tuple(int(np.prod(s, dtype=np.int64)) for s in self.shapes)

    @property
    def offsets(self) -> tuple[int, ...]:
        """Start of each parameter in the flat vector."""
        return tuple(int(o) for o in np.concatenate([[0], np.cumsum(self.sizes)[:-1]]))

    @property
    def size(self) -> int:
        """Length P of the flat vector."""
        return int(sum(self.sizes))

    def __len__(self) -> int:
        return len(self.names)

    def slice(self, name: str) -> slice:
        """The slice of the flat vector holding parameter ``name``.

        Examples
        --------
        >>> ParamLayout(["w", "b"], [(2, 3), (2,)]).slice("b")
        slice(6, 8, None)
        """
        i = self._index(name)
        return slice(self.offsets[i], self.offsets[i] + self.sizes[i])

    def mask(self, kind: str) -> np.ndarray:
        """Boolean (P,) mask of the entries whose parameter has this ``kind``.

        Examples
        --------
        >>> ParamLayout(["fc.weight", "fc.bias"], [(2,), (1,)]).mask("weight").tolist()
        [True, True, False]
        """
        out = np.zeros(self.size, dtype=bool)
        for name, k in zip(self.names, self.kinds, strict=True):
            if k == kind:
                out[self.slice(name)] = True
        return out

    def _index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise ValidationError(
                f"`name` must be one of {list(self.names)}; got {name!r}"
            ) from None

    # --------------------------------------------------------- conversions
    def unflatten(self, flat: Any) -> dict[str, np.ndarray]:
        """Split ``flat`` of shape (..., P) into named arrays of shape ``(..., *shape)``.

        The results are views when ``flat`` is a contiguous numpy array.
        """
        flat = np.asarray(flat)
        if flat.ndim == 0 or flat.shape[-1] != self.size:
            raise ValidationError(
                f"`flat` must have last dimension {self.size}; got shape {flat.shape}"
            )
        lead = flat.shape[:-1]
        return {
            name: flat[..., off : off + n].reshape(*lead, *shape)
            for name, shape, off, n in zip(self.names, self.shapes, self.offsets, self.sizes, strict=True)
        }

    def flatten(self, params: Mapping[str, Any]) -> np.ndarray:
        """Pack named arrays of shape ``(..., *shape)`` into one ``(..., P)`` array."""
        missing = [n for n in self.names if n not in params]
        if missing:
            raise ValidationError(
                f"`params` must contain every parameter of the layout; missing {missing}"
            )
        parts = []
        lead: tuple[int, ...] | None = None
        for name, shape in zip(self.names, self.shapes, strict=True):
            arr = np.asarray(params[name])
            nlead = arr.ndim - len(shape)
            if nlead < 0 or tuple(arr.shape[nlead:]) != shape:
                raise ValidationError(
                    f"parameter `{name}` must have trailing shape {shape}; got {arr.shape}"
                )
            if lead is None:
                lead = arr.shape[:nlead]
            elif arr.shape[:nlead] != lead:
                raise ValidationError(
                    f"all parameters must share leading dimensions {lead}; "
                    f"`{name}` has {arr.shape[:nlead]}"
                )
            parts.append(arr.reshape(*arr.shape[:nlead], -1))
        return np.concatenate(parts, axis=-1)

    # ------------------------------------------------------------------- JSON
    def to_dict(self) -> dict[str, Any]:
        """JSON-able description (see :meth:`from_dict`).

        Examples
        --------
        >>> lay = ParamLayout(["w"], [(2, 3)])
        >>> lay.to_dict()["shapes"], ParamLayout.from_dict(lay.to_dict()) == lay
        ([[2, 3]], True)
        """
        return {
            "names": list(self.names),
            "shapes": [list(s) for s in self.shapes],
            "kinds": list(self.kinds),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ParamLayout:
        """Inverse of :meth:`to_dict`."""
        try:
            return cls(data["names"], [tuple(s) for s in data["shapes"]], data.get("kinds", ()))
        except (KeyError, TypeError) as exc:
            raise ValidationError(
                f"a layout description must have 'names' and 'shapes'; got {dict(data)!r} ({exc})"
            ) from None

    @classmethod
    def for_mlp(cls, sizes: Sequence[int], *, bias: bool = True) -> ParamLayout:
        """The layout of graphtraj's MLP with layer ``sizes`` (e.g. ``[4, 10, 3]``).

        Parameters are ``layers.{i}.weight`` of shape ``(sizes[i+1], sizes[i])`` and,
        when ``bias``, ``layers.{i}.bias`` of shape ``(sizes[i+1],)``, in that order.

        Examples
        --------
        >>> ParamLayout.for_mlp([4, 10, 3]).size
        83
        >>> int(ParamLayout.for_mlp([4, 10, 3]).mask("weight").sum())
        70
        """
        sizes = list(sizes)
        if (len(sizes) < 2 or any(isinstance(s, bool) or not isinstance(s, numbers.Integral)
                                  or s < 1 for s in sizes)):
            raise ValidationError(
                f"`sizes` must list at least two positive integer layer widths; got {sizes}"
            )
        sizes = [int(s) for s in sizes]
        names: list[str] = []
        shapes: list[tuple[int, ...]] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            names.append(f"layers.{i}.weight")
            shapes.append((n_out, n_in))
            if bias:
                names.append(f"layers.{i}.bias")
                shapes.append((n_out,))
        return cls(names, shapes)
