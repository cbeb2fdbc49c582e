locals {
  tags = {
    project    = "fraud-platform"
    env        = "dev_min"
    owner      = var.owner
    expires_at = var.expires_at
  }
  # The topic map of seed Appendix C; tests assert it equals fp_core.topics.TOPIC_MAP.
  topics = { for t in jsondecode(file("${path.module}/topics.json")) : t.name => t }
}

resource "confluent_environment" "demo" {
  display_name = "fraud-platform-dev-min"
}

# Basic: the cheapest cluster type, billed by the hour only while it exists (seed 17.2, B.1).
resource "confluent_kafka_cluster" "demo" {
  display_name = "fraud-platform-dev-min"
  availability = "SINGLE_ZONE"
  cloud        = var.confluent_cloud
  region       = var.region
  basic {}
  environment {
    id = confluent_environment.demo.id
  }
}

# On a Basic cluster topics and ACLs are managed with a separate cluster-admin key; the application's own
# key (below) is the only one handed to the platform.
resource "confluent_service_account" "admin" {
  display_name = "fraud-platform-dev-min-admin"
  description  = "Creates topics and ACLs for the dev_min demo"
}

resource "confluent_role_binding" "admin" {
  principal   = "User:${confluent_service_account.admin.id}"
  role_name   = "CloudClusterAdmin"
  crn_pattern = confluent_kafka_cluster.demo.rbac_crn
}

resource "confluent_api_key" "admin" {
  display_name = "fraud-platform-dev-min-admin"
  owner {
    id          = confluent_service_account.admin.id
    api_version = confluent_service_account.admin.api_version
    kind        = confluent_service_account.admin.kind
  }
  managed_resource {
    id          = confluent_kafka_cluster.demo.id
    api_version = confluent_kafka_cluster.demo.api_version
    kind        = confluent_kafka_cluster.demo.kind
    environment {
      id = confluent_environment.demo.id
    }
  }
  depends_on = [confluent_role_binding.admin]
}

resource "confluent_service_account" "app" {
  display_name = "fraud-platform-dev-min-app"
  description  = "The platform's runtime identity on the demo cluster"
}

resource "confluent_api_key" "app" {
  display_name = "fraud-platform-dev-min-app"
  owner {
    id          = confluent_service_account.app.id
    api_version = confluent_service_account.app.api_version
    kind        = confluent_service_account.app.kind
  }
  managed_resource {
    id          = confluent_kafka_cluster.demo.id
    api_version = confluent_kafka_cluster.demo.api_version
    kind        = confluent_kafka_cluster.demo.kind
    environment {
      id = confluent_environment.demo.id
    }
  }
}

resource "confluent_kafka_topic" "this" {
  for_each         = local.topics
  topic_name       = each.key
  partitions_count = each.value.partitions
  rest_endpoint    = confluent_kafka_cluster.demo.rest_endpoint
  config = {
    "cleanup.policy" = each.value.cleanup_policy
    "retention.ms"   = tostring(each.value.retention_ms)
  }
  kafka_cluster {
    id = confluent_kafka_cluster.demo.id
  }
  credentials {
    key    = confluent_api_key.admin.id
    secret = confluent_api_key.admin.secret
  }
}

locals {
  topic_acls = merge([
    for name in keys(local.topics) : {
      for op in ["READ", "WRITE", "DESCRIBE"] : "${name}/${op}" => { topic = name, operation = op }
    }
  ]...)
}

resource "confluent_kafka_acl" "topics" {
  for_each      = local.topic_acls
  resource_type = "TOPIC"
  resource_name = each.value.topic
  pattern_type  = "LITERAL"
  principal     = "User:${confluent_service_account.app.id}"
  host          = "*"
  operation     = each.value.operation
  permission    = "ALLOW"
  rest_endpoint = confluent_kafka_cluster.demo.rest_endpoint
  kafka_cluster {
    id = confluent_kafka_cluster.demo.id
  }
  credentials {
    key    = confluent_api_key.admin.id
    secret = confluent_api_key.admin.secret
  }
  depends_on = [confluent_kafka_topic.this]
}

# Consumer groups of the platform (fp-rtdl, fp-cm, fp-archive, probes): READ on the fp- prefix.
resource "confluent_kafka_acl" "groups" {
  resource_type = "GROUP"
  resource_name = "fp-"
  pattern_type  = "PREFIXED"
  principal     = "User:${confluent_service_account.app.id}"
  host          = "*"
  operation     = "READ"
  permission    = "ALLOW"
  rest_endpoint = confluent_kafka_cluster.demo.rest_endpoint
  kafka_cluster {
    id = confluent_kafka_cluster.demo.id
  }
  credentials {
    key    = confluent_api_key.admin.id
    secret = confluent_api_key.admin.secret
  }
}

# Connection material for the platform (seed 8.5): SecureString, removed when this stack is destroyed.
resource "aws_ssm_parameter" "confluent" {
  #checkov:skip=CKV_AWS_337:the AWS-managed aws/ssm key is used; a CMK costs USD 1/month for three parameters
  for_each = {
    bootstrap  = trimprefix(confluent_kafka_cluster.demo.bootstrap_endpoint, "SASL_SSL://")
    api_key    = confluent_api_key.app.id
    api_secret = confluent_api_key.app.secret
  }
  name  = "${var.ssm_prefix}/${each.key}"
  type  = "SecureString"
  value = each.value
}

# The HTTP ingress's API key for WSP (`fp-ig serve` resolves producer keys from SSM in dev_min).
resource "random_password" "ingress_wsp" {
  length  = 43
  special = false
}

resource "aws_ssm_parameter" "ingress_wsp" {
  #checkov:skip=CKV_AWS_337:the AWS-managed aws/ssm key is used; a CMK costs USD 1/month
  name  = "/fraud-platform/dev_min/ingress/wsp"
  type  = "SecureString"
  value = random_password.ingress_wsp.result
}
