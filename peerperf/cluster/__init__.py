"""Everything that touches Ray: runtime connection, actor wrappers, placement and orchestration."""
