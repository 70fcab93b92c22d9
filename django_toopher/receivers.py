"""Signal receivers that turn a login into a pending login."""
