"""One module per ``gpuplan`` subcommand; each exposes ``register(subparsers)``."""
