"""The request conventions of API.md §7: rate limits and idempotency keys."""
