# The identity the platform runs as on the operator's machine: a role only the operator may assume,
# with S3 on the project buckets, SSM on the dev_min path, DynamoDB on the two tables. No wildcard
# actions, no "*" resources, no long-lived access keys.
data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = [var.operator_principal_arn]
    }
  }
}

resource "aws_iam_role" "service" {
  name                 = var.service_identity_name
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  max_session_duration = 3600 * 4
}

data "aws_iam_policy_document" "service" {
  statement {
    sid       = "ProjectBucketsList"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [for b in aws_s3_bucket.this : b.arn if b.bucket != aws_s3_bucket.this["tfstate"].bucket]
  }
  statement {
    sid       = "ProjectObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
    resources = [for k, b in aws_s3_bucket.this : "${b.arn}/*" if k != "tfstate"]
  }
  statement {
    sid     = "DevMinParameters"
    actions = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"]
    resources = [
      "arn:aws:ssm:${var.region}:${data.aws_caller_identity.current.account_id}:parameter/fraud-platform/dev_min/*",
    ]
  }
  statement {
    sid       = "DecryptSecureStringsViaSsm"
    actions   = ["kms:Decrypt"]
    resources = ["arn:aws:kms:${var.region}:${data.aws_caller_identity.current.account_id}:alias/aws/ssm"]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["ssm.${var.region}.amazonaws.com"]
    }
  }
  statement {
    sid       = "QuarantineIndex"
    actions   = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:DescribeTable"]
    resources = [aws_dynamodb_table.quarantine_index.arn, aws_dynamodb_table.tf_lock.arn]
  }
}

resource "aws_iam_policy" "service" {
  name   = "${var.service_identity_name}-policy"
  policy = data.aws_iam_policy_document.service.json
}

resource "aws_iam_role_policy_attachment" "service" {
  role       = aws_iam_role.service.name
  policy_arn = aws_iam_policy.service.arn
}
