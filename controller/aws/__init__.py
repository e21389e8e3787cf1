"""AWS access: sessions with retries and call counting (`session`), ownership tags (`tags`)."""
