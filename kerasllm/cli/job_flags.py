"""Click options built from a job's options dataclass (``kerasllm.training.options``).

Each field becomes one flag with the field's default, help and constraints, so a default
lives in one place. ``--config FILE`` (YAML, read by ``JobOptions.read_config``) becomes
click's default_map, so flags given on the command line win. ``job_command`` returns the
click command that checks the options (``validate`` and the CLI's quick file checks) and
runs the job.
"""
import dataclasses
import functools
import sys

import click

from kerasllm.errors import KerasLLMError
from kerasllm.training.option_fields import bounds, flag, kind
from kerasllm.training.options import CommonOptions


def _click_type(cls, field):
    m = field.metadata
    if m["choices"]:
        return click.Choice(m["choices"])
    if m["path"]:
        return click.Path(file_okay=m["path"] != "dir", dir_okay=m["path"] != "file")
    value_type = str if m["multiple"] else kind(cls, field)
    low, high, low_open, high_open = bounds(field)
    if value_type is int:
        return click.IntRange(low, high, min_open=low_open, max_open=high_open) \
            if (low, high) != (None, None) else int
    if value_type is float:
        return click.FloatRange(low, high, min_open=low_open, max_open=high_open)
    return None


def _click_option(cls, field):
    m = field.metadata
    shown = field.default not in (None, ()) and "[default:" not in m["help"] and not m["is_flag"]
    settings = dict(default=field.default if not m["multiple"] else None, help=m["help"] or None,
                    required=m["required"], show_default=shown, multiple=m["multiple"])
    if kind(cls, field) is bool and not m["is_flag"]:
        return click.option(f"{flag(field)}/--no-{flag(field)[2:]}", field.name, **settings)
    if m["is_flag"]:
        return click.option(flag(field), field.name, is_flag=True, **settings)
    return click.option(flag(field), field.name, type=_click_type(cls, field), **settings)


def _load_config(options_class, ctx, param, value):
    """Eager --config callback: the YAML becomes click's default_map, so flags win."""
    if value:
        try:
            defaults = options_class.read_config(value)
        except KerasLLMError as err:
            raise click.ClickException(str(err)) from None
        ctx.default_map = {**(ctx.default_map or {}), **defaults}
    return value


def _flags(options_class):
    """The job's own options first, then the shared ones, then --config (as the help lists them)."""
    common = {field.name for field in dataclasses.fields(CommonOptions)}
    fields = dataclasses.fields(options_class)
    ordered = [f for f in fields if f.name not in common] + [f for f in fields if f.name in common]
    flags = [_click_option(options_class, field) for field in ordered]
    flags.append(click.option(
        "--config", type=click.Path(dir_okay=False), is_eager=True, expose_value=True,
        callback=functools.partial(_load_config, options_class),
        help="YAML file setting any of these options; flags override it."))
    return flags


def job_command(name, options_class, checks):
    """A click command for ``options_class``; its docstring is the decorated function's.
    ``checks(options)`` runs the CLI's quick checks (paths, run kinds) before TensorFlow."""
    def decorate(func):
        def run(**values):
            values.pop("config", None)
            try:
                options = options_class(**values).validate()
                checks(options)
                options.run()
            except KerasLLMError as err:
                if getattr(err, "exit_code", None):  # TrainingInterrupted: checkpointed, restartable
                    click.echo(str(err), err=True)
                    sys.exit(err.exit_code)
                raise click.ClickException(str(err)) from None

        functools.update_wrapper(run, func)
        for option in reversed(_flags(options_class)):
            run = option(run)
        return click.command(name)(run)
    return decorate
