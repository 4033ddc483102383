"""Pure bookkeeping of state: counters in time buckets and the state machines' documents."""
