"""``from_preset`` written once for every model class."""
import dataclasses

from kerasllm.errors import ConfigError
from kerasllm.presets import load_preset


class PresetMixin:
    """Adds ``Cls.from_preset(name, **overrides)``.

    Overrides naming a field of the preset's model config (``BertConfig`` /
    ``LSTMConfig``) change the architecture; the others go to the class's own
    constructor (e.g. ``num_classes`` for a classifier). Subclasses set
    ``preset_family`` and implement ``_from_model_config(model_kwargs, **kwargs)``.
    """

    preset_family = "bert"

    @classmethod
    def from_preset(cls, name, **overrides):
        """A freshly initialised model built from preset ``name`` (or a YAML path)."""
        probe = load_preset(name)
        if probe.family != cls.preset_family:
            raise ConfigError(
                f"{cls.__name__} needs a {cls.preset_family} preset, received {name!r} "
                f"(family {probe.family}); choose one of the {cls.preset_family}_* presets.")
        fields = {f.name for f in dataclasses.fields(probe.model)}
        model_overrides = {k: v for k, v in overrides.items() if k in fields}
        own_kwargs = {k: v for k, v in overrides.items() if k not in fields}
        preset = load_preset(name, **model_overrides)
        return cls._from_model_config(dataclasses.asdict(preset.model), **own_kwargs)

    @classmethod
    def _from_model_config(cls, model_kwargs, **kwargs):
        raise NotImplementedError
