"""Entry point: registers every command on the app and runs it."""

from __future__ import annotations

import importlib

from fpstat.cli.app import app, register

#: command name -> (module, function). One module per command.
COMMANDS: dict[str, tuple[str, str]] = {
    "sample": ("fpstat.cli.sample", "sample"),
    "validate": ("fpstat.cli.validate", "validate"),
    "reconcile": ("fpstat.cli.reconcile", "reconcile"),
    "estimate": ("fpstat.cli.estimate", "estimate"),
    "indicators": ("fpstat.cli.indicators", "indicators"),
    "audit": ("fpstat.cli.audit", "audit"),
    "run": ("fpstat.cli.run", "run"),
    "check": ("fpstat.cli.run", "check"),
}


def _register_all() -> None:
    for name, (module_name, function_name) in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue  # command not built yet
        register(name, getattr(module, function_name))


_register_all()


def main() -> None:
    app(prog_name="fpstat")
