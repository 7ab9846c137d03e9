"""Benchmarks: a scalable corpus generator and a runner timing idp-scan against checkov and cfn-lint."""
