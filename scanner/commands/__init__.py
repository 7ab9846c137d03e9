"""The commands `scanner.cli` dispatches to, one module each, and the options they share
(`options`). Only these modules and the CLI import `scanner.pipeline`."""
