terraform {
  required_version = ">= 1.6.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 6.0"
    }
    confluent = {
      source  = "confluentinc/confluent"
      version = ">= 2.0, < 3.0"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.6, < 4.0"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}

# Cloud API key/secret come from CONFLUENT_CLOUD_API_KEY / CONFLUENT_CLOUD_API_SECRET in the
# operator's environment; never from files in git.
provider "confluent" {}
