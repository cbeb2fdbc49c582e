output "bucket_map" {
  description = "Top-level prefix -> bucket, the `objects.buckets` of config/dev_min.yaml."
  value       = { for k, b in aws_s3_bucket.this : k => b.bucket if k != "tfstate" }
}

output "state_bucket" {
  value = aws_s3_bucket.this["tfstate"].bucket
}

output "lock_table" {
  value = aws_dynamodb_table.tf_lock.name
}

output "quarantine_table" {
  value = aws_dynamodb_table.quarantine_index.name
}

output "budget_limit_usd" {
  value = aws_budgets_budget.monthly.limit_amount
}

output "service_role_arn" {
  description = "Assume this role (e.g. an AWS profile with role_arn) to run the platform on dev_min."
  value       = aws_iam_role.service.arn
}

output "region" {
  description = "AWS region of every core resource (the run's objects.region and aws.region)."
  value       = var.region
}
