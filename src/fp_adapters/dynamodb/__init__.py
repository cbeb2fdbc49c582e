"""AWS DynamoDB (boto3): the dev_min quarantine index with conditional, never-overwriting writes."""
