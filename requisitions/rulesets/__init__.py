"""Shipped BEON rule-set documents (JSON), read by ``requisitions.beon.default_ruleset``."""
