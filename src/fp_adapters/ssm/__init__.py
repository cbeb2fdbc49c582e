"""AWS SSM Parameter Store (boto3): SecureString secrets, resolved at start-up."""
