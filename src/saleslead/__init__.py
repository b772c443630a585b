"""saleslead: the sales-lead seat of an agent fleet."""

from saleslead.errors import (
    InputError,
    InsufficientDataError,
    MappingError,
    NotFoundError,
    OutOfLaneError,
    SalesLeadError,
    SchemaError,
    StoreError,
)
from saleslead.periods import Period

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "InsufficientDataError",
    "MappingError",
    "NotFoundError",
    "OutOfLaneError",
    "Period",
    "SalesLeadError",
    "SchemaError",
    "StoreError",
    "__version__",
]
