output "cluster_id" {
  description = "Kafka cluster identity, recorded in the run evidence."
  value       = confluent_kafka_cluster.demo.id
}

output "bootstrap" {
  value     = trimprefix(confluent_kafka_cluster.demo.bootstrap_endpoint, "SASL_SSL://")
  sensitive = true
}

output "app_api_key" {
  value     = confluent_api_key.app.id
  sensitive = true
}

output "app_api_secret" {
  value     = confluent_api_key.app.secret
  sensitive = true
}

output "ssm_parameters" {
  value = [for p in aws_ssm_parameter.confluent : p.name]
}

output "topic_map" {
  description = "Appendix C topic -> the topic created on the cluster (the run's topic map)."
  value       = { for name, t in confluent_kafka_topic.this : name => t.topic_name }
}
