"""One registry of named backends, used for scorers and embedders alike.

A registry maps a name to a factory (usually the backend class). Built-in backends are
listed by module and imported on first use, so ``import jobimpact`` stays light; they
register themselves with the same decorator a third-party package uses, and packages can
also advertise a backend through an entry-point group (as llm's plugins do)::

    from jobimpact import register_backend, Scorer

    @register_backend("mine")
    class MyScorer(Scorer):
        def score_batch(self, items): ...

:meth:`Registry.create` checks the options against the factory's signature before calling
it, so an option a backend does not take is a one-line :class:`ConfigError` rather than a
``TypeError`` from deep inside it.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from jobimpact.errors import ConfigError

__all__ = ["Registry"]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


class Registry(Generic[T]):
    """Named factories of one kind of backend.

    Parameters
    ----------
    kind : str
        What the backends are, for messages (``scoring backend``, ``embedder``).
    base : type
        The base class every created backend must be an instance of.
    entry_point_group : str
        Entry-point group through which packages advertise backends.
    builtins : Mapping[str, str]
        Name → module that registers it when imported.
    name_attribute : str
        Class attribute set to the registered name on registered classes.
    """

    def __init__(
        self,
        kind: str,
        base: type,
        *,
        entry_point_group: str,
        builtins: Mapping[str, str],
        name_attribute: str,
    ) -> None:
        self.kind = kind
        self.base = base
        self.entry_point_group = entry_point_group
        self.builtins = dict(builtins)
        self.name_attribute = name_attribute
        self._factories: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[F], F]:
        """Decorator registering a class (or a factory returning an instance) as ``name``.

        Registering a name again replaces the earlier entry.
        """

        def decorate(factory: F) -> F:
            self._factories[name] = factory
            if isinstance(factory, type) and issubclass(factory, self.base):
                setattr(factory, self.name_attribute, name)
            return factory

        return decorate

    def unregister(self, name: str) -> None:
        """Forget ``name`` (a built-in is loaded again on its next use)."""
        self._factories.pop(name, None)

    @contextmanager
    def registered(self, name: str, factory: Callable[..., T]) -> Iterator[None]:
        """Register ``factory`` as ``name`` for the duration of a block (tests, notebooks)."""
        previous = self._factories.get(name)
        self.register(name)(factory)
        try:
            yield
        finally:
            if previous is None:
                self.unregister(name)
            else:
                self._factories[name] = previous

    def names(self) -> list[str]:
        """Every name :meth:`create` knows: registered, built-in and advertised."""
        found = set(self._factories) | set(self.builtins)
        found |= {ep.name for ep in entry_points(group=self.entry_point_group)}
        return sorted(found)

    def factory(self, name: str) -> Callable[..., T] | None:
        """The factory of ``name``, loading a built-in or entry point on first use."""
        if name in self._factories:
            return self._factories[name]
        if name in self.builtins:
            importlib.import_module(self.builtins[name])
            return self._factories.get(name)
        for ep in entry_points(group=self.entry_point_group, name=name):
            self.register(name)(ep.load())
            return self._factories[name]
        return None

    def create(self, name: str, **params: Any) -> T:
        """Create the backend registered as ``name`` with ``params``.

        Raises
        ------
        ConfigError
            When no backend has that name, it does not take one of ``params``, or it
            returns something that is not a backend.
        """
        factory = self.factory(name)
        if factory is None:
            raise ConfigError(
                f"{self.kind}: got {name!r}, expected one of {', '.join(self.names())}"
            )
        accepted = _keyword_parameters(factory)
        unknown = sorted(set(params) - accepted) if accepted is not None else []
        if unknown:
            raise ConfigError(
                f"{self.kind} {name!r}: got option {', '.join(unknown)}, expected some of "
                f"{', '.join(sorted(accepted or ())) or 'none'}"
            )
        created = factory(**params)
        if not isinstance(created, self.base):
            raise ConfigError(
                f"{self.kind} {name!r}: got a {type(created).__name__}, "
                f"expected a {self.base.__name__}"
            )
        result: T = created
        return result


def _keyword_parameters(factory: Callable[..., Any]) -> set[str] | None:
    """Keyword parameters a factory takes, or None when it takes any (``**kwargs``)."""
    signature = inspect.signature(factory)
    if any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
        return None
    return {
        name
        for name, p in signature.parameters.items()
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    }
