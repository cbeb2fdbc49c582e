"""S3 (boto3): the object store behind oracle/, archive/, quarantine/ and evidence/."""
