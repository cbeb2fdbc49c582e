variable "region" {
  description = "AWS region (seed 8.3 default: London)."
  type        = string
  default     = "eu-west-2"
}

variable "owner" {
  description = "Value of the owner tag on every resource."
  type        = string
  default     = "esosa"
}

variable "expires_at" {
  description = "Teardown reminder tag, YYYY-MM-DD."
  type        = string

  validation {
    condition     = can(regex("^\\d{4}-\\d{2}-\\d{2}$", var.expires_at))
    error_message = "expires_at must be a date YYYY-MM-DD."
  }
}

variable "gbp_to_usd_rate" {
  description = "USD per GBP used to express the GBP 30 cap in USD (AWS Budgets accepts USD only)."
  type        = number
  default     = 1.27
}

variable "budget_limit_gbp" {
  description = "Monthly cap in GBP (seed B.1)."
  type        = number
  default     = 30
}

variable "budget_alert_emails" {
  description = "Who receives the budget alerts."
  type        = list(string)
}

variable "service_identity_name" {
  description = "IAM role the local platform assumes (no long-lived keys are created by Terraform)."
  type        = string
  default     = "fraud-platform-dev-min-service"
}

variable "operator_principal_arn" {
  description = "The one IAM principal (the operator) allowed to assume the service role."
  type        = string
}
