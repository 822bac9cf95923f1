"""Pure Python: entities, rules, errors and the ports storage adapters implement. No I/O."""
