"""CDK cloud assemblies (`cdk.out`): each stack template a CloudFormation artifact, with what CDK knows.

Modules:
- `assembly`: claims a `cdk.out` and walks its manifests (Stages, stacks, nested stacks, the
  validation report) into artifacts;
- `templates`: a synthesized template read fast as JSON with its lines; the paths CDK adds itself;
- `metadata`: a stack's metadata read into construct paths, source frames and acknowledgements;
- `sources`: stack frames parsed and found again in the repository;
- `stacks`: where a stack is declared and where its tags are recorded;
- `suppressions`: cdk-nag and `acknowledge` waivers written in CDK code;
- `framework`: the resources CDK adds for its own machinery, and the findings only CDK can change.

After the engines, `scanner.findings.source_lines` places findings on the source lines recorded here.
"""
