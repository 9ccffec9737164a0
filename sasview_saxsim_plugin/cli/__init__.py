"""``saxsim``: the command line (thin adapters over the library).

``main`` parses and runs a command; ``build_parser`` gives the parser (the docs' CLI
reference is generated from it)."""

from .commands import build_parser, main

__all__ = ["build_parser", "main"]
