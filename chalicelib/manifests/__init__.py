"""Static delivery: publishing signed manifests to the CDN bucket, and reading them back."""
