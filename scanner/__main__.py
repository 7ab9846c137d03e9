from scanner.cli import entrypoint

entrypoint()
