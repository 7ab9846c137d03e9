"""Terraform: HCL root modules evaluated statically, and plan JSON.

One artifact per root module; its resources come from the root and every local module it
calls (`source = "./modules/x"`), addressed as Terraform does (`module.net.aws_vpc.this`).
Known statically: variables (caller inputs, `terraform.tfvars`, `*.auto.tfvars`, defaults),
locals, interpolation, the functions in `functions.FUNCTIONS`, `count`/`for_each` over known
collections, other resources' known arguments and `aws_iam_policy_document` JSON. Everything
else is `UNKNOWN`. Remote modules are never downloaded; each becomes a note (IDP052).
A directory that another scanned module calls is evaluated only through its caller (the
input kind's `prune`), so its resources are reported once, under their module address.

Modules, in the order a root is read:
- `hcl`: the HCL parser and syntax-tree helpers;
- `values`, `functions`, `operators`, `expressions`: static evaluation of expressions;
- `conform`: a variable's value conformed to its declared type;
- `files`: a module directory's `.tf` files parsed into blocks, with their URIs and lines;
- `tfvars`: the variable values a root is given;
- `modules`: one evaluated module instance (what names mean inside it);
- `loader`: a root module and its local modules evaluated into one artifact;
- `reads`: what a root reads (module directories, files), found before parsing;
- `duplicates`: attributes set twice (IDP010);
- `plan`: Terraform plan JSON (`terraform show -json`).
"""
