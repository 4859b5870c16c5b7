"""What data-parallel training needs from torch.distributed (collectives, FSDP sharding), below agents and
training alike: agents say which modules are FSDP units, training applies the sharding, both read the rank."""
