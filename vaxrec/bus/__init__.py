"""The message bus: topology, confirmed publishing, and typed consumers with retry and parking."""

from vaxrec.bus._connection import Bus, connect_bus
from vaxrec.bus._consumer import ATTEMPT_HEADER, ERROR_HEADER, Consumer, Handler, PermanentError
from vaxrec.bus._publisher import Publisher
from vaxrec.bus._topology import SUBSCRIPTIONS, Topology, declare, delete

__all__ = [
    "ATTEMPT_HEADER",
    "ERROR_HEADER",
    "SUBSCRIPTIONS",
    "Bus",
    "Consumer",
    "Handler",
    "PermanentError",
    "Publisher",
    "Topology",
    "connect_bus",
    "declare",
    "delete",
]
