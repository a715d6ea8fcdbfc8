"""Where moto's cost per request grows with the data, or repeats work that never changes.

Found by profiling the local cloud while 200 players joined at once (every join is
about eight DynamoDB requests, which run one at a time, see :mod:`.moto_services`):

* **Transactions copied whole tables.** To undo a refused ``TransactWriteItems``, moto
  deep-copies *every table* the transaction names before writing anything. A
  classroom's rooms table gains items with every join and battle, and every join writes
  a transaction, so joins slowed down as the day went on. A transaction can only change
  the items it names (at most 100): those are saved instead, and put back if it is
  refused. moto's own copies are skipped; its rollback then puts back the very table
  objects it holds, which changes nothing.
* **Every request looked its service up from scratch**: a directory listing of moto's
  ~200 service packages, then up to hundreds of URL patterns, to map a host name to a
  backend. The answer for a host never changes: it is remembered.
* **Every request listed its handler class's methods** with ``inspect.getmembers``;
  remembered per class.
* **Every model instance moto ever made was kept.** For its dashboard
  (``/moto-api/data.json``) and S3's reset, moto appends each instance of each model
  to a list: every item ever written, every copy of an item a request makes (an
  UpdateItem makes several), every log line. Nothing left them, so a classroom's day
  of play grew the process without bound (18 items per player in a battle, and every
  log line however often the logs were trimmed). The lists now hold instances weakly:
  the dashboard and the reset still see every instance that is still in use.

Each adjustment keeps moto's results exactly; only the repeated work is gone.
"""

from __future__ import annotations

import copy
import functools
import types
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

__all__ = ["install"]

# (table, hash key, range key or None, the item before the transaction or None)
_Saved = tuple[Any, Any, Any, Any]
_HOSTS_REMEMBERED = 1024  # host names are few (one per service and region); a bound anyway
_SWEEP_AT_LEAST = 1024  # references a model's instance list holds before its first sweep


def install() -> None:
    """Apply the four adjustments (idempotent: a reset configures moto again)."""
    _transactions_save_their_items()
    _remember_backends_by_host()
    _remember_method_names()
    _track_instances_weakly()


def _patched(function: Callable[..., Any]) -> bool:
    return getattr(function, "_workshop_patched", False)


def _transactions_save_their_items() -> None:
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    backend = models.DynamoDBBackend
    original = backend.transact_write_items
    if _patched(original):
        return

    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, Table):
            return value  # the items the transaction names are saved instead
        return copy.deepcopy(value, memo)

    # moto.dynamodb.models takes these snapshots with its module ``copy`` (and one copy
    # of a single item, which still gets a real deep copy).
    models.copy = types.SimpleNamespace(deepcopy=deepcopy, copy=copy.copy)

    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = _save(self, transact_items)
        try:
            original(self, transact_items)
        except BaseException:
            _restore(saved)
            raise

    transact_write_items._workshop_patched = True  # type: ignore[attr-defined]
    backend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _save(backend: Any, transact_items: Sequence[Any]) -> list[_Saved]:
    """A deep copy of each item the transaction names, as it is now (None: absent)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    saved: list[_Saved] = []
    if len(transact_items) > 100:
        return saved  # refused before anything is written
    for entry in transact_items:
        op = next(iter(entry.values()), None) if isinstance(entry, dict) else None
        if not isinstance(op, dict):
            continue  # moto refuses it before writing anything
        table = backend.tables.get(op.get("TableName"))
        key = op.get("Key", op.get("Item"))
        if table is None or not isinstance(key, dict) or table.hash_key_attr not in key:
            continue
        if table.range_key_attr is not None and table.range_key_attr not in key:
            continue
        try:
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = (DynamoType(key[table.range_key_attr])
                           if table.range_key_attr is not None else None)
            item = table.get_item(hash_value, range_value)
        except Exception:  # noqa: BLE001 - a malformed key: moto refuses it unwritten
            continue
        saved.append((table, hash_value, range_value, copy.deepcopy(item)))
    return saved


def _restore(saved: list[_Saved]) -> None:
    """Put every saved item back; the earliest copy of an item named twice wins."""
    for table, hash_value, range_value, item in reversed(saved):
        if range_value is None:
            if item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item
        elif item is None:
            if hash_value in table.items:
                table.items[hash_value].pop(range_value, None)
        else:
            table.items[hash_value][range_value] = item


def _remember_backends_by_host() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.get_backend_for_host
    if _patched(original):
        return
    remembered: dict[str | None, Any] = {}

    @functools.wraps(original)
    def get_backend_for_host(self: Any, host: str | None) -> Any:
        if host in remembered:
            return remembered[host]
        backend = original(self, host)
        if len(remembered) < _HOSTS_REMEMBERED:
            remembered[host] = backend
        return backend

    get_backend_for_host._workshop_patched = True  # type: ignore[attr-defined]
    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]


def _remember_method_names() -> None:
    from moto.core import responses

    original = responses.method_names_from_class
    if _patched(original):
        return
    # Handler classes are few and fixed; their methods do not change while serving.
    remembered = functools.lru_cache(maxsize=None)(original)

    @functools.wraps(original)
    def method_names_from_class(clazz: object) -> list[str]:
        return list(remembered(clazz))

    method_names_from_class._workshop_patched = True  # type: ignore[attr-defined]
    responses.method_names_from_class = method_names_from_class


class _LiveInstances:
    """A model's ``instances_tracked``, holding its instances weakly, in the order made.

    What moto does with the list (appends, iterates) works on it. References to dead
    instances are swept out whenever the list has doubled since the last sweep, so it
    stays within twice the live instances (and every append stays cheap: moto makes an
    instance for every item copy and every log line). An instance that cannot be
    referred to weakly is held, as moto would hold it.
    """

    def __init__(self, instances: Iterable[Any] = ()) -> None:
        self._refs: list[weakref.ref[Any]] = []
        self._held: list[Any] = []
        self._sweep_at = _SWEEP_AT_LEAST
        for instance in instances:
            self.append(instance)

    def append(self, instance: Any) -> None:
        try:
            self._refs.append(weakref.ref(instance))
        except TypeError:
            self._held.append(instance)
            return
        if len(self._refs) >= self._sweep_at:
            self._refs = [ref for ref in self._refs if ref() is not None]
            self._sweep_at = max(2 * len(self._refs), _SWEEP_AT_LEAST)

    def __iter__(self) -> Iterator[Any]:
        live = [instance for ref in self._refs if (instance := ref()) is not None]
        return iter(self._held + live)

    def __len__(self) -> int:
        return len(self._held) + sum(ref() is not None for ref in self._refs)


def _track_instances_weakly() -> None:
    from moto.core.common_models import BaseModel

    original = BaseModel.__dict__["__new__"].__func__
    if _patched(original):
        return

    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
        instance = super(BaseModel, cls).__new__(cls)
        tracked = cls.instances_tracked  # type: ignore[attr-defined]
        if type(tracked) is list:  # moto's, from the class's creation or from a reset
            tracked = cls.instances_tracked = _LiveInstances(tracked)  # type: ignore[attr-defined]
        tracked.append(instance)
        return instance

    __new__._workshop_patched = True  # type: ignore[attr-defined]
    BaseModel.__new__ = staticmethod(__new__)  # type: ignore[assignment]
