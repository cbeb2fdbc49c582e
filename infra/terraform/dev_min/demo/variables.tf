variable "region" {
  type    = string
  default = "eu-west-2"
}

variable "owner" {
  type    = string
  default = "esosa"
}

variable "expires_at" {
  description = "Teardown reminder tag, YYYY-MM-DD."
  type        = string

  validation {
    condition     = can(regex("^\\d{4}-\\d{2}-\\d{2}$", var.expires_at))
    error_message = "expires_at must be a date YYYY-MM-DD."
  }
}

variable "confluent_cloud" {
  description = "Cloud hosting the Confluent cluster (same region as the platform's AWS resources)."
  type        = string
  default     = "AWS"
}

variable "ssm_prefix" {
  type    = string
  default = "/fraud-platform/dev_min/confluent"
}
