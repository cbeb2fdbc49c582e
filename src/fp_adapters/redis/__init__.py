"""Redis (redis-py): the join plane (CSFB) and online counters (OFP), pipelined."""
