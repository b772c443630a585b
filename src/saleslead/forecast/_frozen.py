"""The base of the forecast's request and result models."""

from pydantic import BaseModel, ConfigDict

__all__ = ["Frozen"]


class Frozen(BaseModel):
    """Frozen, and refusing NaN and infinity (an Infinity amount is refused, never stored)."""

    model_config = ConfigDict(frozen=True, allow_inf_nan=False)
