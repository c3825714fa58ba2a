"""Build-time code for AWS: what is deployed (units), the template, the Lambda layers and function packages, the
lock file subsets and the generated configuration reference. Entry point: ``python infra/build.py``."""
