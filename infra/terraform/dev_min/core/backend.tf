# Remote state (seed 8.2): S3, encrypted, locked in DynamoDB, versioned bucket. The bucket and lock table
# are created by this very stack, so the first apply runs with local state (see bootstrap.sh) and the
# state is then migrated here. Bucket, table and region come from `-backend-config=backend.hcl`.
terraform {
  backend "s3" {
    key     = "dev_min/core/terraform.tfstate"
    encrypt = true
  }
}
