"""``cog.BaseModel``: structured outputs as plain dataclasses (no pydantic needed)."""
import dataclasses


class BaseModel:
    """Subclasses become dataclasses automatically; pass ``auto_dataclass=False`` to opt out."""

    def __init_subclass__(cls, auto_dataclass: bool = True, **kwargs):
        super().__init_subclass__(**kwargs)
        if auto_dataclass:
            dataclasses.dataclass(cls)


__all__ = ["BaseModel"]
