"""The one envelope every message travels in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import ClassVar, Generic, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Contract(BaseModel):
    """Base of every message body: a named type with a major version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    TYPE: ClassVar[str]
    VERSION: ClassVar[int]

    @classmethod
    def routing_key(cls) -> str:
        return f"{cls.TYPE}.v{cls.VERSION}"


DataT = TypeVar("DataT", bound=Contract)

# Derived message ids are name-based on the message that caused them, so a consumer that
# is redelivered a message and publishes again publishes the *same* message id.
_DERIVED_NAMESPACE = uuid.UUID("6f0e4b8e-3c1c-4c55-9d0a-2f6f7f0c2a11")


class Envelope(BaseModel, Generic[DataT]):
    """A message on the bus: identity, type, causality and the typed body."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: uuid.UUID
    type: str
    version: int
    occurred_at: datetime
    correlation_id: uuid.UUID = Field(description="The resident's request id, on every hop.")
    causation_id: uuid.UUID | None = Field(description="The message that caused this one.")
    data: DataT

    @model_validator(mode="after")
    def _type_matches_data(self) -> Envelope[DataT]:
        expected = (type(self.data).TYPE, type(self.data).VERSION)
        if (self.type, self.version) != expected:
            raise ValueError(f"envelope says {self.type}.v{self.version}, data is another type")
        return self

    @property
    def routing_key(self) -> str:
        return f"{self.type}.v{self.version}"

    @classmethod
    def first(cls, data: DataT, correlation_id: uuid.UUID) -> Envelope[DataT]:
        """The first message of a flow (nothing caused it but the resident)."""
        return _envelope_of(data)(
            message_id=uuid.uuid4(),
            type=data.TYPE,
            version=data.VERSION,
            occurred_at=datetime.now(UTC),
            correlation_id=correlation_id,
            causation_id=None,
            data=data,
        )

    def caused(self, data: DataT2) -> Envelope[DataT2]:
        """The message this one causes: same correlation, deterministic id."""
        return _envelope_of(data)(
            message_id=uuid.uuid5(_DERIVED_NAMESPACE, f"{self.message_id}/{data.routing_key()}"),
            type=data.TYPE,
            version=data.VERSION,
            occurred_at=datetime.now(UTC),
            correlation_id=self.correlation_id,
            causation_id=self.message_id,
            data=data,
        )


DataT2 = TypeVar("DataT2", bound=Contract)


def _envelope_of(data: DataT2) -> type[Envelope[DataT2]]:
    """The envelope class parameterized by the data's own class, so it serializes in full."""
    return cast("type[Envelope[DataT2]]", Envelope[type(data)])  # type: ignore[misc]
