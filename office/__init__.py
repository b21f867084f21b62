"""The center's office (市审批办): the live monitor, statistics and assessment, and the hall's
management while it runs (art. 6, 23-24). Pages of the hub, for supervisors and admins."""
