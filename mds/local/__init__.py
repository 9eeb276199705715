"""The local stack behind ``mds local up`` (``make run``): moto with a journal, the template's
tables/buckets/queues, the Chalice app, an SQS worker, the scheduler and a CDN emulator.

Nothing here is Lambda code; see ``docs/local-stack.md``.
"""
