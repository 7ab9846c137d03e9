"""idp-scan: the compliance gate of an AWS Internal Developer Platform.

Importing this package is cheap on purpose: engines (checkov, cfn-lint) are imported only
when a run needs them.
"""

__version__ = "0.1.0"
