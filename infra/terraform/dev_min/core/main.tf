data "aws_caller_identity" "current" {}

locals {
  project = "fraud-platform"
  env     = "dev_min"
  tags = {
    project    = local.project
    env        = local.env
    owner      = var.owner
    expires_at = var.expires_at
  }
  # Globally unique by account id + region (seed 8.3).
  name_root = "${local.project}-dev-min-${data.aws_caller_identity.current.account_id}-${var.region}"

  # prefix -> days until expiry (null = never), seed 14.3 / B.4.
  data_buckets = {
    oracle     = 14
    archive    = 60
    quarantine = 30
    evidence   = null
  }
  versioned = toset(["evidence", "tfstate"])
  buckets   = merge({ for k, v in local.data_buckets : k => v }, { tfstate = null })
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_144:cross-region replication doubles storage cost on a GBP 30/month budget
  #checkov:skip=CKV_AWS_18:access logs need a second log bucket; not worth the cost for a single-operator demo
  #checkov:skip=CKV2_AWS_62:no consumer exists for bucket event notifications
  #checkov:skip=CKV_AWS_21:versioning is on for evidence and tfstate; oracle/archive/quarantine are expiring, regenerable data
  #checkov:skip=CKV_AWS_145:SSE-S3 (AES256) instead of a KMS CMK, which costs USD 1/month per key plus requests
  for_each = local.buckets
  bucket   = "${local.name_root}-${each.key}"
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each                = aws_s3_bucket.this
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  versioning_configuration {
    status = contains(local.versioned, each.key) ? "Enabled" : "Suspended"
  }
}

# Expiry on a versioned bucket only adds delete markers: noncurrent versions are expired too, and
# incomplete multipart uploads aborted, so storage is really freed.
resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each   = aws_s3_bucket.this
  bucket     = each.value.id
  depends_on = [aws_s3_bucket_versioning.this]

  rule {
    id     = "expire-${each.key}"
    status = "Enabled"
    filter {
      prefix = each.key == "tfstate" ? "" : "${each.key}/"
    }
    dynamic "expiration" {
      for_each = local.buckets[each.key] == null ? [] : [local.buckets[each.key]]
      content {
        days = expiration.value
      }
    }
    noncurrent_version_expiration {
      noncurrent_days = each.key == "tfstate" ? 90 : 30
    }
  }

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_dynamodb_table" "tf_lock" {
  #checkov:skip=CKV_AWS_28:point-in-time recovery is pointless for lock rows that live seconds
  #checkov:skip=CKV_AWS_119:AWS-owned key encryption is on by default; a CMK costs money for lock rows
  name         = "${local.project}-dev-min-tf-lock"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "LockID"
  attribute {
    name = "LockID"
    type = "S"
  }
  server_side_encryption {
    enabled = true
  }
}

resource "aws_dynamodb_table" "quarantine_index" {
  #checkov:skip=CKV_AWS_119:AWS-owned key encryption is on by default; a CMK costs USD 1/month
  name         = "quarantine_index"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  range_key    = "sk"
  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }
  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled = true
  }
}

# Activate the project tag for cost allocation, so Cost Explorer can attribute the platform's share of the
# spend. Activation takes up to 24 hours and never applies to earlier spend; the budget above does not
# depend on it.
resource "aws_ce_cost_allocation_tag" "project" {
  tag_key = "project"
  status  = "Active"
}

resource "aws_budgets_budget" "monthly" {
  name         = "${local.project}-dev-min-monthly"
  budget_type  = "COST"
  limit_unit   = "USD"
  limit_amount = format("%.2f", var.budget_limit_gbp * var.gbp_to_usd_rate)
  time_unit    = "MONTHLY"

  # No cost filter: the budget counts all spend of the account, so nothing escapes it for want of a tag
  # (a tag filter counts only spend tagged after the tag is activated for billing; see D19).

  # GBP 10 / 20 / 28 of GBP 30, as percentages so they hold whatever the exchange rate.
  dynamic "notification" {
    for_each = [33.3, 66.7, 93.3]
    content {
      comparison_operator        = "GREATER_THAN"
      threshold                  = notification.value
      threshold_type             = "PERCENTAGE"
      notification_type          = "ACTUAL"
      subscriber_email_addresses = var.budget_alert_emails
    }
  }
}
