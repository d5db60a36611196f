"""The mesh executor: algorithms run under `shard_map` across (stage, data) devices."""
