"""Pure desired-state model: a spec plus the discovered network -> a Stack of desired resources."""
