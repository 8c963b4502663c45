"""``--data-dir``, taken before the subcommand (``reviews --data-dir D search …``, as
``git -C`` is) or after it. The folder comes from the subcommand's option, else the
group's, else ``$REVIEWS_DATA``, else the per-user data folder (that last one is
:func:`archive.config.data_dir`'s)."""
from __future__ import annotations

from pathlib import Path

import click
from click.core import ParameterSource

from archive.config import ENV_VAR

_HELP = f"Archive folder (default: ${ENV_VAR}, else the per-user data folder)."
_PATH = click.Path(file_okay=False, path_type=Path)


def _group_value(ctx: click.Context, param, value):
    ctx.meta["group_data_dir"] = value
    return value


def _command_value(ctx: click.Context, param, value):
    """The subcommand's own ``--data-dir``, else the group's, else the environment's.
    Kept in ``ctx.meta`` for an error message that has no path of its own."""
    given = ctx.get_parameter_source(param.name) == ParameterSource.COMMANDLINE
    if not given and ctx.meta.get("group_data_dir") is not None:
        value = ctx.meta["group_data_dir"]
    ctx.meta["data_dir"] = value
    return value


def group_data_dir_option(f):
    """``--data-dir`` of the group (``reviews --data-dir D COMMAND``)."""
    return click.option("--data-dir", type=_PATH, callback=_group_value, expose_value=False,
                        help=_HELP + " Also accepted after the command, where it wins.")(f)


def data_dir_option(f):
    """``--data-dir`` of a subcommand (it wins over the group's)."""
    return click.option("--data-dir", type=_PATH, envvar=ENV_VAR, callback=_command_value,
                        help=_HELP)(f)
