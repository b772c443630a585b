"""A seat method that is one desk's method: declared once, typed from the desk method itself.

``Seat.forecast = Delegated(forecast_desk_of, ForecastDesk.forecast)`` makes ``seat.forecast(request, progress)``
call ``seat.forecast_desk.forecast(request, progress)``, with the desk method's parameters, result and
docstring — for mypy --strict as for a reader — and nothing written twice. The action table binds its actions
to the same desk accessors and methods (``tests/test_actions.py`` checks that every seat method named like an
action runs the very desk method the action runs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

__all__ = ["Delegated"]

S = TypeVar("S")
D = TypeVar("D")
P = ParamSpec("P")
R = TypeVar("R")


class Delegated(Generic[S, D, P, R]):
    """``owner.<name>(...)`` is ``method(desk(owner), ...)``: the method of the desk that owns the work."""

    def __init__(self, desk: Callable[[S], D], method: Callable[Concatenate[D, P], R]) -> None:
        self.desk = desk
        self.method = method
        self.__doc__ = method.__doc__
        self.__name__ = method.__name__

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.__name__ = name

    def __call__(self, seat: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Called on the class, as an unbound method: ``Seat.forecast(seat, request)``."""
        return self.method(self.desk(seat), *args, **kwargs)

    @overload
    def __get__(self, seat: None, owner: type[S]) -> Delegated[S, D, P, R]: ...

    @overload
    def __get__(self, seat: S, owner: type[S]) -> Callable[P, R]: ...

    def __get__(self, seat: S | None, owner: type[S]) -> Delegated[S, D, P, R] | Callable[P, R]:
        if seat is None:
            return self
        desk, method = self.desk(seat), self.method

        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            return method(desk, *args, **kwargs)

        call.__name__ = call.__qualname__ = self.__name__
        call.__doc__ = self.__doc__
        return call
