"""One handler per AWS resource kind: the only code that calls boto3 (contract in `base`)."""
