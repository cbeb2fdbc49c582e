# Remote state in the core stack's bucket; separate key (seed 8.2). Bucket, lock table and region come
# from `-backend-config=backend.hcl` (written by `fp dev-min up` from the core outputs).
terraform {
  backend "s3" {
    key     = "dev_min/demo/terraform.tfstate"
    encrypt = true
  }
}
